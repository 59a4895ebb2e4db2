"""services.customers.spreadsheet: the customer spreadsheets dealers bring, read into fields."""
import csv
import io
import zipfile
from datetime import date, datetime, time
from decimal import Decimal

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.customers import spreadsheet
from services.customers.spreadsheet import (
    FIELDS,
    SYNONYMS,
    Sheet,
    UnreadableFile,
    clean_cell,
    open_sheet,
    read_row,
    suggest_mapping,
)

TODAY = date(2025, 6, 30)


def xlsx(rows, merges=()) -> bytes:
    """An .xlsx built in memory: ``rows`` appended, ``merges`` ranges merged."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    for cells_range in merges:
        sheet.merge_cells(cells_range)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_text(rows, delimiter=",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def read_all(sheet: Sheet):
    return list(sheet.rows)


def one(field, value, today=TODAY):
    """read_row on a single cell mapped to ``field``."""
    return read_row([value], {0: field}, today=today)


# ---------------------------------------------------------------- suggest_mapping

SPEC_SYNONYMS = [
    (field, header)
    for field, headers in {
        "name": "姓名/客户姓名/客户名称/名字/name/customer/customer name",
        "phone": "手机/手机号/手机号码/电话/联系电话/联系方式/mobile/phone/tel/telephone",
        "email": "邮箱/电子邮箱/email/e-mail",
        "wechat_id": "微信/微信号/wechat",
        "city": "城市/所在城市/city",
        "language": "语言/language",
        "source": "来源/客户来源/线索来源/渠道/source",
        "tags": "标签/tags",
        "brand": "品牌/意向品牌/brand",
        "model": "车型/意向车型/model",
        "budget": "预算/购车预算/budget",
        "fuel_type": "燃料/能源类型/动力/fuel",
        "notes": "备注/说明/notes/remark/remarks/comments",
        "created_at": "创建时间/登记日期/日期/录入时间/created/date",
    }.items()
    for header in headers.split("/")
]


@pytest.mark.parametrize("field, header", SPEC_SYNONYMS)
def test_suggest_mapping_knows_each_synonym(field, header):
    assert suggest_mapping([header]) == {0: field}


@pytest.mark.parametrize("header, field", [
    ("  E-Mail ", "email"),
    ("CUSTOMER NAME", "name"),
    ("Customer_Name", "name"),
    ("手机号码（必填）", "phone"),
    ("手机号 *", "phone"),
    ("备注：", "notes"),
    ("Remark(s)", "notes"),
    ("\u3000客户姓名\u3000", "name"),
    ("手机\n号码", "phone"),
    ("预算(万元)", "budget"),
    ("ＥＭＡＩＬ", "email"),
])
def test_suggest_mapping_ignores_case_space_punctuation_and_asides(header, field):
    assert suggest_mapping([header]) == {0: field}


def test_suggest_mapping_first_column_wins_a_field_and_unknown_headers_are_left_out():
    headers = ["序号", "客户姓名", "手机", "电话", "身份证号", "", "Email", "邮箱"]
    assert suggest_mapping(headers) == {1: "name", 2: "phone", 6: "email"}


def test_synonyms_cover_every_field_and_no_header_means_two_fields():
    assert set(SYNONYMS) == set(FIELDS)
    seen = {}
    for field, headers in SYNONYMS.items():
        for header in headers:
            key = spreadsheet._key(header)
            assert seen.setdefault(key, field) == field, header


# ---------------------------------------------------------------- clean_cell

@pytest.mark.parametrize("raw, expected", [
    (13800138000.0, "13800138000"),
    ("1.3800138E10", "13800138000"),
    ("1.3800138e+10", "13800138000"),
    ("13800138000.0", "13800138000"),
    (13800138000, "13800138000"),
    ("１３８００１３８０００", "13800138000"),
    ("＋86 138 0013 8000", "+86 138 0013 8000"),
    ("王磊\u3000 ", "王磊"),
    ("\xa0王磊\xa0", "王磊"),
    ("\ufeff姓名", "姓名"),
    ("ＢＹＤ　汉", "BYD 汉"),
    ("0138", "0138"),
    (12.5, "12.5"),
    (1e-07, "0.0000001"),
    ("1.5E-3", "1.5E-3"),
    (Decimal("15.00"), "15"),
    ("第一行\r\n第二行", "第一行\n第二行"),
    ("", None),
    ("   ", None),
    ("\u3000", None),
    (None, None),
    ("#N/A", None),
    (float("nan"), None),
    (float("inf"), None),
    (True, "TRUE"),
    (time(9, 30), "09:30:00"),
])
def test_clean_cell(raw, expected):
    assert clean_cell(raw) == expected


def test_clean_cell_keeps_dates_and_datetimes():
    moment, day = datetime(2025, 3, 1, 9, 30), date(2025, 3, 1)
    assert clean_cell(moment) is moment
    assert clean_cell(day) is day


# ---------------------------------------------------------------- read_row: people

def test_name_is_trimmed_text_and_limited_to_200_characters():
    assert one("name", " 王磊\u3000")[0]["name"] == "王磊"
    fields, errors = read_row(["王" * 201, "13800138000"], {0: "name", 1: "phone"}, today=TODAY)
    assert "name" not in fields
    assert errors == {"name": ["name is longer than 200 characters"]}


@pytest.mark.parametrize("cell, phones", [
    ("13800138000", ["13800138000"]),
    (13800138000.0, ["13800138000"]),
    ("+86 138-0013-8000", ["+86 138-0013-8000"]),
    ("13800138000/13900139000", ["13800138000", "13900139000"]),
    ("13800138000, 13900139000；010-65529988", ["13800138000", "13900139000", "010-65529988"]),
    ("13800138000、13900139000", ["13800138000", "13900139000"]),
    ("13800138000\n13900139000", ["13800138000", "13900139000"]),
    ("13800138000 / 13800138000", ["13800138000"]),
])
def test_phones_are_the_typed_texts_one_per_number(cell, phones):
    fields, errors = one("phone", cell)
    assert (fields["phones"], errors) == (phones, {})
    assert "phone" not in fields


@pytest.mark.parametrize("cell", ["无", "n/a", "1234", "电话: 12"])
def test_text_with_fewer_than_five_digits_is_not_a_phone(cell):
    fields, errors = one("phone", cell)
    assert fields["phones"] == []
    assert errors["phone"] == [f"'{cell}' is not a phone number"]
    assert errors["row"] == ["no name, phone or email"]


def test_a_bad_phone_next_to_a_good_one_keeps_the_good_one():
    fields, errors = one("phone", "13800138000/无")
    assert fields["phones"] == ["13800138000"]
    assert errors == {"phone": ["'无' is not a phone number"]}


def test_emails_are_lower_cased_split_and_checked():
    fields, errors = one("email", "WL@Example.com; li.na@example.cn 、 mailto:Z@x.org")
    assert fields["emails"] == ["wl@example.com", "li.na@example.cn", "z@x.org"]
    assert errors == {}
    fields, errors = read_row(["王磊", "wl at example"], {0: "name", 1: "email"}, today=TODAY)
    assert fields["emails"] == []
    assert errors == {"email": ["'wl at example' is not an email address"]}


def test_phones_and_emails_are_always_there():
    fields, errors = one("name", "王磊")
    assert fields == {"name": "王磊", "phones": [], "emails": []}
    assert errors == {}


def test_a_row_needs_a_name_a_phone_or_an_email():
    fields, errors = read_row(["上海", "BYD"], {0: "city", 1: "brand"}, today=TODAY)
    assert fields == {"city": "上海", "brand": "BYD", "phones": [], "emails": []}
    assert errors == {"row": ["no name, phone or email"]}
    assert read_row(["wl@example.com"], {0: "email"}, today=TODAY)[1] == {}


def test_mapping_beyond_the_row_and_unknown_fields_are_ignored():
    fields, errors = read_row(["王磊"], {0: "name", 5: "phone", 1: "shoe_size"}, today=TODAY)
    assert fields == {"name": "王磊", "phones": [], "emails": []}
    assert errors == {}


@pytest.mark.parametrize("field, limit", [
    ("wechat_id", 200), ("city", 200), ("language", 200), ("source", 200), ("brand", 200),
    ("model", 200), ("notes", 2000),
])
def test_text_fields_are_trimmed_and_length_checked(field, limit):
    fields, errors = read_row(["王磊", f" {'x' * limit}\u3000"], {0: "name", 1: field}, today=TODAY)
    assert fields[field] == "x" * limit and errors == {}
    fields, errors = read_row(["王磊", "x" * (limit + 1)], {0: "name", 1: field}, today=TODAY)
    assert field not in fields
    assert errors == {field: [f"{field} is longer than {limit} characters"]}


def test_tags_are_split_on_chinese_and_ascii_separators():
    fields, errors = one("tags", "高意向, 首购，试驾过;置换；女士、 VIP /高意向")
    assert fields["tags"] == ["高意向", "首购", "试驾过", "置换", "女士", "VIP"]


# ---------------------------------------------------------------- read_row: budget

@pytest.mark.parametrize("cell, low, high", [
    ("15万", 150_000, 150_000),
    ("15-20万", 150_000, 200_000),
    ("15万-20万", 150_000, 200_000),
    ("15~20万", 150_000, 200_000),
    ("15至20万元", 150_000, 200_000),
    ("150000", 150_000, 150_000),
    (150000, 150_000, 150_000),
    ("150,000元", 150_000, 150_000),
    ("¥150000", 150_000, 150_000),
    ("20w", 200_000, 200_000),
    ("20W", 200_000, 200_000),
    ("20万以内", 0, 200_000),
    ("20万以下", 0, 200_000),
    ("约18万", 180_000, 180_000),
    ("18万左右", 180_000, 180_000),
    ("15.5万", 155_000, 155_000),
    ("２０万", 200_000, 200_000),
    ("20-15万", 150_000, 200_000),
    ("150k", 150_000, 150_000),
    ("30万以上", 300_000, None),
])
def test_budget_in_fen(cell, low, high):
    fields, errors = one("budget", cell)
    assert errors == {"row": ["no name, phone or email"]}
    assert fields["budget"] == {"min": low * 100, "max": None if high is None else high * 100}


@pytest.mark.parametrize("cell, message", [
    ("面议", "'面议' is not a budget (write e.g. 15万 or 15-20万)"),
    ("15-20万-30万", "'15-20万-30万' is not a budget (write e.g. 15万 or 15-20万)"),
    ("15", "budget '15' is under 1,000 yuan; write 15万 for 15 × 10,000 yuan"),
    ("99999999万", "budget '99999999万' is too large"),
    (datetime(2025, 1, 1), "'2025-01-01' is not a budget"),
])
def test_unreadable_budget_is_an_error(cell, message):
    fields, errors = one("budget", cell)
    assert "budget" not in fields
    assert errors["budget"] == [message]


# ---------------------------------------------------------------- read_row: fuel type

@pytest.mark.parametrize("cell, fuel", [
    ("汽油", "ICE"), ("燃油", "ICE"), ("油车", "ICE"), ("ICE", "ICE"), ("柴油", "ICE"), ("汽油/92号", "ICE"),
    ("混动", "HEV"), ("油电混合", "HEV"), ("HEV", "HEV"), ("hybrid", "HEV"),
    ("插混", "PHEV"), ("插电混动", "PHEV"), ("PHEV", "PHEV"), ("增程", "PHEV"), ("新能源（插混）", "PHEV"),
    ("纯电", "EV"), ("电动", "EV"), ("纯电动", "EV"), ("新能源", "EV"), ("EV", "EV"), ("BEV", "EV"),
    (" ev ", "EV"), ("Electric", "EV"),
])
def test_fuel_type(cell, fuel):
    assert one("fuel_type", cell)[0]["fuel_type"] == fuel


@pytest.mark.parametrize("cell", ["氢能", "不知道", "x"])
def test_unknown_fuel_type_is_an_error(cell):
    fields, errors = one("fuel_type", cell)
    assert "fuel_type" not in fields
    assert errors["fuel_type"] == [f"'{cell}' is not a fuel type (汽油, 混动, 插混 or 纯电)"]


# ---------------------------------------------------------------- read_row: created_at

@pytest.mark.parametrize("cell, expected", [
    (datetime(2025, 3, 1, 9, 30), datetime(2025, 3, 1, 9, 30)),
    (date(2025, 3, 1), datetime(2025, 3, 1)),
    (45658, datetime(2025, 1, 1)),
    (45658.0, datetime(2025, 1, 1)),
    (45658.5, datetime(2025, 1, 1, 12, 0)),
    ("45658", datetime(2025, 1, 1)),
    ("2025-03-01", datetime(2025, 3, 1)),
    ("2025/3/1", datetime(2025, 3, 1)),
    ("2025年3月1日", datetime(2025, 3, 1)),
    ("2025.3.1", datetime(2025, 3, 1)),
    ("2025-03-01 14:05", datetime(2025, 3, 1, 14, 5)),
    ("2025/3/1 14:05:09", datetime(2025, 3, 1, 14, 5, 9)),
    ("2025年3月1日 14:05", datetime(2025, 3, 1, 14, 5)),
    ("2025-03-01T14:05:09+08:00", datetime(2025, 3, 1, 14, 5, 9)),
    ("20250301", datetime(2025, 3, 1)),
    ("２０２５－０３－０１", datetime(2025, 3, 1)),
    ("2025-06-30", datetime(2025, 6, 30)),
])
def test_created_at(cell, expected):
    fields, _ = one("created_at", cell)
    assert fields["created_at"] == expected


@pytest.mark.parametrize("cell, message", [
    ("昨天", "'昨天' is not a date (write e.g. 2025-03-01)"),
    ("2025-02-30", "'2025-02-30' is not a date (write e.g. 2025-03-01)"),
    ("3/1/2025", "'3/1/2025' is not a date (write e.g. 2025-03-01)"),
    (12, "'12' is not a date (write e.g. 2025-03-01)"),
    ("2025-07-01", "'2025-07-01' is in the future"),
    (datetime(2030, 1, 1), "'2030-01-01' is in the future"),
    (90000, "'90000' is not a date (write e.g. 2025-03-01)"),
])
def test_unreadable_or_future_created_at_is_an_error(cell, message):
    fields, errors = one("created_at", cell)
    assert "created_at" not in fields
    assert errors["created_at"] == [message]


# ---------------------------------------------------------------- open_sheet: xlsx

def messy_workbook() -> bytes:
    """What a store really sends: a banner, a two-row header, blank rows, numbers for phones."""
    return xlsx([
        ["2025年客户名单"],
        ["姓名", "联系方式", None, "意向车型", "购车预算", "登记日期", "备注"],
        [None, "手机", "邮箱", None, None, None, None],
        ["王磊\u3000 ", 13800138000.0, "WL@Example.com ", "汉EV", "15-20万", 45658, "想周末试驾"],
        [],
        [None, None, None, None, None, None, None],
        ["李娜", "1.3800138E10", None, "秦PLUS", "10万以内", datetime(2025, 3, 1), None],
        ["张伟", "１３８００１３９０００", "zw@example.com", None, "约18万", "2025年3月2日", None],
        [None, "12", None, None, "面议", "2030-01-01", None],
    ], merges=["A1:G1", "B2:C2", "A2:A3", "D2:D3", "E2:E3", "F2:F3", "G2:G3"])


def test_messy_workbook_banner_two_row_header_blank_rows_and_number_phones():
    sheet = open_sheet(messy_workbook(), "客户名单.xlsx")
    assert sheet.headers == ["姓名", "手机", "邮箱", "意向车型", "购车预算", "登记日期", "备注"]
    mapping = suggest_mapping(sheet.headers)
    assert mapping == {0: "name", 1: "phone", 2: "email", 3: "model", 4: "budget", 5: "created_at",
                       6: "notes"}
    assert sheet.total == 6
    rows = read_all(sheet)
    assert [number for number, _ in rows] == [4, 7, 8, 9]
    assert rows[0][1] == ["王磊", "13800138000", "WL@Example.com", "汉EV", "15-20万", "45658", "想周末试驾"]
    read = [read_row(values, mapping, today=TODAY) for _, values in rows]
    assert read[0] == ({"name": "王磊", "phones": ["13800138000"], "emails": ["wl@example.com"],
                        "model": "汉EV", "budget": {"min": 15_000_000, "max": 20_000_000},
                        "created_at": datetime(2025, 1, 1), "notes": "想周末试驾"}, {})
    assert read[1] == ({"name": "李娜", "phones": ["13800138000"], "emails": [], "model": "秦PLUS",
                        "budget": {"min": 0, "max": 10_000_000},
                        "created_at": datetime(2025, 3, 1)}, {})
    assert read[2][0]["phones"] == ["13800139000"]
    assert read[2][0]["created_at"] == datetime(2025, 3, 2)
    assert set(read[3][1]) == {"phone", "budget", "created_at", "row"}


def test_header_row_is_the_first_with_two_known_headers():
    content = xlsx([["门店：浦东店", None, "导出时间 2025-06-01"], [], ["序号", "客户姓名", "手机"],
                    [1, "王磊", "13800138000"]])
    sheet = open_sheet(content, "a.xlsx")
    assert sheet.headers == ["序号", "客户姓名", "手机"]
    assert read_all(sheet) == [(4, ["1", "王磊", "13800138000"])]


def test_without_known_headers_the_first_non_blank_row_is_the_header():
    content = xlsx([[], ["列1", "列2"], ["王磊", "13800138000"]])
    sheet = open_sheet(content, "a.xlsx")
    assert sheet.headers == ["列1", "列2"]
    assert suggest_mapping(sheet.headers) == {}
    assert read_all(sheet) == [(3, ["王磊", "13800138000"])]


def test_a_first_data_row_that_reads_like_headers_is_not_a_sub_header():
    content = xlsx([["姓名", "手机", "来源"], ["王磊", "13800138000", "微信"]])
    sheet = open_sheet(content, "a.xlsx")
    assert sheet.headers == ["姓名", "手机", "来源"]
    assert read_all(sheet) == [(2, ["王磊", "13800138000", "微信"])]


def test_a_data_row_under_a_blank_header_cell_is_not_a_sub_header():
    text = csv_text([["姓名", "", "手机"], ["王磊", "微信", "13800138000"]])
    sheet = open_sheet(text.encode(), "a.csv")
    assert sheet.headers == ["姓名", "", "手机"]
    assert read_all(sheet) == [(2, ["王磊", "微信", "13800138000"])]


def test_rows_are_cut_and_padded_to_the_headers():
    content = xlsx([["姓名", "手机", None], ["王磊"], ["李娜", "13800138000", "x", "beyond"],
                    [None, None, None, "only beyond the headers"]])
    sheet = open_sheet(content, "a.xlsx")
    assert sheet.headers == ["姓名", "手机"]
    assert read_all(sheet) == [(2, ["王磊", None]), (3, ["李娜", "13800138000"])]


def test_first_worksheet_is_read_and_formulas_give_cached_values_or_nothing():
    workbook = openpyxl.Workbook()
    workbook.active.append(["姓名", "手机"])
    workbook.active.append(["王磊", "=1+1"])
    workbook.create_sheet("other").append(["城市", "品牌"])
    workbook.active = 1
    out = io.BytesIO()
    workbook.save(out)
    sheet = open_sheet(out.getvalue(), "a.XLSX")
    assert sheet.headers == ["姓名", "手机"]
    assert read_all(sheet) == [(2, ["王磊", None])]     # never calculated by Excel: no cached value


def test_large_workbook_is_streamed_and_its_size_counted_only_when_asked(monkeypatch):
    workbook = openpyxl.Workbook(write_only=True)  # records no dimension, as the bench's file
    sheet = workbook.create_sheet()
    sheet.append(["姓名", "手机", "登记日期"])
    for n in range(20_000):
        sheet.append([f"客户{n}", 13800000000 + n, 45658])
    out = io.BytesIO()
    workbook.save(out)

    def never(*args):
        raise AssertionError("the rows were counted")

    monkeypatch.setattr(spreadsheet, "_count_rows", never)
    read = open_sheet(out.getvalue(), "big.xlsx")
    assert iter(read.rows) is read.rows                  # a generator, not a list
    assert next(read.rows) == (2, ["客户0", "13800000000", "45658"])
    count, last = 1, None
    for last in read.rows:                               # read to the end without counting (a dry run)
        count += 1
    assert count == 20_000
    assert last == (20_001, ["客户19999", "13800019999", "45658"])
    monkeypatch.undo()
    assert read.total == 20_000                          # the <row> elements after the header, counted


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def with_sheet_xml(xml: str, strings: str | None = None) -> bytes:
    """A workbook whose first worksheet's XML (and shared strings table) is this."""
    workbook = openpyxl.Workbook()
    workbook.active.append(["x", "y"])
    workbook.active["C1"] = 1.5
    workbook.active["C1"].number_format = "yyyy-mm-dd"    # style 1: a date
    workbook.active["D1"] = 0.5
    workbook.active["D1"].number_format = "[h]:mm:ss"     # style 2: a duration
    saved = io.BytesIO()
    workbook.save(saved)
    out = io.BytesIO()
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = xml.encode()
            elif item.filename == "[Content_Types].xml" and strings is not None:
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="'
                                    b'application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings'
                                    b'+xml"/></Types>')
            target.writestr(item, data)
        if strings is not None:
            target.writestr("xl/sharedStrings.xml", strings)
    return out.getvalue()


