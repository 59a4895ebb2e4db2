"""The funnel and the KPIs about leads (docs/analytics.md): each report is
one or two aggregate queries over the leads of a scope, counted with one
condition per figure (``condition``), so that the figure and the leads
behind it (``GET /v1/leads?metric=``, ``segment_filters``) can never
disagree. Medians are taken in Python from the one column they need, the
same way on SQLite and PostgreSQL.

The cohort is the leads created in the range, in the actor's scope (a
consultant: their own), without inquiries that joined another lead.
"""
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from statistics import median
from zoneinfo import ZoneInfo

from marshmallow import ValidationError
from sqlalchemy import and_, case, delete, func, literal, select, true

from dealerflow.actor import CONSULTANT, GROUP_ADMIN, Actor
from dealerflow.analytics_contracts import (
    BUDGET_BANDS,
    FUNNEL_STAGES,
    RESPONSE_BUCKETS,
    AnalyticsQuery,
    SourceCostIn,
    bucket_name,
)
from dealerflow.contracts import OPEN_STATUSES, STAGES, schema
from dealerflow.db import UTCDateTime, utcnow
from services.leads.exceptions import InvalidChange, InvalidQuery, LeadNotFound, NotAllowed
from services.leads.models import Lead, LeadEvent, RosterMember, SourceCost, StoreSettings
from services.leads.scoping import visible_leads

DEFAULT_ZONE = "Asia/Shanghai"
MAX_DAYS = 3 * 366
# open and owned, with no activity this long: stalled (the default cadence plus a day)
STALLED_AFTER_DAYS = {"H": 2, "A": 3, "B": 8, "C": 15, "N": 2}
WAITING = ("accepted", "pooled", "assigned")  # open, not contacted yet
COUNTS = ("leads", "contacted", "appointment", "visited", "showed", "test_drive", "won", "lost",
          "loss_pending", "stalled")
DEMAND_TOP = 10
BAND_LIMITS = (100_000_00, 200_000_00, 300_000_00, 500_000_00)  # fen: the BUDGET_BANDS' edges


@dataclass
class Scope:
    from_: date
    to: date
    zone: str
    start: datetime       # the range as UTC instants, [start, end)
    end: datetime
    now: datetime
    stores: tuple         # the stores it covers
    segment: list         # who and what: the actor's leads narrowed by the filters
    query: dict
    own: str | None = None  # a consultant's own figures only: their id

    @property
    def cohort(self) -> list:
        return [*self.segment, Lead.created_at >= self.start, Lead.created_at < self.end]

    def dump(self) -> dict:
        """As ``ScopeOut`` reads it."""
        return {"from_": self.from_, "to": self.to, "timezone": self.zone, "created_from": self.start,
                "created_to": self.end}


def scope_of(session, actor: Actor, query: dict, now=None) -> Scope:
    if not actor.is_user:
        raise NotAllowed("Analytics are for staff.")
    try:
        query = schema(AnalyticsQuery).load(query or {})
    except ValidationError as exc:
        raise InvalidQuery(exc.messages)
    store_code = query.get("store_code")
    if store_code and store_code not in actor.stores:
        raise LeadNotFound(store_code)
    stores = (store_code,) if store_code else tuple(actor.stores)
    settings = session.get(StoreSettings, store_code) if store_code else None
    zone = settings.timezone if settings else DEFAULT_ZONE
    now = now or utcnow()
    to = query.get("to") or now.astimezone(ZoneInfo(zone)).date()
    from_ = query.get("from_") or to - timedelta(days=29)
    if from_ > to:
        raise InvalidQuery({"from": ["the first day comes after the last (to)"]})
    if (to - from_).days >= MAX_DAYS:
        raise InvalidQuery({"from": [f"at most {MAX_DAYS} days at a time"]})
    segment = [visible_leads(actor), Lead.status != "joined", *segment_filters(query, now)]
    if actor.role == CONSULTANT:
        segment.append(Lead.consultant_id == actor.user_id)
    return Scope(from_, to, zone, midnight(from_, zone), midnight(to + timedelta(days=1), zone), now,
                 stores, segment, query, actor.user_id if actor.role == CONSULTANT else None)


def midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(), ZoneInfo(zone)).astimezone(timezone.utc)


# -- which leads a figure counts ----------------------------------------------------

