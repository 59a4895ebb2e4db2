// What the analytics pages share that is not a component: the codes of the
// analytics API (mirroring dealerflow/analytics_contracts.py), the
// dashboard's filters as they sit in the URL, the drill-down query behind
// a figure, numbers in words (percent, minutes, money), a demand period as
// instants, exports saved as files, and an error as one sentence.
import * as api from "../api.js";
import { i18n, label, language } from "../i18n.js";
import { localDay, money } from "../format.js";
import { download } from "./testDrives.js";

export const FUNNEL_STAGES = ["initial_contact", "needs_confirmed", "proposal", "negotiation", "won"];
export const COUNTS = ["leads", "contacted", "appointment", "visited", "showed", "test_drive", "won", "lost",
                       "loss_pending", "stalled"];
// each dealer rate and the counts it is made of: [numerator, denominator]
export const RATES = {
  contact_rate: ["contacted", "leads"],
  appointment_rate: ["appointment", "contacted"],
  show_rate: ["showed", "appointment"],
  test_drive_rate: ["test_drive", "leads"],
  close_rate: ["won", "leads"],
  lost_rate: [null, "leads"],          // lost + loss pending: two figures, shown as the two counts
};
export const DEMAND_BY = ["model", "brand", "fuel_type", "budget_band"];
export const RANGES = [7, 30, 90];     // the quick chips: the last n days up to today
export const REPORTS = ["funnel", "sources", "demand", "consultants", "response-times"];

// the dashboard's filters: in its URL and in every report's query, by the API's names
export const FILTERS = ["from", "to", "store_code", "team_id", "consultant_id", "channel", "source", "brand", "model"];
// what GET /v1/leads takes for a drill-down (analytics/leads reads these from its URL)
export const DRILL = ["created_from", "created_to", "store_code", "team_id", "consultant_id", "channel", "source",
                      "brand", "model", "metric", "lost_reason", "fuel_type", "budget_band"];

const t = (...args) => i18n.global.t(...args);
const pick = (query, names) => Object.fromEntries(names.filter((name) => query[name]).map((name) => [name, String(query[name])]));

/** The dashboard's filters in a route's query (only those set). */
export function dashboardFilters(query) {
  return pick(query, FILTERS);
}

/** A drill-down's `GET /v1/leads` filters in a route's query. */
export function drillFilters(query) {
  return pick(query, DRILL);
}

/**
 * The route of the leads behind a figure: the answer's range as instants
 * (`scope.created_from` / `created_to`), the dashboard's other filters, and
 * what the figure is (`{metric}`, `{lost_reason}`, `{source, channel}`,
 * `{consultant_id}`, ...). `back` is the dashboard's own path to return to.
 */
export function drillRoute(scope, filters, extra, back) {
  const { from, to, ...rest } = filters;
  const query = { ...rest, created_from: scope?.created_from, created_to: scope?.created_to, ...extra,
                  from: scope?.from || from, to: scope?.to || to, back };
  for (const [name, value] of Object.entries(query)) if (value === undefined || value === null || value === "") delete query[name];
  return { name: "analyticsLeads", query };
}

// -- numbers in words -------------------------------------------------------------

/** A fraction (0..1) as a percentage: `42%`, `4.5%`; null (no denominator) as `—`. */
export function percent(fraction) {
  if (fraction === null || fraction === undefined) return "—";
  return new Intl.NumberFormat(language(), { style: "percent", maximumFractionDigits: 1 }).format(fraction);
}

/** A quantity of a unit in the app's language (Intl): `3.5分钟` / `3.5 min`, `20小时` / `20 hr`. */
const quantity = (value, unit) => new Intl.NumberFormat(language(), {
  style: "unit", unit, unitDisplay: "short", maximumFractionDigits: 1,
}).format(value);

/** Minutes in words: `3.5分钟` / `3.5 min`; two hours or more in hours; null as `—`. */
export function minutesText(minutes) {
  if (minutes === null || minutes === undefined) return "—";
  return minutes >= 120 ? quantity(minutes / 60, "hour") : quantity(minutes, "minute");
}

/** Hours in words (a stage's median time), two days or more in days. */
export function hoursText(hours) {
  if (hours === null || hours === undefined) return "—";
  return hours >= 48 ? quantity(hours / 24, "day") : quantity(hours, "hour");
}

/** Money in minor units (fen) as yuan; null as `—`. */
export function yuan(minor) {
  return minor === null || minor === undefined ? "—" : money(minor);
}

/** A response-time bucket in words, from its minutes: `不到 1 分钟`, `5–15 分钟`, `1–4 小时`, `1 天以上`. */
export function bucketText(fromMinutes, toMinutes) {
  if (!fromMinutes) return t("analytics.bucket.under", { n: toMinutes });
  if (toMinutes === null || toMinutes === undefined) {
    return fromMinutes >= 1440 ? t("analytics.bucket.daysPlus", { n: fromMinutes / 1440 })
      : t("analytics.bucket.minutesPlus", { n: fromMinutes });
  }
  if (fromMinutes >= 60) return t("analytics.bucket.hours", { from: fromMinutes / 60, to: toMinutes / 60 });
  return t("analytics.bucket.minutes", { from: fromMinutes, to: toMinutes });
}

/** A funnel stage's name (won included). */
export function stageText(stage) {
  return label("funnelStage", stage);
}

