"""The customer screens in headless Chromium against the whole running
system: a messy spreadsheet imported through the wizard and then found by
search; two customers found to be one person merged in the duplicates
screen; the form's answer to a phone that is another customer's; the
profile on a phone (screenshot)."""
import re
import uuid

import pytest
import requests
from openpyxl import Workbook
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, api_token, lead_for, post, sign_in, staff_get
from tests.support.people import unique_mobile
from tests.support.waiting import eventually

pytestmark = pytest.mark.browser

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def staff_post(stack, token: str, path: str, body: dict) -> requests.Response:
    return requests.post(f"{stack.url}{path}", json=body, headers={"Authorization": f"Bearer {token}"},
                         timeout=10)


def new_customer(stack, token: str, **fields) -> dict:
    answer = staff_post(stack, token, "/v1/customers", {"store_code": "SH-PUDONG", **fields})
    assert answer.status_code == 201, answer.text
    return answer.json()


def spaced(phone: str) -> str:
    """A Chinese mobile number as the app shows it: 139 1234 5678."""
    return f"{phone[:3]} {phone[3:7]} {phone[7:]}"


def search(page, stack, text: str):
    page.goto(f"{stack.url}/customers")
    page.fill("#customer-search", text)
    expect(page).to_have_url(re.compile(r"\?q="))
    return page.locator(".card")


TOO_SMALL = """() => [...document.querySelectorAll("#app a, #app button, #app input, #app select")]
  .filter((element) => {
    const box = element.getBoundingClientRect();
    return box.width > 0 && (box.height < 48 || box.width < 48)
      && !(element.type === "checkbox" && element.closest("label.check"));  // the label is the target
  })
  .map((element) => element.outerHTML.slice(0, 80))"""


# --- (a) the import wizard with a messy spreadsheet ---------------------------------

def messy_workbook(path, existing_phone: str, fresh_phone: str):
    """What dealers keep in Excel: a merged title banner, the header, a blank
    row, a phone stored as a number, full-width digits, a phone that cannot
    be real, and a customer the system knows already."""
    book = Workbook()
    sheet = book.active
    sheet.append(["2026 年 浦东店 客户名单（内部）"])
    sheet.merge_cells("A1:D1")
    sheet.append(["客户姓名", "手机号", "意向车型", "预算"])
    sheet.append([])
    sheet.append(["欧阳明", 13800138000, "汉EV", 250000])
    sheet.append(["司马光", fresh_phone.translate(FULL_WIDTH), "Model Y", "30万"])
    sheet.append(["错号码", "12345", "L7", None])
    sheet.append(["老客户", existing_phone, "ET5", 200000])
    book.save(path)
    return path


def test_a_messy_spreadsheet_is_imported_through_the_wizard(stack, open_app, screenshots, tmp_path):
    manager = api_token(stack, "manager.sh")
    known_phone, fresh_phone = unique_mobile(), unique_mobile()
    known = new_customer(stack, manager, name="诸葛亮", phones=[known_phone])
    workbook = messy_workbook(tmp_path / "客户名单.xlsx", known_phone, fresh_phone)

    page = open_app(PHONE, "zh-CN")
    sign_in(page, stack, "manager.sh")
    page.get_by_role("link", name="客户", exact=True).click()
    page.wait_for_url(f"{stack.url}/customers")
    page.get_by_role("link", name="导入客户").click()
    page.wait_for_url(f"{stack.url}/customers/import")

    # 1: upload
    page.set_input_files("#import-file", str(workbook))
    page.get_by_role("button", name="上传").click()

    # 2: the suggested mapping, kept
    page.locator("#map-0").wait_for()
    assert page.locator("label[for=map-0]").inner_text() == "客户姓名"
    assert page.locator("#map-0").input_value() == "name"
    assert page.locator("#map-1").input_value() == "phone"
    assert page.locator("#map-2").input_value() == "model"
    assert page.locator("#map-3").input_value() == "budget"
    page.screenshot(path=str(screenshots / "import-map-phone-zh-CN.png"), full_page=True)
    page.get_by_role("button", name="试导入").click()

    # 3: the dry run's report
    expect(page.locator(".counts__item--created dd")).to_have_text("2", timeout=30_000)
    expect(page.locator(".counts__item--matched dd")).to_have_text("1")
    expect(page.locator(".counts__item--rejected dd")).to_have_text("1")
    rejected = page.locator(".report--rejected tbody tr")
    expect(rejected).to_have_count(1)
    assert "12345" in rejected.inner_text()
    matched = page.locator(".report--matched tbody tr")
    expect(matched).to_have_count(1)
    assert matched.locator("a").get_attribute("href") == f"/customers/{known['id']}"
    page.screenshot(path=str(screenshots / "import-report-phone-zh-CN.png"), full_page=True)

    # 4: import, leaving the rejected row out
    commit = page.get_by_role("button", name="导入 2 位新客户")
    expect(commit).to_be_disabled()  # until the user says to skip the rejected row
    page.get_by_label("跳过 1 行不能导入的数据").check()
    commit.click()
    expect(page.locator(".notice")).to_have_text("导入完成。", timeout=30_000)
    expect(page.locator(".counts__item--created dd")).to_have_text("2")
    page.screenshot(path=str(screenshots / "import-done-phone-zh-CN.png"), full_page=True)

    # the imported customers are found: by pinyin initials, by a phone fragment, with full-width digits read
    cards = search(page, stack, "oym")
    expect(cards.filter(has_text="欧阳明")).to_have_count(1)
    cards = search(page, stack, "138 0013")
    expect(cards.filter(has_text="欧阳明")).to_have_count(1)
    assert "138 0013 8000" in cards.filter(has_text="欧阳明").inner_text()
    cards = search(page, stack, fresh_phone[-8:])
    expect(cards.filter(has_text="司马光")).to_have_count(1)
    expect(search(page, stack, "错号码")).to_have_count(0)
    assert page.evaluate(TOO_SMALL) == []


