"""Staff sign in and work their leads: the web app in headless Chromium
against the whole running system. Screenshots (zh-CN and English, phone
and desktop) go to the session's ``screenshots`` directory."""
import json
import re
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import (
    CHINESE_NAMES,
    DESKTOP,
    HAN,
    LATIN_NAMES,
    PASSWORD,
    PHONE,
    api_token,
    lead_for,
    post,
    sign_in,
    staff_get,
    unique_mobile,
)
from tests.support.waiting import eventually

pytestmark = pytest.mark.browser

I18N = Path(__file__).resolve().parents[2] / "services" / "gateway" / "web" / "static" / "i18n"


def messages(language: str) -> list[str]:
    def leaves(tree):
        for value in tree.values():
            yield from leaves(value) if isinstance(value, dict) else (value,)
    text = (I18N / f"{language}.js").read_text()
    return list(leaves(json.loads(text.split("export default", 1)[1].strip().rstrip(";"))))


def as_pattern(message: str) -> re.Pattern:
    parts = re.split(r"\{\w+\}", message)
    return re.compile("^" + ".+".join(re.escape(part) for part in parts) + "$")


# English labels that must not be left on a page in Chinese (those the same in both are not labels).
ENGLISH_LABELS = [as_pattern(text) for text in set(messages("en")) - set(messages("zh-CN"))]

VISIBLE_TEXTS = """() => {
  // each piece of text a user sees or hears: text leaves (card lines split
  // at " · "), placeholders, aria-labels and titles; not the language switch,
  // which names the other language in that language (and says so with lang)
  const root = document.querySelector("#app").cloneNode(true);
  root.querySelectorAll("[lang]").forEach((element) => element.remove());
  const texts = [];
  for (const element of root.querySelectorAll("*")) {
    for (const name of ["placeholder", "aria-label", "title"]) {
      if (element.getAttribute(name)) texts.push(element.getAttribute(name));
    }
    for (const node of element.childNodes) {
      if (node.nodeType === Node.TEXT_NODE && node.textContent.trim()) {
        texts.push(...node.textContent.split(" · ").map((piece) => piece.trim()).filter(Boolean));
      }
    }
  }
  return texts;
}"""


def english_left(page) -> list[str]:
    return [text for text in page.evaluate(VISIBLE_TEXTS)
            if any(pattern.match(text) for pattern in ENGLISH_LABELS)]


def chinese_left(page) -> list[str]:
    return [text for text in page.evaluate(VISIBLE_TEXTS) if HAN.search(text)]


def card(page, name: str):
    return page.locator(".card", has_text=name)


def assigned_to(stack, token: str, lead_id: str) -> str | None:
    answer = staff_get(stack, token, f"/v1/leads/{lead_id}")
    return answer.status_code == 200 and (answer.json().get("consultant") or {}).get("id")


def post_until_assigned_to(stack, consultant: str, make_lead, tries: int = 6) -> dict:
    """Post leads for ``consultant``'s store until one is assigned to them
    (routing decides, not the test); the lead assigned to them."""
    manager = api_token(stack, "manager.sh")
    me = staff_get(stack, api_token(stack, consultant), "/v1/me").json()["id"]
    for _ in range(tries):
        lead = make_lead()
        lead_id = post(stack, lead)
        owner = eventually(lambda: assigned_to(stack, manager, lead_id), timeout=20,
                           message="the lead is assigned")
        if owner == me:
            return {**lead, "id": lead_id}
    raise AssertionError(f"no lead went to {consultant} in {tries} tries")


# A control's tap target: the control, or the label it sits in (a checkbox, a
# visually hidden file input under a label drawn as a button).
TOO_SMALL = """() => [...document.querySelectorAll("#app a, #app button, #app input, #app select")]
  .filter((element) => {
    const box = (element.closest("label") || element).getBoundingClientRect();
    return box.height < 48 || box.width < 48;
  })
  .map((element) => element.outerHTML.slice(0, 80))"""


def too_small(page) -> list[str]:
    """Controls under 48 px: too small to tap."""
    return page.evaluate(TOO_SMALL)


def shot(page, screenshots, name: str) -> None:
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)


# --- (1) a consultant's lead arrives live; they open it and can call ----------------