def openpyxl_rows(content: bytes) -> list:
    """The rows as openpyxl's read-only, data-only mode gives them, cleaned."""
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    worksheet = workbook.worksheets[0]
    worksheet.reset_dimensions()
    rows = [[clean_cell(value) for value in values] for values in worksheet.iter_rows(values_only=True)]
    workbook.close()
    return rows


@pytest.mark.parametrize("chunk", [5, 64, 1 << 16])
def test_rows_without_a_dimension_are_counted_across_chunk_ends(monkeypatch, chunk):
    rows = "".join(f'<x:row r="{n}"><x:c r="A{n}" t="inlineStr"><x:is><x:t>客户{n}</x:t></x:is></x:c></x:row>'
                   for n in range(3, 503))
    content = with_sheet_xml(f'<x:worksheet xmlns:x="{MAIN}"><x:sheetData><x:row r="1"><x:c r="A1" t="inlineStr">'
                             '<x:is><x:t>姓名</x:t></x:is></x:c><x:c r="B1" t="inlineStr"><x:is><x:t>手机</x:t>'
                             f'</x:is></x:c></x:row><x:row r="2"/>{rows}</x:sheetData><x:rowBreaks/></x:worksheet>')
    monkeypatch.setattr(spreadsheet, "_CHUNK", chunk)
    sheet = open_sheet(content, "a.xlsx")
    assert read_all(sheet)[-1] == (502, ["客户502", None])
    assert sheet.total == 501                              # 502 <row>s, the header's one off