# --- (b) two customers who are one person, merged ------------------------------------

def test_possible_duplicates_are_compared_and_merged(stack, open_app, screenshots):
    manager = api_token(stack, "manager.sh")
    first_phone, second_phone = unique_mobile(), unique_mobile()
    email = f"dup-{uuid.uuid4().hex[:8]}@example.com"
    first = new_customer(stack, manager, name="钱多多", phones=[first_phone], city="上海")
    second = new_customer(stack, manager, name="钱多多", phones=[second_phone], emails=[email])

    # a lead with the first's phone and the second's email: the two are listed as possible duplicates
    lead = lead_for(stack, "钱多多", phone=first_phone)
    lead["customer"]["email"] = email
    post(stack, lead)

    def listed():
        pairs = staff_get(stack, manager, "/v1/customers/duplicates").json()["items"]
        return next((pair for pair in pairs
                     if {pair["customer"]["id"], pair["other"]["id"]} == {first["id"], second["id"]}), None)
    pair = eventually(listed, timeout=30, message="the two are listed as possible duplicates")

    page = open_app(PHONE, "zh-CN")
    sign_in(page, stack, "manager.sh")
    page.goto(f"{stack.url}/customers/duplicates")
    page.locator(".card", has_text="钱多多").first.click()
    page.wait_for_url(re.compile(rf"/customers/duplicates\?pair={pair['id']}"))
    table = page.locator(".compare__table")
    expect(table.locator(".compare__left")).not_to_have_count(0)
    left = pair["customer"]["id"]
    right = pair["other"]["id"]
    left_phone, right_phone = ((first_phone, second_phone) if left == first["id"] else (second_phone, first_phone))
    assert spaced(left_phone) in table.locator(".compare__left").all_inner_texts()[1]
    assert spaced(right_phone) in table.locator(".compare__right").all_inner_texts()[1]
    page.screenshot(path=str(screenshots / "merge-phone-zh-CN.png"), full_page=True)

    page.get_by_role("button", name="合并到 A（保留 A）").click()
    expect(page.locator(".problem").last).to_have_text("请写明合并原因。")  # a reason is required
    page.fill("#merge-reason", "同一人，换了手机号")
    page.get_by_role("button", name="合并到 A（保留 A）").click()
    page.wait_for_url(re.compile(rf"/customers/{left}\?merged=1"))

    phones = page.locator(".plain .phone")
    expect(phones).to_have_count(2)
    assert set(phones.all_inner_texts()) == {spaced(first_phone), spaced(second_phone)}
    expect(page.locator(".timeline__entry--merged")).to_have_count(1)

    cards = search(page, stack, "钱多多")  # one person now
    expect(cards).to_have_count(1)
    assert cards.get_attribute("href") == f"/customers/{left}"
    cards = search(page, stack, right_phone[-8:])  # the merged one's phone finds the one kept
    expect(cards).to_have_count(1)
    assert cards.get_attribute("href") == f"/customers/{left}"
    assert staff_get(stack, manager, f"/v1/customers/{right}").status_code in (404, 410)


# --- (c) the form: create, a phone that is someone else's, the 409's links ----------