def segment_filters(query: dict, now) -> list:
    """The WHERE clauses of the filters the reports and the drill-down share
    (beside ``store_code``, ``consultant_id``, ``source`` and ``channel``,
    which the lead list has too and applies itself when given to it)."""
    clauses = [column == query[name] for name, column in (
        ("store_code", Lead.store_code), ("consultant_id", Lead.consultant_id), ("source", Lead.source),
        ("channel", Lead.channel), ("lost_reason", Lead.lost_reason)) if query.get(name)]
    if query.get("team_id"):
        clauses.append(Lead.consultant_id.in_(select(RosterMember.user_id).where(
            RosterMember.team_id == query["team_id"])))
    for name in ("brand", "model", "fuel_type", "budget_band"):
        if query.get(name):
            value = query[name]
            clauses.append(KEYS[name]() == (value.upper() if name == "fuel_type" else value))
    if query.get("metric"):
        clauses.append(condition(query["metric"], now))
    return clauses


def condition(metric: str, now):
    """The leads a figure counts (``METRICS``), as a WHERE clause."""
    if metric.startswith("reached_"):
        stage = metric[len("reached_"):]
        if stage == "won":
            return Lead.status == "won"
        return true() if stage == STAGES[0] else getattr(Lead, f"{stage}_at").isnot(None)
    if metric.startswith("in_"):
        return and_(Lead.status.in_(OPEN_STATUSES), Lead.stage == metric[len("in_"):])
    if metric.startswith("response_"):
        start, end = BUCKETS[metric]
        return and_(Lead.response_seconds >= start * 60,
                    Lead.response_seconds < end * 60 if end is not None else true())
    return {
        "leads": lambda: true(),
        "contacted": lambda: Lead.first_contact_at.isnot(None),
        "appointment": lambda: Lead.appointment_at.isnot(None),
        "visited": lambda: Lead.visited_at.isnot(None),
        "showed": lambda: and_(Lead.appointment_at.isnot(None), Lead.visited_at.isnot(None)),
        "test_drive": lambda: Lead.test_drive_at.isnot(None),
        "won": lambda: Lead.status == "won",
        "lost": lambda: Lead.status == "lost",
        "loss_pending": lambda: Lead.status == "loss_pending",
        "waiting": lambda: and_(Lead.status.in_(WAITING), Lead.first_contact_at.is_(None)),
        "stalled": lambda: stalled(now),
    }[metric]()


BUCKETS = {bucket_name(*bucket): bucket for bucket in RESPONSE_BUCKETS}


def stalled(now):
    since = func.coalesce(Lead.last_activity_at, Lead.assigned_at, Lead.created_at)
    allowed = case({grade: literal(now - timedelta(days=days), UTCDateTime())
                    for grade, days in STALLED_AFTER_DAYS.items()}, value=Lead.grade,
                   else_=literal(now - timedelta(days=max(STALLED_AFTER_DAYS.values())), UTCDateTime()))
    return and_(Lead.status.in_(("assigned", "contacted")), since < allowed)


def counted(metric: str, now):
    return func.count(case((condition(metric, now), 1))).label(metric)


def revenue():
    return func.coalesce(func.sum(case((Lead.status == "won", Lead.deal_value))), 0).label("revenue")


def budget_band():
    budget = func.coalesce(Lead.interest["budget_max"].as_integer(), Lead.interest["budget_min"].as_integer())
    return case((budget.is_(None), "unknown"),
                *((budget < limit, band) for limit, band in zip(BAND_LIMITS, BUDGET_BANDS)),
                else_=BUDGET_BANDS[len(BAND_LIMITS)])


KEYS = {  # what a lead asked for, by ``by``
    "brand": lambda: Lead.interest["brand"].as_string(),
    "model": lambda: Lead.interest["model"].as_string(),
    "fuel_type": lambda: func.upper(Lead.interest["fuel_type"].as_string()),
    "budget_band": budget_band,
}


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def median_of(values) -> float | None:
    return round(median(values), 1) if values else None


def minutes_median_by(session, scope: Scope, keys: list, seconds) -> dict:
    """The median of ``seconds`` (a column), in minutes, for each value of
    ``keys`` (a tuple of them; ``()``: over the whole cohort). PostgreSQL
    takes it itself (``percentile_cont``); SQLite has no such aggregate, so
    the values come here."""
    where = [*scope.cohort, seconds.isnot(None)]
    if session.get_bind().dialect.name == "postgresql":
        middle = func.percentile_cont(0.5).within_group(seconds)
        return {tuple(row[:-1]): round(row[-1] / 60, 1) for row in session.execute(
            select(*keys, middle).where(*where).group_by(*keys)) if row[-1] is not None}  # none: no values
    values = {}
    for row in session.execute(select(*keys, seconds).where(*where)):
        values.setdefault(tuple(row[:-1]), []).append(row[-1] / 60)
    return {key: median_of(minutes) for key, minutes in values.items()}


