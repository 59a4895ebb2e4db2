"""The analytics' tables as files (``GET /v1/analytics/export``): each
report's table as a header and rows, written as CSV (UTF-8 with a byte
order mark, so that Excel in China opens the Chinese right) or as an
``.xlsx`` sheet (openpyxl, write-only). Headers are in the caller's language."""
import csv
import io

from openpyxl import Workbook

from dealerflow.contracts import RESPONSE_BUCKETS

# a column's key in the report, and its header in Chinese and English
LABELS = {
    "stage": ("阶段", "Stage"), "reached": ("到达", "Reached"), "current": ("当前在此", "In it now"),
    "conversion": ("转化率", "Conversion"), "median_hours": ("停留中位数（小时）", "Median hours in stage"),
    "figure": ("指标", "Figure"), "value": ("数值", "Value"), "key": ("项目", "Item"), "count": ("数量", "Count"),
    "source": ("来源", "Source"), "channel": ("渠道", "Channel"), "leads": ("线索", "Leads"),
    "contacted": ("已联系", "Contacted"), "contact_rate": ("联系率", "Contact rate"),
    "test_drive": ("试驾", "Test drives"), "test_drive_rate": ("试驾率", "Test-drive rate"),
    "won": ("成交", "Won"), "win_rate": ("成交率", "Win rate"),
    "median_response_minutes": ("首次响应中位数（分钟）", "Median first response (minutes)"),
    "revenue": ("成交额（元）", "Revenue (yuan)"), "cost": ("费用（元）", "Cost (yuan)"),
    "cost_per_lead": ("单条线索成本（元）", "Cost per lead (yuan)"),
    "cost_per_sale": ("单台成交成本（元）", "Cost per sale (yuan)"), "total": ("合计", "Total"),
    "consultant_id": ("顾问编号", "Consultant id"), "name": ("姓名", "Name"), "store_code": ("门店", "Store"),
    "followups_done": ("跟进次数", "Follow-ups done"), "tasks_due": ("到期任务", "Tasks due"),
    "on_time_rate": ("按时率", "On-time rate"), "sla_breaches": ("超时未响应", "SLA breaches"),
    "appointments": ("邀约", "Appointments"), "visits": ("到店", "Visits"), "test_drives": ("试驾", "Test drives"),
    "wins": ("成交", "Wins"), "rank": ("店内排名", "Rank in store"),
    "under_5_share": ("5分钟内占比", "Share under 5 minutes"), "median_minutes": ("中位数（分钟）", "Median minutes"),
}
MONEY = {"revenue", "cost", "cost_per_lead", "cost_per_sale"}  # minor units, written in yuan
COLUMNS = {
    "funnel": ("stage", "reached", "current", "conversion", "median_hours"),
    "lost_reasons": ("key", "count"),
    "sources": ("source", "channel", "leads", "contacted", "contact_rate", "test_drive", "test_drive_rate", "won",
                "win_rate", "median_response_minutes", "revenue", "cost", "cost_per_lead", "cost_per_sale"),
    "consultants": ("rank", "name", "store_code", "leads", "followups_done", "tasks_due", "on_time_rate",
                    "median_response_minutes", "sla_breaches", "appointments", "visits", "test_drives", "wins",
                    "revenue", "consultant_id"),
}
REPORT_OF = {"funnel": "funnel", "rates": "funnel", "lost_reasons": "funnel", "sources": "sources",
             "demand": "demand", "consultants": "consultants", "response_times": "response_times"}


def label(key: str, lang: str) -> str:
    zh, en = LABELS.get(key, (key, key))
    return zh if lang.startswith("zh") else en


def bucket_label(start: int, end: int | None) -> str:
    def words(minutes: int) -> str:
        return f"{minutes // 60}h" if minutes >= 60 and minutes % 60 == 0 else f"{minutes}m"
    return f"{words(start)}-{words(end)}" if end is not None else f"{words(start)}+"


def table(name: str, report: dict, lang: str) -> tuple[list[str], list[list]]:
    """The header and rows of one table of a report's answer."""
    if name == "rates":
        figures = [*report["counts"].items(), *report["rates"].items()]
        return [label("figure", lang), label("value", lang)], [[key, value] for key, value in figures]
    if name == "demand":
        return ([label("key", lang), label("total", lang), *report["periods"]],
                [[series["key"], series["total"], *series["counts"]] for series in report["series"]])
    if name == "response_times":
        buckets = [bucket_label(*bucket) for bucket in RESPONSE_BUCKETS]
        everyone = [label("total", lang), None, [bucket["count"] for bucket in report["buckets"]],
                    report["contacted"], report["under_5_share"], report["median_minutes"]]
        rows = [everyone] + [[group["key"], group["name"], group["counts"], group["contacted"],
                              group["under_5_share"], group["median_minutes"]] for group in report["groups"]]
        return ([label("key", lang), label("name", lang), *buckets, label("contacted", lang),
                 label("under_5_share", lang), label("median_minutes", lang)],
                [[key, who, *counts, *rest] for key, who, counts, *rest in rows])
    columns = COLUMNS[name]
    rows = report["stages"] if name == "funnel" else report[name] if name == "lost_reasons" else report["rows"]
    return ([label(column, lang) for column in columns],
            [[yuan(row.get(column)) if column in MONEY else row.get(column) for column in columns] for row in rows])


def yuan(minor: int | None) -> float | None:
    return None if minor is None else minor / 100


def inert(value):
    """Text a spreadsheet would run as a formula (a source's name comes from
    outside: ``=HYPERLINK(...)``) is kept as text, behind an apostrophe."""
    return "'" + value if isinstance(value, str) and value[:1] in FORMULA_STARTS else value


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_csv(header: list, rows: list) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows([inert(value) for value in row] for row in rows)
    return ("\ufeff" + text.getvalue()).encode("utf-8")


def as_xlsx(title: str, header: list, rows: list) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(header)
    for row in rows:
        sheet.append([inert(value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