def test_a_new_lead_appears_live_and_its_page_calls_the_customer(stack, open_app, screenshots):
    page = open_app(PHONE, "zh-CN")
    sign_in(page, stack, "consultant.sh1")
    assert page.locator("h1").inner_text() == "我的线索"
    page.evaluate("window.notReloaded = true")

    # a new customer each try: a second lead of the same phone would join the first (duplicate intake)
    lead = post_until_assigned_to(stack, "consultant.sh1", lambda: lead_for(
        stack, next(CHINESE_NAMES), phone=unique_mobile()))
    phone = lead["customer"]["phone"]

    arrived = card(page, lead["customer"]["name"])
    arrived.wait_for()
    assert page.evaluate("window.notReloaded") is True
    assert arrived.locator(".chip--new").inner_text() == "新"
    assert re.fullmatch(r"剩 1[0-5]:\d\d", arrived.locator(".clock").inner_text())  # a 15-minute deadline
    assert f"{phone[:3]}****{phone[-4:]}" in arrived.inner_text()
    assert phone not in arrived.inner_text()  # the list shows it masked
    shot(page, screenshots, "leads-phone-zh-CN")
    assert too_small(page) == []

    for _ in range(25):  # by keyboard: Tab past the bar and its tabs to the card, Enter opens it
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('card')"):
            break
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"  # visible focus
    page.keyboard.press("Enter")
    call = page.locator("a[href^='tel:']")
    call.wait_for()
    assert call.get_attribute("href") in (f"tel:+86{phone}", f"tel:{phone}")
    assert call.inner_text() == f"拨打 {phone[:3]} {phone[3:7]} {phone[7:]}"
    assert page.locator("h1").inner_text() == lead["customer"]["name"]
    assert "Pudong Consultant 1" in page.locator(".lead-history").inner_text()
    assert too_small(page) == []
    shot(page, screenshots, "lead-phone-zh-CN")


# --- (2) a manager sees the store's leads, none of the other store's -----------------

def test_a_manager_sees_the_stores_leads_and_no_others(stack, open_app, screenshots):
    mine, theirs = next(CHINESE_NAMES), next(LATIN_NAMES)
    here = post(stack, lead_for(stack, mine))
    there = post(stack, lead_for(stack, theirs, store="BJ-CHAOYANG", comments="Call after 6 pm"))
    bj = api_token(stack, "manager.bj")
    eventually(lambda: staff_get(stack, bj, f"/v1/leads/{there}").status_code == 200, timeout=20,
               message="the Beijing lead is stored")

    page = open_app(DESKTOP, "en-US")
    sign_in(page, stack, "manager.sh")
    assert page.locator("h1").inner_text() == "Store leads"
    card(page, mine).wait_for()
    assert card(page, theirs).count() == 0
    assert "Beijing Chaoyang" not in page.locator(".cards").inner_text()
    shot(page, screenshots, "leads-desktop-en")

    page.fill("#lead-search", mine)  # filters: text, then status
    expect(page.locator(".card")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"\?q="))
    page.get_by_text("Filter by status, grade, stage").click()
    page.locator("[data-filter='status:accepted']").click()  # waiting for a consultant: none here
    expect(page).to_have_url(re.compile(r"status=accepted"))
    expect(page.locator(".card")).to_have_count(0)
    page.locator("[data-filter='status:accepted']").click()
    page.locator("[data-filter='status:assigned']").click()
    expect(page.locator(".card")).to_have_count(1)

    page.goto(f"{stack.url}/leads/{there}")  # even by its address
    page.locator(".problem").wait_for()
    assert "outside what you may see" in page.locator(".problem").inner_text()
    page.goto(f"{stack.url}/leads/{here}")
    page.locator("a[href^='tel:']").wait_for()
    shot(page, screenshots, "lead-desktop-en")


# --- (3) switching language changes every label ------------------------------------

def test_switching_language_changes_every_label(stack, open_app, screenshots):
    name = next(LATIN_NAMES)
    post(stack, lead_for(stack, name, store="BJ-CHAOYANG", comments="Weekend test drive"))

    page = open_app(PHONE, "zh-CN")
    page.goto(f"{stack.url}/signin")
    page.locator("#username").wait_for()
    assert english_left(page) == []
    page.get_by_role("button", name="English").click()
    assert page.locator("label[for=username]").inner_text() == "Username"
    assert chinese_left(page) == []
    page.get_by_role("button", name="中文").click()

    sign_in(page, stack, "manager.bj")
    card(page, name).wait_for()
    assert english_left(page) == []
    card(page, name).click()
    page.locator("a[href^='tel:']").wait_for()
    assert english_left(page) == []

    page.get_by_role("button", name="English").click()
    page.get_by_role("heading", name="History").wait_for()
    page.locator(".scripts[aria-busy=false]").wait_for()  # the scripts come again, in English
    assert chinese_left(page) == []
    assert re.search(r"[A-Z][a-z]{2} \d+, \d{4}", page.locator(".facts").last.inner_text())  # Intl, English
    shot(page, screenshots, "lead-phone-en")
    page.get_by_role("link", name="Back").click()
    card(page, name).wait_for()
    assert chinese_left(page) == []
    shot(page, screenshots, "leads-phone-en")

    page.reload()  # remembered
    card(page, name).wait_for()
    assert page.locator("h1").inner_text() == "Store leads"
    assert page.evaluate("document.documentElement.lang") == "en"


# --- (4) a lost connection: a banner, retries, and it clears -----------------------