# -- the reports --------------------------------------------------------------------

def funnel(session, scope: Scope) -> dict:
    stage_names = [f"reached_{stage}" for stage in FUNNEL_STAGES] + [f"in_{stage}" for stage in STAGES[:-1]]
    row = session.execute(select(*(counted(name, scope.now) for name in (*COUNTS, *stage_names)))
                          .where(*scope.cohort)).one()._mapping
    counts = {name: row[name] for name in COUNTS}
    reached = [row[f"reached_{stage}"] for stage in FUNNEL_STAGES]
    hours = stage_hours(session, scope)
    stages = [{"stage": stage, "reached": reached[i], "current": row.get(f"in_{stage}", 0),
               "conversion": rate(reached[i + 1], reached[i]) if i + 1 < len(reached) else None,
               "median_hours": median_of(hours[i]) if i < len(hours) else None}
              for i, stage in enumerate(FUNNEL_STAGES)]
    reasons = session.execute(select(Lead.lost_reason, func.count()).where(
        *scope.cohort, Lead.status.in_(("lost", "loss_pending"))).group_by(Lead.lost_reason)
        .order_by(func.count().desc(), Lead.lost_reason)).all()
    return {"scope": scope.dump(), "counts": counts, "rates": rates(counts), "stages": stages,
            "lost_reasons": [{"key": reason or "unknown", "count": count} for reason, count in reasons]}


def rates(counts: dict) -> dict:
    return {"contact_rate": rate(counts["contacted"], counts["leads"]),
            "appointment_rate": rate(counts["appointment"], counts["contacted"]),
            "show_rate": rate(counts["showed"], counts["appointment"]),
            "test_drive_rate": rate(counts["test_drive"], counts["leads"]),
            "close_rate": rate(counts["won"], counts["leads"]),
            "lost_rate": rate(counts["lost"] + counts["loss_pending"], counts["leads"])}


def stage_hours(session, scope: Scope) -> list[list[float]]:
    """For each stage but the last, the hours from reaching it to reaching
    the next, of the leads that did."""
    moments = [Lead.created_at, *(getattr(Lead, f"{stage}_at") for stage in FUNNEL_STAGES[1:-1]),
               case((Lead.status == "won", Lead.closed_at))]
    spans = [[] for _ in moments[1:]]
    for row in session.execute(select(*moments).where(*scope.cohort, Lead.needs_confirmed_at.isnot(None)
                                                      | (Lead.status == "won"))):
        for i, (start, end) in enumerate(zip(row, row[1:])):
            if start is not None and end is not None:
                spans[i].append((end - start).total_seconds() / 3600)
    return spans


def sources(session, scope: Scope) -> dict:
    rows = session.execute(select(Lead.source, Lead.channel, *(counted(name, scope.now) for name in (
        "leads", "contacted", "test_drive", "won")), revenue()).where(*scope.cohort)
        .group_by(Lead.source, Lead.channel)).all()
    speeds = minutes_median_by(session, scope, [Lead.source, Lead.channel], Lead.response_seconds)
    costs = source_costs(session, scope)
    leads_of = {}
    for row in rows:
        leads_of[row.source] = leads_of.get(row.source, 0) + row.leads
    answer = []
    for row in sorted(rows, key=lambda row: (-row.leads, row.source, row.channel)):
        cost = costs.get(row.source)
        cost = round(cost * row.leads / leads_of[row.source]) if cost is not None else None
        answer.append({
            "source": row.source, "channel": row.channel, "leads": row.leads, "contacted": row.contacted,
            "contact_rate": rate(row.contacted, row.leads), "test_drive": row.test_drive,
            "test_drive_rate": rate(row.test_drive, row.leads), "won": row.won, "win_rate": rate(row.won, row.leads),
            "median_response_minutes": speeds.get((row.source, row.channel)), "revenue": row.revenue,
            "cost": cost, "cost_per_lead": round(cost / row.leads) if cost is not None and row.leads else None,
            "cost_per_sale": round(cost / row.won) if cost is not None and row.won else None})
    return {"scope": scope.dump(), "rows": answer}


def source_costs(session, scope: Scope) -> dict[str, float]:
    """Each source's cost over the range: its monthly costs in the scope's
    stores, each prorated to the days of its month within the range. A
    source of several channels shares it among them by their leads."""
    months = {f"{day.year:04d}-{day.month:02d}" for day in days(scope.from_, scope.to)}
    query = select(SourceCost).where(SourceCost.store_code.in_(scope.stores), SourceCost.month.in_(months))
    if scope.query.get("source"):
        query = query.where(SourceCost.source == scope.query["source"])
    total = {}
    for cost in session.scalars(query):
        year, month = map(int, cost.month.split("-"))
        length = monthrange(year, month)[1]
        first, last = max(scope.from_, date(year, month, 1)), min(scope.to, date(year, month, length))
        total[cost.source] = total.get(cost.source, 0) + cost.amount * ((last - first).days + 1) / length
    return total