def test_worksheet_xml_is_read_as_openpyxl_reads_it():
    strings = (f'<sst xmlns="{MAIN}"><si><t>姓名</t></si><si><t>手机</t></si><si><r><t>王</t></r><r><rPr><b/></rPr>'
               '<t xml:space="preserve">磊 </t></r><rPh sb="0" eb="1"><t>wang</t></rPh></si>'
               '<si><t>a_x005F_x000D_b</t></si></sst>')
    xml = (f'<worksheet xmlns="{MAIN}"><dimension ref="A1:F3"/><sheetData>'
           '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
           '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2"><v>13800138000</v></c><c r="C2" s="1"><v>45658.5</v></c>'
           '<c r="D2" s="2"><v>1.25</v></c><c r="E2" t="b"><v>1</v></c><c r="F2" t="e"><v>#N/A</v></c></row>'
           '<row r="4"><c t="inlineStr"><is><r><t>李</t></r><r><t>娜</t></r><rPh sb="0" eb="1"><t>li</t></rPh></is></c>'
           '<c t="str"><f>A1</f><v>&lt;公式&amp;&gt;</v></c><c r="D4"><f>1+1</f></c>'
           '<c r="E4" t="d"><v>2025-03-01T10:00:00</v></c><c r="F4" t="s"><v>3</v></c></row>'
           '<row r="5" customFormat="1"/><row r="6"><c r="B6" s="1"><v>3000000</v></c><c r="C6">'
           '<v>1.5E3</v></c></row></sheetData></worksheet>')
    content = with_sheet_xml(xml, strings)
    expected = openpyxl_rows(content)
    assert expected[1] == ["王磊", "13800138000", datetime(2025, 1, 1, 12), "1 day, 6:00:00", "TRUE", None]
    assert expected[3] == ["李娜", "<公式&>", None, None, datetime(2025, 3, 1, 10), "a_x000D_b"]
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    read = spreadsheet._read_xml(io.BytesIO(xml.encode()), openpyxl_strings(content), spreadsheet._Dates(workbook), {})
    numbered = list(read)
    assert [number for number, _ in numbered] == [1, 2, 4, 5, 6]
    assert [values for _, values in numbered] == [expected[number - 1] for number, _ in numbered]
    sheet = open_sheet(content, "a.xlsx")
    assert sheet.headers == ["姓名", "手机"]
    assert read_all(sheet) == [(2, ["王磊", "13800138000"]), (4, ["李娜", "<公式&>"])]  # 6: a date out of range
    assert sheet.total == 2                                # the recorded dimension (A1:F3) less the header