def test_the_app_says_when_the_server_is_gone_and_recovers(stack, open_app, screenshots):
    page = open_app(PHONE, "zh-CN")
    sign_in(page, stack, "consultant.sh2")
    banner = page.locator(".banner__text")
    assert banner.count() == 0

    stack.kill("gateway")
    try:
        banner.wait_for()
        assert banner.inner_text() == "网络已断开，正在重试…"
        shot(page, screenshots, "offline-phone-zh-CN")
    finally:
        stack.start_process("gateway")
        stack.wait_ready()
    banner.wait_for(state="detached", timeout=45_000)

    # the stream is back: a new lead still arrives by itself
    lead = post_until_assigned_to(stack, "consultant.sh2", lambda: lead_for(stack, next(CHINESE_NAMES)))
    card(page, lead["customer"]["name"]).wait_for()


def test_the_browser_going_offline_shows_the_banner_until_it_is_back(stack, open_app):
    page = open_app(PHONE, "en-US")
    sign_in(page, stack, "consultant.sh3")
    page.context.set_offline(True)
    page.locator(".banner__text").wait_for()
    assert page.locator(".banner__text").inner_text() == "Connection lost. Retrying…"
    page.context.set_offline(False)
    page.locator(".banner__text").wait_for(state="detached")


# --- (5) signing in and out, and a session that ended -------------------------------

def test_sign_in_says_what_went_wrong(stack, open_app, screenshots):
    page = open_app(PHONE, "en-US")
    page.goto(f"{stack.url}/")
    page.wait_for_url(f"{stack.url}/signin")
    problem = page.locator("#signin-problem")

    page.fill("#username", "consultant.bj3")
    page.fill("#password", "not-the-password")
    page.click("button[type=submit]")
    expect(problem).to_have_text("Wrong username or password.")
    for _ in range(6):  # until the username is locked
        page.fill("#password", "not-the-password")
        page.click("button[type=submit]")
        expect(page.locator("button[type=submit]")).to_be_enabled()
        if "locked" in problem.inner_text():
            break
    expect(problem).to_have_text(
        re.compile(r"Too many attempts: the account is locked for now\. Try again in \d+ min\."))
    shot(page, screenshots, "signin-locked-phone-en")

    page.context.set_offline(True)
    page.fill("#username", "consultant.sh1")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(problem).to_have_text("The server cannot be reached. Check your connection and try again.")


def test_sign_out_and_an_ended_session_land_on_their_pages(stack, open_app, screenshots):
    page = open_app(PHONE, "zh-CN")
    sign_in(page, stack, "consultant.sh1")
    tokens = json.loads(page.evaluate("localStorage.getItem('dealerflow.tokens')"))
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(f"{stack.url}/signin?signedOut=1")
    assert page.locator(".note").inner_text() == "你已退出登录。"
    assert page.evaluate("localStorage.getItem('dealerflow.tokens')") is None
    refused = requests.post(f"{stack.url}/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]},
                            timeout=10)
    assert refused.status_code == 401  # signed out on the server too
    page.goto(f"{stack.url}/")
    page.wait_for_url(f"{stack.url}/signin")

    # signed in here, the session is ended elsewhere (a sign-out on another device, an admin)
    sign_in(page, stack, "consultant.sh1")
    tokens = json.loads(page.evaluate("localStorage.getItem('dealerflow.tokens')"))
    requests.post(f"{stack.url}/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]},
                  timeout=10).raise_for_status()
    page.get_by_text("按状态、级别、阶段筛选").click()
    page.locator("[data-filter='status:assigned']").click()  # the app asks the API again
    page.wait_for_url(f"{stack.url}/session-expired")
    assert page.locator("h2").inner_text() == "登录已过期"
    shot(page, screenshots, "session-expired-phone-zh-CN")
    page.get_by_role("link", name="重新登录").click()
    page.wait_for_url(f"{stack.url}/signin")


# --- the installable app and the API docs ------------------------------------------

def test_the_app_opens_from_its_cache_without_a_network(stack, open_app):
    page = open_app(PHONE, "zh-CN")
    sign_in(page, stack, "consultant.sh3")
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=20_000)
    cached = page.evaluate("""async () => {
      const urls = [];
      for (const name of await caches.keys()) {
        for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
      }
      return urls;
    }""")
    assert "/" in cached and "/static/pages/Leads.js" in cached
    assert not [url for url in cached if url.startswith("/v1/")]

    page.context.set_offline(True)
    page.reload()
    expect(page.locator(".banner__text")).to_have_text("网络已断开，正在重试…")
    expect(page.locator("h1")).to_have_text("我的线索")
    page.context.set_offline(False)
    expect(page.locator(".banner__text")).to_have_count(0)


def test_the_api_docs_show_the_openapi_document(stack, open_app):
    page = open_app(DESKTOP, "en-US")
    page.goto(f"{stack.url}/docs")
    expect(page.get_by_text("Dealerflow API").first).to_be_visible()
    expect(page.get_by_text("/v1/leads").first).to_be_attached()
