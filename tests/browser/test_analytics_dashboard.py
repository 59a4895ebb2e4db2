"""The analytics dashboard (分析) in the web app (headless Chromium against
the whole running system). Five leads of a source of their own go in
through the API and are worked there (a test drive then a win, a call then
a loss for price, an appointment, a call on a website lead, one left
waiting). The manager opens the dashboard from its tab, narrows it to that
source, and every chart draws exactly the numbers of the API's answers
(read from the ECharts instance on each chart's element); a rate, the
response figures and the tables agree. A click on the funnel's "won" bar
lands on the leads behind it, which are exactly the API's drill-down, and
back; a lost reason's figure does the same from its table. The sources
table exports as CSV with the API's rows, and a source's monthly cost
entered in its form gives the cost per lead. At a phone's size the page
never scrolls sideways (only tables do)."""
import csv
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import (
    CHINESE_NAMES,
    DESKTOP,
    PHONE,
    api_token,
    lead_for,
    post,
    sign_in,
    staff_get,
)
from tests.browser.test_web_app import too_small
from tests.support.waiting import eventually

pytestmark = pytest.mark.browser

STORE = "SH-PUDONG"
SOURCE = "web-analytics"
FIGURES = {"leads": 5, "contacted": 4, "appointment": 1, "test_drive": 1, "won": 1, "lost": 1}


def shot(page, screenshots, name: str) -> None:
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)


def answer(stack, token: str, path: str, **params) -> dict:
    got = requests.get(f"{stack.url}{path}", params=params, headers={"Authorization": f"Bearer {token}"},
                       timeout=10)
    assert got.status_code == 200, got.text
    return got.json()