def openpyxl_strings(content: bytes) -> list:
    with zipfile.ZipFile(io.BytesIO(content)) as archive, archive.open("xl/sharedStrings.xml") as source:
        strings: list = []
        list(spreadsheet._read_xml(source, strings, None, {}))
        return strings


xml_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\t\n "), max_size=20)


@given(st.lists(st.lists(st.one_of(
    st.none(), xml_text, st.integers(-10**15, 10**15),
    st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(9999, 1, 1))), max_size=6),
    min_size=1, max_size=8), st.booleans())
def test_any_workbook_reads_as_openpyxl_reads_it(rows, write_only):
    workbook = openpyxl.Workbook(write_only=write_only)    # no dimension recorded, else one
    sheet = workbook.create_sheet() if write_only else workbook.active
    for row in [["姓名", "手机"]] + rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    expected = [(number, (values + [None, None])[:2]) for number, values in
                enumerate(openpyxl_rows(out.getvalue()), 1) if number > 1 and values[:2] != [None] * len(values[:2])]
    assert read_all(open_sheet(out.getvalue(), "a.xlsx")) == expected


@pytest.mark.parametrize("doctype", [
    '<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    '<!DOCTYPE worksheet [<!ENTITY secret SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE worksheet SYSTEM "http://example.com/evil.dtd">',
])
def test_a_worksheet_with_a_document_type_declaration_is_refused(doctype):
    xml = (f'<?xml version="1.0"?>{doctype}<worksheet xmlns="{MAIN}"><sheetData><row r="1">'
           '<c r="A1" t="inlineStr"><is><t>姓名&b;</t></is></c><c r="B1" t="inlineStr"><is><t>手机</t></is></c>'
           '</row></sheetData></worksheet>')
    with pytest.raises(UnreadableFile, match="document type declaration"):
        open_sheet(with_sheet_xml(xml), "a.xlsx")


# ---------------------------------------------------------------- open_sheet: csv

def test_gb18030_csv_as_chinese_excel_saves_it():
    content = csv_text([["姓名", "手机", "城市"], ["张伟", "13800138000", "北京"],
                        ["李娜", "13900139000", "广州"]]).encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    sheet = open_sheet(content, "客户.csv")
    assert sheet.headers == ["姓名", "手机", "城市"]
    assert sheet.total == 2
    assert read_all(sheet) == [(2, ["张伟", "13800138000", "北京"]), (3, ["李娜", "13900139000", "广州"])]


def test_utf8_bom_csv_with_semicolons():
    text = csv_text([["客户名单", "", ""], ["", "", ""], ["Name", "E-mail", "Notes"],
                     ["王磊 ", "WL@Example.com", "wants a test drive, on Sunday"],
                     ["", "", ""], ["李娜", "", "1.3800138E10"]], delimiter=";")
    sheet = open_sheet(b"\xef\xbb\xbf" + text.encode("utf-8"), "leads.csv")
    assert sheet.headers == ["Name", "E-mail", "Notes"]
    assert suggest_mapping(sheet.headers) == {0: "name", 1: "email", 2: "notes"}
    assert sheet.total == 2
    assert read_all(sheet) == [(4, ["王磊", "WL@Example.com", "wants a test drive, on Sunday"]),
                               (6, ["李娜", None, "13800138000"])]


def test_tab_separated_utf16_text_as_excel_unicode_text_saves_it():
    text = csv_text([["姓名", "手机"], ["王磊", "13800138000"]], delimiter="\t")
    sheet = open_sheet(text.encode("utf-16"), "客户.txt")
    assert sheet.headers == ["姓名", "手机"]
    assert read_all(sheet) == [(2, ["王磊", "13800138000"])]


def test_csv_sep_hint_quoted_newlines_and_record_numbers():
    text = "sep=;\n" + csv_text([["姓名", "备注"], ["王磊", "第一行\n第二行"], ["李娜", "ok"]],
                                delimiter=";")
    sheet = open_sheet(text.encode(), "a.csv")
    assert sheet.headers == ["姓名", "备注"]
    assert read_all(sheet) == [(2, ["王磊", "第一行\n第二行"]), (3, ["李娜", "ok"])]


def test_comma_csv_whose_notes_hold_semicolons_is_still_comma_separated():
    text = csv_text([["姓名", "手机", "备注"]] + [["王磊", "13800138000", "a;b;c;d"]] * 5)
    assert open_sheet(text.encode(), "a.csv").headers == ["姓名", "手机", "备注"]


def test_csv_two_row_header():
    text = csv_text([["姓名", "联系方式", ""], ["", "手机", "邮箱"], ["王磊", "13800138000", "w@x.cn"]])
    sheet = open_sheet(text.encode(), "a.csv")
    assert sheet.headers == ["姓名", "手机", "邮箱"]
    assert sheet.total == 1
    assert read_all(sheet) == [(3, ["王磊", "13800138000", "w@x.cn"])]


def test_workbook_uploaded_with_a_csv_name_is_read_as_a_workbook():
    sheet = open_sheet(xlsx([["姓名", "手机"], ["王磊", "13800138000"]]), "a.csv")
    assert read_all(sheet) == [(2, ["王磊", "13800138000"])]


# ---------------------------------------------------------------- open_sheet: refusals

@pytest.mark.parametrize("content, filename, message", [
    (b"", "a.xlsx", "The file is empty."),
    (b"not a zip", "a.xlsx", "This is not an .xlsx workbook"),
    (b"PK\x03\x04garbage", "a.xlsx", "The .xlsx workbook is damaged"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "a.xls", "old-style .xls workbook"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "locked.xlsx", "password-protected"),
    (b"%PDF-1.4", "a.pdf", "Only .xlsx and .csv files can be read, not .pdf."),
    (b"data", "noextension", "not a file without an extension"),
    (b"\x00\x01\x02binary", "a.csv", "This is not a CSV text file."),
    ("姓名,手机\n".encode("gb18030") + b"\x80\x80\x80", "a.csv", "text encoding"),
    (b"\r\n\r\n,,\r\n", "a.csv", "The file has no rows to read"),
])
def test_unreadable_files_say_why(content, filename, message):
    with pytest.raises(UnreadableFile, match=message.replace(".", r"\.").replace("(", r"\(")):
        open_sheet(content, filename)


def test_empty_workbook_is_unreadable():
    with pytest.raises(UnreadableFile, match="no rows"):
        open_sheet(xlsx([]), "a.xlsx")


def test_unreadable_file_is_a_value_error():
    assert issubclass(UnreadableFile, ValueError)


# ---------------------------------------------------------------- properties

cell_values = st.one_of(
    st.none(),
    st.text(),
    st.text(alphabet="0123456789１２３万wW-~至.,/;、 \u3000\xa0eE+年月日:"),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.datetimes(),
    st.dates(),
    st.times(),
    st.booleans(),
)


@given(cell_values)
def test_clean_cell_never_raises_and_is_idempotent_on_text(value):
    cleaned = clean_cell(value)
    assert cleaned is None or isinstance(cleaned, (str, date))
    if isinstance(cleaned, str):
        assert cleaned and cleaned == cleaned.strip()
        assert clean_cell(cleaned) == cleaned


@given(st.integers(1, 100_000), st.sampled_from(["万", "w", "W", " 万"]))
def test_budget_round_trips_n_wan(n, unit):
    fields, _ = one("budget", f"{n}{unit}")
    assert fields["budget"] == {"min": n * 1_000_000, "max": n * 1_000_000}


@given(st.integers(1, 10_000), st.integers(1, 10_000), st.sampled_from(["-", "~", "至", "到", "－", "～"]),
       st.booleans(), st.integers(0, 9))
def test_budget_round_trips_n_to_m_wan_and_min_is_at_most_max(n, m, dash, both_units, tenths):
    low = f"{n}.{tenths}" if tenths else f"{n}"
    text = f"{low}{'万' if both_units else ''}{dash}{m}万"
    fields, _ = one("budget", text)
    low_fen = n * 1_000_000 + tenths * 100_000
    assert fields["budget"] == {"min": min(low_fen, m * 1_000_000), "max": max(low_fen, m * 1_000_000)}
    assert fields["budget"]["min"] <= fields["budget"]["max"]


known_headers = st.sampled_from([header for headers in SYNONYMS.values() for header in headers])
any_headers = st.lists(st.one_of(known_headers, st.text(max_size=12)), max_size=20)


@given(any_headers)
def test_suggest_mapping_never_maps_two_columns_to_one_field(headers):
    mapping = suggest_mapping(headers)
    assert len(set(mapping.values())) == len(mapping)
    assert set(mapping.values()) <= set(FIELDS)
    assert all(0 <= index < len(headers) for index in mapping)


@given(st.lists(st.tuples(known_headers, st.sampled_from([" ", "\u3000", "\xa0", "\t", ""]),
                          st.sampled_from([str.upper, str.lower, str.title, str.swapcase])),
                max_size=20))
def test_suggest_mapping_ignores_surrounding_whitespace_and_case(decorated):
    plain = [header for header, _, _ in decorated]
    messy = [f"{pad}{case(header)}{pad}" for header, pad, case in decorated]
    assert suggest_mapping(messy) == suggest_mapping(plain)


@given(st.lists(cell_values, max_size=len(FIELDS)), st.permutations(FIELDS),
       st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)))
def test_read_row_never_raises(values, fields, today):
    mapping = dict(zip(range(len(values)), fields))
    found, errors = read_row(values, mapping, today=today)
    assert isinstance(found["phones"], list) and isinstance(found["emails"], list)
    assert all(isinstance(messages, list) and all(isinstance(m, str) for m in messages)
               for messages in errors.values())
    assert set(found) - {"phones", "emails"} <= set(FIELDS) - {"phone", "email"}
    budget = found.get("budget")
    if budget and budget["max"] is not None:
        assert 0 <= budget["min"] <= budget["max"]
    if "created_at" in found:
        assert found["created_at"].date() <= today
    for key in ("name", "city", "notes"):
        assert key not in found or (isinstance(found[key], str) and found[key])