def days(first: date, last: date):
    return (first + timedelta(days=n) for n in range((last - first).days + 1))


def periods(scope: Scope) -> tuple[str, list[tuple[str, datetime, datetime]]]:
    """The range cut into days (up to 31), weeks from Monday (up to 26) or
    months: the interval and each period's label and UTC bounds."""
    length = (scope.to - scope.from_).days + 1
    interval = "day" if length <= 31 else "week" if length <= 182 else "month"
    starts, day = [], scope.from_
    while day <= scope.to:
        starts.append(day)
        if interval == "day":
            day += timedelta(days=1)
        elif interval == "week":
            day += timedelta(days=7 - day.weekday())
        else:
            day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    ends = starts[1:] + [scope.to + timedelta(days=1)]

    def label(day: date) -> str:
        if interval == "week":
            year, week, _ = day.isocalendar()
            return f"{year}-W{week:02d}"
        return day.isoformat() if interval == "day" else day.isoformat()[:7]
    return interval, [(label(start), midnight(start, scope.zone), midnight(end, scope.zone))
                      for start, end in zip(starts, ends)]


def demand(session, scope: Scope) -> dict:
    by = scope.query["by"]
    interval, cuts = periods(scope)
    keys = [KEYS["brand"](), KEYS["model"]()] if by == "model" else [KEYS[by]()]
    per_period = [func.count(case((and_(Lead.created_at >= start, Lead.created_at < end), 1)))
                  for _, start, end in cuts]
    series = {}
    for row in session.execute(select(*keys, *per_period).where(*scope.cohort).group_by(*keys)):
        parts = row[:len(keys)]
        key = " ".join(part for part in parts if part) or "unknown"
        named = series.setdefault(key, {"key": key, "counts": [0] * len(cuts),
                                        **(dict(zip(("brand", "model"), parts)) if by == "model" else {})})
        named["counts"] = [was + count for was, count in zip(named["counts"], row[len(keys):])]
    ranked = sorted(series.values(), key=lambda named: (-sum(named["counts"]), named["key"]))
    top, rest = ranked[:DEMAND_TOP], ranked[DEMAND_TOP:]
    if rest:
        top.append({"key": "other", "counts": [sum(column) for column in zip(*(named["counts"] for named in rest))]})
    return {"scope": scope.dump(), "by": by, "interval": interval, "periods": [label for label, _, _ in cuts],
            "series": [dict(named, total=sum(named["counts"])) for named in top]}


def consultants(session, scope: Scope) -> dict:
    """A row for every consultant of the scope (with no lead in it too), in
    their store's ranking: by wins, then revenue."""
    roster = select(RosterMember).where(RosterMember.store_code.in_(scope.stores),
                                        RosterMember.role == CONSULTANT)
    for name, column in (("consultant_id", RosterMember.user_id), ("team_id", RosterMember.team_id)):
        if scope.query.get(name):
            roster = roster.where(column == scope.query[name])
    if scope.own:  # a consultant sees their own row, not colleagues' zeros
        roster = roster.where(RosterMember.user_id == scope.own)
    people = {}
    for member in session.scalars(roster.order_by(RosterMember.store_code, RosterMember.user_id)):
        people.setdefault(member.user_id, member)
    figures = {row.consultant_id: row for row in session.execute(
        select(Lead.consultant_id, *(counted(name, scope.now) for name in (
            "leads", "appointment", "visited", "test_drive", "won")), revenue())
        .where(*scope.cohort, Lead.consultant_id.isnot(None)).group_by(Lead.consultant_id))}
    speeds = minutes_median_by(session, scope, [Lead.consultant_id], Lead.owner_response_seconds)
    late = LeadEvent.details["consultant_id"].as_string()
    breaches = dict(session.execute(select(late, func.count()).join(Lead, Lead.id == LeadEvent.lead_id).where(
        LeadEvent.change == "sla_breached", LeadEvent.at >= scope.start, LeadEvent.at < scope.end,
        *scope.segment).group_by(late)).all())
    rows = []
    for user_id in sorted(set(people) | set(figures)):
        member, row = people.get(user_id), figures.get(user_id)
        rows.append({
            "consultant_id": user_id, "name": member.display_name if member else None,
            "store_code": member.store_code if member else None, "leads": row.leads if row else 0,
            "median_response_minutes": speeds.get((user_id,)), "sla_breaches": breaches.get(user_id, 0),
            "appointments": row.appointment if row else 0, "visits": row.visited if row else 0,
            "test_drives": row.test_drive if row else 0, "wins": row.won if row else 0,
            "revenue": row.revenue if row else 0})
    rows.sort(key=lambda row: (row["store_code"] or "", -row["wins"], -row["revenue"], row["name"] or "",
                               row["consultant_id"]))
    before, position = None, 0
    for row in rows:  # 1, 1, 3: ties share a rank
        if before is None or before["store_code"] != row["store_code"]:
            before, position = None, 0
        position += 1
        tied = before is not None and (before["wins"], before["revenue"]) == (row["wins"], row["revenue"])
        row["rank"], before = before["rank"] if tied else position, row
    return {"scope": scope.dump(), "rows": rows}