def act(stack, token: str, path: str, body: dict) -> dict:
    done = requests.post(f"{stack.url}{path}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert done.status_code in (200, 201), f"{path}: {done.status_code} {done.text}"
    return done.json()


def worked_leads(stack, manager: str) -> dict[str, tuple[str, str]]:
    """Five leads of SOURCE, worked through the API: {role: (id, customer name)}."""
    made = {}
    for role, channel in (("won", "third_party"), ("lost", "third_party"), ("appointment", "third_party"),
                          ("waiting", "third_party"), ("called", "website")):
        name = next(CHINESE_NAMES)
        made[role] = (post(stack, lead_for(stack, name, source=SOURCE, channel=channel)), name)
    for lead_id, _ in made.values():
        eventually(lambda lead_id=lead_id: staff_get(stack, manager, f"/v1/leads/{lead_id}").json()
                   .get("status") == "assigned", timeout=20, message=f"lead {lead_id} assigned")
        eventually(lambda lead_id=lead_id: staff_get(
            stack, manager, f"/v1/followups?lead_id={lead_id}&status=open").json() or None,
            timeout=20, message=f"lead {lead_id} known to the followups service")

    def record(role: str, outcome: str, channel: str = "call") -> None:
        act(stack, manager, "/v1/followups/records",
            {"lead_id": made[role][0], "channel": channel, "outcome": outcome, "notes": "analytics test"})
    record("won", "test_drive", "visit")
    record("lost", "reached")
    record("appointment", "appointment")
    record("called", "reached")
    for role in ("won", "lost"):  # contacted before the outcome
        eventually(lambda role=role: staff_get(stack, manager, f"/v1/leads/{made[role][0]}").json()
                   .get("status") == "contacted", timeout=20, message=f"the {role} lead contacted")
    act(stack, manager, f"/v1/leads/{made['won'][0]}/win", {"deal_value": 23_980_000, "currency": "CNY"})
    act(stack, manager, f"/v1/leads/{made['lost'][0]}/loss", {"lost_reason": "price"})

    def counted():
        counts = answer(stack, manager, "/v1/analytics/funnel", source=SOURCE)["counts"]
        return counts if all(counts.get(name) == value for name, value in FIGURES.items()) else None
    eventually(counted, timeout=30, message=f"the funnel of {SOURCE} counts {FIGURES}")
    return made


def drawn(page, name: str) -> dict | None:
    """What the chart ``name`` draws: its series (name, data) and its categories."""
    return page.evaluate("""name => {
      const el = document.querySelector(`[data-chart="${name}"]`);
      if (!el || !el.__chart) return null;
      const option = el.__chart.getOption();
      const axis = option.yAxis[0].type === "category" ? option.yAxis[0] : option.xAxis[0];
      return { series: option.series.map((s) => ({ name: s.name, data: s.data })), categories: axis.data };
    }""", name)


def series_of(page, name: str, expected: list[list]) -> dict:
    """Wait until the chart draws `expected` (a data list per series); answer what it draws."""
    def matches():
        chart = drawn(page, name)
        return chart if chart and [s["data"] for s in chart["series"]] == expected else None
    return eventually(matches, timeout=10, message=lambda: f"the {name} chart draws {expected}: {drawn(page, name)}")


def click_bar(page, name: str, series: int, index: int) -> None:
    """A real mouse click in the middle of one bar of a chart."""
    point = page.evaluate("""([name, series, index]) => {
      const el = document.querySelector(`[data-chart="${name}"]`);
      el.scrollIntoView({ block: "center" });
      const chart = el.__chart;
      const option = chart.getOption();
      const value = option.series[series].data[index];
      const horizontal = option.yAxis[0].type === "category";
      const [x, y] = chart.convertToPixel({ seriesIndex: series }, horizontal ? [value / 2, index] : [index, value / 2]);
      const box = el.getBoundingClientRect();
      return { x: box.left + x, y: box.top + y };
    }""", [name, series, index])
    page.mouse.click(point["x"], point["y"])


def listed_ids(page) -> list[str]:
    return [href.rsplit("/", 1)[1] for href in page.locator(".cards a.card").evaluate_all(
        "cards => cards.map((card) => card.getAttribute('href'))")]


def drill_ids(stack, token: str, url: str) -> list[str]:
    """The leads GET /v1/leads answers for a drill-down page's query."""
    query = {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()
             if name not in ("from", "to", "back")}
    return [lead["id"] for lead in answer(stack, token, "/v1/leads", **query, limit=50)["items"]]


def percent(fraction: float) -> str:
    return f"{round(fraction * 100, 1):g}%"


def test_the_dashboard_draws_the_apis_numbers_and_drills_down_to_them(stack, open_app, screenshots):
    manager = api_token(stack, "manager.sh")
    made = worked_leads(stack, manager)
    funnel = answer(stack, manager, "/v1/analytics/funnel", source=SOURCE)
    sources = answer(stack, manager, "/v1/analytics/sources", source=SOURCE)
    demand = answer(stack, manager, "/v1/analytics/demand", source=SOURCE, by="brand")
    consultants = answer(stack, manager, "/v1/analytics/consultants", source=SOURCE)
    responses = answer(stack, manager, "/v1/analytics/response-times", source=SOURCE)

    # the manager: the tab, then the source typed in the filters
    page = open_app(DESKTOP, "zh-CN")
    sign_in(page, stack, "manager.sh")
    page.get_by_role("link", name="分析", exact=True).click()
    page.wait_for_url(f"{stack.url}/analytics")
    expect(page.get_by_role("heading", name="销售漏斗")).to_be_visible()
    page.fill("#analytics-source", SOURCE)
    page.locator("#analytics-source").press("Tab")
    page.wait_for_url(f"{stack.url}/analytics?source={SOURCE}")
    page.locator("[data-by=brand]").click()
    page.wait_for_url(f"{stack.url}/analytics?source={SOURCE}&by=brand")
    expect(page.locator("[data-count=leads] a")).to_have_text("5")
    expect(page.locator("[data-panel][aria-busy=true]")).to_have_count(0)

    # every chart draws the API's numbers
    chart = series_of(page, "funnel", [[stage["reached"] for stage in funnel["stages"]]])
    assert chart["categories"] == ["初步接触", "需求确认", "方案提供", "议价成交", "成交"]
    assert chart["series"][0]["data"][0] == 5 and chart["series"][0]["data"][-1] == 1
    chart = series_of(page, "sources", [[row["leads"] for row in sources["rows"]], [row["won"] for row in sources["rows"]]])
    assert chart["categories"] == [f"{SOURCE} · {'官网' if row['channel'] == 'website' else '第三方平台'}"
                                   for row in sources["rows"]]
    assert sorted(chart["series"][0]["data"]) == [1, 4]
    series_of(page, "demand", [series["counts"] for series in demand["series"]])
    series_of(page, "responses", [[bucket["count"] for bucket in responses["buckets"]]])
    ranked = sorted(consultants["rows"], key=lambda row: (row["store_code"] or "", row["rank"]))
    series_of(page, "consultants", [[row["wins"] for row in ranked], [row["followups_done"] for row in ranked]])
    assert sum(row["wins"] for row in ranked) == 1

    # the figures and tables say the same
    expect(page.locator("[data-rate=close_rate] .figure__value")).to_have_text(percent(funnel["rates"]["close_rate"]))
    expect(page.locator("[data-rate=contact_rate] .figure__value")).to_have_text("80%")
    expect(page.locator("[data-stage=won] [data-drill='reached:won']")).to_have_text("1")
    expect(page.locator("[data-figure=under_5] .figure__value")).to_have_text(percent(responses["under_5_share"]))
    expect(page.locator("[data-figure=waiting] a")).to_have_text(str(responses["waiting"]))
    expect(page.locator("[data-reason=price] a")).to_have_text("1")
    shot(page, screenshots, "analytics-desktop-zh-CN")

    # a click on the funnel's "won" bar: the leads behind it, exactly the API's drill-down
    click_bar(page, "funnel", 0, len(funnel["stages"]) - 1)
    page.wait_for_url(re.compile(r"/analytics/leads\?"))
    query = parse_qs(urlsplit(page.url).query)
    assert query["metric"] == ["reached_won"] and query["source"] == [SOURCE]
    assert query["created_from"] == [funnel["scope"]["created_from"]]
    assert query["created_to"] == [funnel["scope"]["created_to"]]
    expect(page.locator("[data-drill-what]")).to_have_text("到达「成交」")
    expect(page.locator("[data-drill-range]")).to_contain_text(f"来源：{SOURCE}")
    expect(page.locator(".cards a.card")).to_have_count(1)
    expect(page.locator(".cards a.card")).to_contain_text(made["won"][1])
    assert listed_ids(page) == drill_ids(stack, manager, page.url) == [made["won"][0]]
    page.get_by_role("link", name="返回分析").click()
    page.wait_for_url(f"{stack.url}/analytics?source={SOURCE}&by=brand")

    # a lost reason's figure, from its table
    page.locator("[data-drill='lost:price']").click()
    page.wait_for_url(re.compile(r"/analytics/leads\?.*lost_reason=price"))
    expect(page.locator("[data-drill-what]")).to_have_text("战败原因：价格原因")
    expect(page.locator(".cards a.card")).to_have_count(1)
    assert listed_ids(page) == drill_ids(stack, manager, page.url) == [made["lost"][0]]
    page.go_back()
    page.wait_for_url(f"{stack.url}/analytics?source={SOURCE}&by=brand")

    # the sources table as CSV: the API's rows
    with page.expect_download() as info:
        page.locator("[data-export='sources:csv']").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8-sig", newline="") as file:
        header, *rows = list(csv.reader(file))
    assert header[:3] == ["来源", "渠道", "线索"] and header[7] == "成交"
    assert {(row[0], row[1]): (int(row[2]), int(row[7])) for row in rows} == {
        (row["source"], row["channel"]): (row["leads"], row["won"]) for row in sources["rows"]}

    # a source's monthly cost: entered in its form, then the cost per lead
    page.locator(f"[data-cost='{SOURCE}']").first.click()
    form = page.locator("[data-cost-form]")
    expect(form.locator("#cost-month")).to_have_value(funnel["scope"]["to"][:7])
    form.locator("#cost-amount").fill("-5")
    form.get_by_role("button", name="保存成本").click()
    expect(form.locator("[data-error=amount]")).to_have_text("请输入以元为单位的金额（0 或以上）。")
    form.locator("#cost-amount").fill("3000")
    form.get_by_role("button", name="保存成本").click()
    expect(page.get_by_role("status").filter(has_text=f"已保存 {SOURCE} 的成本。")).to_be_visible()
    costed = eventually(lambda: (rows := answer(stack, manager, "/v1/analytics/sources", source=SOURCE)["rows"])
                        and rows[0]["cost_per_lead"] is not None and rows, timeout=10)
    row = costed[0]
    cell = page.locator(f"[data-source='{row['source']}:{row['channel']}'] [data-col=cost_per_lead]")
    expect(cell).to_have_text(f"¥{row['cost_per_lead'] / 100:,.0f}")

    # a phone: one column, nothing wider than the screen but the tables' own scroll
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    assert page.evaluate("(main => main.scrollWidth <= main.clientWidth)(document.querySelector('main'))")
    assert page.locator(".dashboard .table-wrap").evaluate_all(
        "boxes => boxes.some((box) => box.scrollWidth > box.clientWidth)")  # a wide table scrolls in its box
    width = page.evaluate("document.querySelector('[data-chart=funnel]').getBoundingClientRect().width")
    assert width > PHONE["width"] - 80
    assert too_small(page) == []
    shot(page, screenshots, "analytics-phone-zh-CN")