def test_the_form_creates_and_says_whose_a_phone_is(stack, open_app, screenshots):
    manager = api_token(stack, "manager.sh")
    taken_phone, own_phone = unique_mobile(), unique_mobile()
    holder = new_customer(stack, manager, name="孔明", phones=[taken_phone])

    page = open_app(PHONE, "zh-CN")
    sign_in(page, stack, "manager.sh")
    page.goto(f"{stack.url}/customers")
    page.get_by_role("link", name="新建客户").click()
    page.wait_for_url(f"{stack.url}/customers/new")
    page.fill("#customer-name", "上官婉儿")
    page.fill("#customer-phone-0", own_phone)
    page.get_by_role("button", name="添加电话").click()
    page.fill("#customer-phone-1", "12345")  # no real number: the API's 422 shows next to it
    page.fill("#customer-tags", "VIP")
    page.keyboard.press("Enter")
    page.fill("#customer-models", "汉EV")
    page.keyboard.press("Enter")
    page.fill("#customer-budget-min", "200000")
    page.fill("#customer-budget-max", "260000")
    page.get_by_label("纯电").check()
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#customer-phone-1")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#customer-phone-errors-1")).not_to_be_empty()
    expect(page.locator("#customer-phone-0")).not_to_have_attribute("aria-invalid", "true")

    page.get_by_role("button", name="删除电话 2").click()
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r"/customers/[0-9a-f-]{36}$"))
    created = page.url.rsplit("/", 1)[1]
    saved = staff_get(stack, manager, f"/v1/customers/{created}").json()
    assert saved["preferences"]["budget"]["min"] == 20_000_000  # yuan shown, fen sent
    assert saved["preferences"]["budget"]["max"] == 26_000_000
    assert saved["preferences"]["fuel_types"] == ["EV"]
    assert saved["tags"] == ["VIP"]
    expect(page.locator(".plain .phone")).to_have_text(spaced(own_phone))
    assert page.locator("a[href^='tel:']").first.get_attribute("href") == f"tel:+86{own_phone}"

    # adding the phone of another customer: a 409, with that customer and a merge for a manager
    page.get_by_role("link", name="编辑").click()
    page.get_by_role("button", name="添加电话").click()
    page.fill("#customer-phone-1", taken_phone)
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".problem").first).to_have_text("有电话或邮箱已属于其他客户：不会自动合并。")
    expect(page.get_by_role("link", name="查看该客户")).to_have_attribute("href", f"/customers/{holder['id']}")
    page.get_by_role("link", name="合并这两位客户").click()
    page.wait_for_url(re.compile(rf"/customers/merge\?keep={created}&merge={holder['id']}"))
    expect(page.locator(".compare__left").first).to_have_text("上官婉儿")
    expect(page.locator(".compare__right").first).to_have_text("孔明")
    expect(page.get_by_role("button", name="不是同一人")).to_have_count(0)  # no listed pair to dismiss


def test_the_profile_on_a_phone(stack, open_app, screenshots):
    """Traits from the lead's comments (confirm one, remove one), leads,
    the timeline; for a manager export and erase."""
    phone = unique_mobile()
    lead = lead_for(stack, "慕容雪", phone=phone, comments="想周末试驾，关心续航和充电，考虑贷款，有旧车置换")
    lead_id = post(stack, lead)
    manager = api_token(stack, "manager.sh")

    def customer_of_lead():
        found = staff_get(stack, manager, f"/v1/customers?q={phone}").json()["items"]
        return found[0]["id"] if found else None
    customer_id = eventually(customer_of_lead, timeout=30, message="the lead's customer exists")

    page = open_app(PHONE, "zh-CN")
    sign_in(page, stack, "manager.sh")
    page.goto(f"{stack.url}/customers/{customer_id}")
    expect(page.locator("h1")).to_have_text("慕容雪")
    expect(page.locator(f"a[href='/leads/{lead_id}']").first).to_be_visible()
    expect(page.locator(".timeline__entry").first).to_be_visible()
    traits = page.locator(".trait")
    expect(traits.first).to_be_visible()
    count = traits.count()
    assert traits.first.locator(".evidence li").count() >= 1
    page.screenshot(path=str(screenshots / "customer-phone-zh-CN.png"), full_page=True)
    assert page.evaluate(TOO_SMALL) == []

    traits.first.get_by_role("button", name="确认").click()
    expect(traits.first.locator(".chip--won")).to_have_text("已确认")
    if count > 1:
        traits.nth(1).get_by_role("button", name="移除").click()
        expect(traits).to_have_count(count - 1)

    with page.expect_download() as download:
        page.get_by_role("button", name="导出数据").click()
    assert download.value.suggested_filename == f"customer-{customer_id}.json"

    page.get_by_role("button", name="删除个人信息").click()
    erase = page.get_by_role("button", name="永久删除")
    expect(erase).to_be_disabled()
    page.fill("#erase-confirm", "慕容")
    expect(erase).to_be_disabled()
    page.fill("#erase-confirm", "慕容雪")
    erase.click()
    page.wait_for_url(f"{stack.url}/customers?erased=1")
    expect(search(page, stack, phone[-8:])).to_have_count(0)