def response_times(session, scope: Scope) -> dict:
    """The histogram of first-response times, overall and per store (a
    group's scope) or per consultant (one store's)."""
    per = "store" if len(scope.stores) > 1 else "consultant"
    key = Lead.store_code if per == "store" else Lead.consultant_id
    names = [bucket_name(*bucket) for bucket in RESPONSE_BUCKETS]
    rows = session.execute(select(key, *(counted(name, scope.now) for name in (*names, "contacted", "waiting")))
                           .where(*scope.cohort).group_by(key)).all()
    speeds = minutes_median_by(session, scope, [key], Lead.response_seconds)
    everyone = minutes_median_by(session, scope, [], Lead.response_seconds).get(())
    labels = names_of(session, per, [row[0] for row in rows])
    groups = [{"key": row[0], "name": labels.get(row[0]), "counts": list(row[1:len(names) + 1]),
               "contacted": row.contacted, "under_5_share": rate(sum(row[1:3]), row.contacted),
               "median_minutes": speeds.get((row[0],))}
              for row in sorted(rows, key=lambda row: (-row.contacted, row[0] or "")) if row[0]]
    totals = [sum(row[i + 1] for row in rows) for i in range(len(names))]
    contacted = sum(row.contacted for row in rows)
    return {"scope": scope.dump(), "per": per, "groups": groups,
            "buckets": [{"metric": name, "from_minutes": start, "to_minutes": end, "count": count}
                        for name, (start, end), count in zip(names, RESPONSE_BUCKETS, totals)],
            "contacted": contacted, "waiting": sum(row.waiting for row in rows),
            "under_5_share": rate(sum(totals[:2]), contacted), "median_minutes": everyone}


def names_of(session, per: str, keys: list) -> dict:
    if per == "store":
        return {key: key for key in keys}
    return dict(session.execute(select(RosterMember.user_id, RosterMember.display_name)
                                .where(RosterMember.user_id.in_([key for key in keys if key]))).all())


# -- the cost of a source -------------------------------------------------------------

def may_cost(actor: Actor, store_code: str) -> None:
    if not actor.is_user or actor.role not in ("manager", GROUP_ADMIN):
        raise NotAllowed("Only managers enter what a lead source costs.")
    if store_code not in actor.stores:
        raise LeadNotFound(store_code)


def list_source_costs(session, actor: Actor, store_code: str | None) -> list[SourceCost]:
    stores = [store_code] if store_code else list(actor.stores)
    if store_code and store_code not in actor.stores:
        raise LeadNotFound(store_code)
    return list(session.scalars(select(SourceCost).where(SourceCost.store_code.in_(stores))
                                .order_by(SourceCost.store_code, SourceCost.month.desc(), SourceCost.source)))


def save_source_cost(session, actor: Actor, data: dict) -> SourceCost | None:
    """Set a store's cost of a source in a month (``amount`` null: remove it)."""
    try:
        data = schema(SourceCostIn).load(data if isinstance(data, dict) else {})
    except ValidationError as exc:
        raise InvalidChange("The cost is not valid; see errors.", exc.messages)
    may_cost(actor, data["store_code"])
    key = (data["store_code"], data["source"], data["month"])
    if data["amount"] is None:
        session.execute(delete(SourceCost).where(SourceCost.store_code == key[0], SourceCost.source == key[1],
                                                 SourceCost.month == key[2]))
        session.commit()
        return None
    cost = session.get(SourceCost, key, with_for_update=True) or SourceCost(
        store_code=key[0], source=key[1], month=key[2], currency="CNY")
    cost.amount, cost.updated_by, cost.updated_at = data["amount"], actor.user_id, utcnow()
    session.add(cost)
    session.commit()
    return cost