/** What a drill-down metric counts, in words: `试驾`, `到达「方案提供」`, `首次响应 5–15 分钟`. */
export function metricText(metric) {
  if (!metric) return t("analytics.metric.leads");
  let match = /^reached_(\w+)$/.exec(metric);
  if (match) return t("analytics.metric.reached", { stage: stageText(match[1]) });
  match = /^in_(\w+)$/.exec(metric);
  if (match) return t("analytics.metric.in", { stage: stageText(match[1]) });
  match = /^response_(\d+)_(\d+|plus)$/.exec(metric);
  if (match) {
    const to = match[2] === "plus" ? null : Number(match[2]);
    return t("analytics.metric.response", { bucket: bucketText(Number(match[1]), to) });
  }
  return label("analytics.metric", metric);
}

/** A demand key in words: a fuel type or budget band by its label, `other` as 其他, a brand or model as it is. */
export function demandKeyText(by, key) {
  if (key === "other") return t("analytics.demand.other");
  if (by === "fuel_type") return label("fuel", key);
  if (by === "budget_band") return label("budgetBand", key);
  return key;
}

/**
 * The drill-down filter of a demand series (`other` has none: it is many
 * keys; nor has `unknown`, a lead that did not say, but for the budget band
 * `unknown`, which the API filters by). A model's key is "brand model": the
 * series' own `brand` and `model` when the API sends them, else split at the
 * first space (right for "BYD Han EV", wrong for a two-word brand).
 */
export function demandDrill(by, series) {
  const key = series.key;
  if (key === "other" || (key === "unknown" && by !== "budget_band")) return null;
  if (by !== "model") return { [by]: key };
  if (series.model) return { brand: series.brand || undefined, model: series.model };
  const space = key.indexOf(" ");
  return space > 0 ? { brand: key.slice(0, space), model: key.slice(space + 1) } : null;
}

// -- dates ----------------------------------------------------------------------

/** A date `n` days after (or before) a `YYYY-MM-DD` day. */
export function addDays(day, n) {
  const [year, month, date] = day.split("-").map(Number);
  return new Date(Date.UTC(year, month - 1, date + n)).toISOString().slice(0, 10);
}

/** The last `days` days up to today in the store's zone: {from, to}. */
export function lastDays(days, storeCode) {
  const today = localDay(new Date(), storeCode);
  return { from: addDays(today, -(days - 1)), to: today };
}

/** Midnight of a day in a time zone (`Asia/Shanghai`), as an ISO instant. */
export function midnightIn(day, zone) {
  const [year, month, date] = day.split("-").map(Number);
  const wanted = Date.UTC(year, month - 1, date);
  let guess = wanted;
  for (let n = 0; n < 2; n++) {  // twice: the offset may change between the guess and the answer
    const parts = new Intl.DateTimeFormat("en-US", {
      year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric",
      hourCycle: "h23", timeZone: zone,
    }).formatToParts(new Date(guess));
    const part = (type) => Number(parts.find((each) => each.type === type).value);
    guess += wanted - Date.UTC(part("year"), part("month") - 1, part("day"), part("hour"), part("minute"));
  }
  return new Date(guess).toISOString();
}

/** The days of a demand period (`2026-11-30`, `2026-W48`, `2026-11`): [first, after the last). */
export function periodDays(period) {
  let match = /^(\d{4})-W(\d{2})$/.exec(period);
  if (match) {  // ISO week: week 1 holds 4 January; weeks start on Monday
    const jan4 = new Date(Date.UTC(Number(match[1]), 0, 4));
    const monday = addDays(jan4.toISOString().slice(0, 10), -((jan4.getUTCDay() + 6) % 7) + (Number(match[2]) - 1) * 7);
    return [monday, addDays(monday, 7)];
  }
  match = /^(\d{4})-(\d{2})$/.exec(period);
  if (match) {
    const next = Number(match[2]) === 12 ? `${Number(match[1]) + 1}-01-01` : `${match[1]}-${String(Number(match[2]) + 1).padStart(2, "0")}-01`;
    return [`${period}-01`, next];
  }
  return [period, addDays(period, 1)];
}

/** A demand period within the answer's range as `created_from` / `created_to` instants. */
export function periodScope(scope, period) {
  const [first, after] = periodDays(period);
  const zone = scope.timezone || "Asia/Shanghai";
  const start = first > scope.from ? midnightIn(first, zone) : scope.created_from;
  const end = after <= scope.to ? midnightIn(after, zone) : scope.created_to;
  return { ...scope, created_from: start, created_to: end };
}

// -- files and errors -----------------------------------------------------------

export const EXPORT_FORMATS = ["csv", "xlsx"];

/** Fetch one table as a file (through api.js: it carries the token) and save it. */
export async function exportTable(table, format, filters) {
  const lang = language() === "en" ? "en" : "zh";
  const blob = await api.analyticsExport(table, format, lang, filters);
  const range = [filters.from, filters.to].filter(Boolean).join("_");
  download(blob, `dealerflow-${table}${range ? "-" + range : ""}.${format}`);
}

/** An ApiError of a report as a sentence. */
export function analyticsProblem(error) {
  if (!error || error.sessionEnded) return "";
  if (error.unreachable) return t("analytics.offline");
  if (error.status === 403) return t("analytics.forbidden");
  return t("analytics.failed", { reason: error.description || error.title || String(error.status) });
}

/** A design token's value (`--color-primary`), for the charts' colours. */
export function token(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** A `YYYY-MM-DD` day in words: `2026年11月1日` / `Nov 1, 2026`. */
export function dayText(day) {
  if (!day) return "";
  const [year, month, date] = day.split("-").map(Number);
  return new Intl.DateTimeFormat(language(), { dateStyle: "medium", timeZone: "UTC" })
    .format(new Date(Date.UTC(year, month - 1, date)));
}
