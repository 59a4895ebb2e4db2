"""Browser tests: the web app in Debian's headless Chromium, driven by
Playwright, against the whole running system (SQLite only)."""
import itertools
import re
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from tests.conftest import make_lead
from tests.support.people import unique_mobile

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "dealerflow-demo"
PHONE = {"width": 375, "height": 667}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="session")
def backend():
    """Browser tests run on SQLite alone (the API is tested on both elsewhere)."""
    return "sqlite"


@pytest.fixture(scope="session")
def chromium():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory):
    """Where every test leaves its screenshots (docs/screenshots/ holds a few)."""
    return tmp_path_factory.mktemp("screenshots")


# an assertion waits as long as an action does: on two busy cores a page can take seconds
expect.set_options(timeout=20_000)


@pytest.fixture
def open_app(chromium, stack):
    """``open_app(viewport=PHONE, locale="zh-CN")`` -> a page in a fresh
    browser context (its own storage). The test fails if a page throws or
    anything is fetched from another origin (no CDN)."""
    contexts, problems = [], []

    def open_(viewport=PHONE, locale="zh-CN"):
        context = chromium.new_context(viewport=viewport, locale=locale, timezone_id="Asia/Shanghai")
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        own = urlsplit(stack.url).netloc

        def elsewhere(request):  # what the page's CSP stops (Redoc's logo) never leaves
            if urlsplit(request.url).netloc not in ("", own) and request.failure != "csp":
                problems.append(f"fetched from elsewhere: {request.url}")
        page.on("requestfinished", elsewhere)
        page.on("requestfailed", elsewhere)
        page.set_default_timeout(20_000)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert problems == []


def sign_in(page, stack, username: str) -> None:
    page.goto(f"{stack.url}/signin")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{stack.url}/")
    page.wait_for_selector(".cards", state="attached")
    # the bar has read the inbox's count: a test that ends the session next meets no read still in flight
    page.wait_for_selector("[data-inbox][data-unread-known]", state="attached")


def api_token(stack, username: str) -> str:
    answer = requests.post(f"{stack.url}/v1/auth/token", json={"username": username, "password": PASSWORD},
                           timeout=10)
    answer.raise_for_status()
    return answer.json()["access_token"]


def staff_get(stack, token: str, path: str) -> requests.Response:
    return requests.get(f"{stack.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10)


# Each test's customers: a stack lives for one module, so names need only be unique within it.
CHINESE_NAMES = iter(["王磊", "李娜", "张伟", "刘洋", "陈静", "杨帆", "赵敏", "黄涛", "周婷", "吴昊",
                      "徐丽", "孙强", "马超", "朱琳", "胡斌", "郭晶", "何勇", "林峰", "高原", "罗欣"])
LATIN_NAMES = iter(["Li Na", "Zhang Wei", "Chen Jing", "Yang Fan", "Zhao Min", "Huang Tao",
                    "Zhou Ting", "Wu Hao", "Xu Li", "Sun Qiang"])
MODELS = itertools.cycle([("BYD", "Han EV"), ("Li Auto", "L7"), ("NIO", "ET5"), ("XPeng", "G6"),
                          ("Tesla", "Model Y"), ("Geely", "Galaxy E5")])


def lead_for(stack, name: str, phone: str | None = None, store: str = "SH-PUDONG", **overrides) -> dict:
    """A platform's lead with this customer name (and a phone of its own)."""
    lead = make_lead(store_code=store, **overrides)
    lead["customer"] = {"name": name, "phone": phone or unique_mobile(), "city": "Shanghai"}
    brand, model = next(MODELS)
    lead["interest"] = {**lead["interest"], "brand": brand, "model": model}
    return lead


def post(stack, lead: dict) -> str:
    key = stack.sh_key if lead["store_code"] == "SH-PUDONG" else stack.bj_key
    answer = stack.post_lead(lead, key=key)
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
