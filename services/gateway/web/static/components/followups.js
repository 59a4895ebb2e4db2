// What the follow-up pieces share that is not a component: the codes the
// followups API knows (task kinds, record channels and outcomes), the
// snooze times in the store's time zone, the API's language for scripts
// and hints, and an error of a follow-up action as one sentence.
import { i18n, label, language } from "../i18n.js";
import { localDay, nextDay, zonedInstant } from "../format.js";
import { actionProblem } from "./leads.js";

export const TASK_KINDS = ["call", "wechat", "sms", "invitation", "test_drive", "quote", "delivery", "care_visit"];
export const RECORD_CHANNELS = ["call", "wechat", "sms", "visit", "email"];
export const RECORD_OUTCOMES = ["reached", "no_answer", "busy", "call_back", "appointment", "visited",
                                "test_drive", "quote_sent", "refused", "wrong_number"];
/** A task done by hand: the outcomes people pick most (the API takes any short word). */
export const DONE_OUTCOMES = ["reached", "no_answer", "appointment", "call_back", "quote_sent", "refused"];
/** Statuses whose lead takes follow-up records (owned, or won: after-sales care). */
export const LOGGABLE = ["assigned", "contacted", "won"];
export const TOMORROW_AT = "10:00";

/** `zh` or `en`, for the API's scripts and hints. */
export function apiLanguage() {
  return language() === "en" ? "en" : "zh";
}

/** An hour from now (ISO). */
export function inAnHour(now = Date.now()) {
  return new Date(now + 3600 * 1000).toISOString();
}

/** Tomorrow at 10:00 in the store's zone (ISO). */
export function tomorrowMorning(storeCode, now = Date.now()) {
  return zonedInstant(nextDay(localDay(now, storeCode)), TOMORROW_AT, storeCode);
}

/** A `datetime-local` value read in the store's zone (ISO), or null. */
export function fromInput(value, storeCode) {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value || "")) return null;
  return zonedInstant(value.slice(0, 10), value.slice(11, 16), storeCode);
}

/** Which list a task goes in: "overdue", "today" (the store's day) or "upcoming". */
export function bucket(task, now = Date.now()) {
  const due = Date.parse(task.due_at);
  if (due < now) return "overdue";
  return localDay(due, task.store_code) === localDay(now, task.store_code) ? "today" : "upcoming";
}

/** A follow-up action's error as one sentence (the API's field errors named). */
export function followupProblem(error) {
  if (error?.status === 404) return i18n.global.t("followup.notFound");
  return actionProblem(error);
}

/**
 * A script's title in the app's language, else its situation's label. The
 * API may answer the template's {zh, en} pair as an object or, today, as
 * the text of a Python dict ("{'zh': '...', 'en': '...'}"): read either.
 */
export function scriptTitle(script) {
  const title = script?.title;
  const lang = apiLanguage();
  if (title && typeof title === "object") return title[lang] || Object.values(title)[0] || label("situation", script.situation);
  if (typeof title === "string" && /^\{'(zh|en)':/.test(title)) {
    const pick = (code) => title.match(new RegExp(`'${code}': '((?:[^'\\\\]|\\\\.)*)'`))?.[1];
    return pick(lang) || pick(lang === "zh" ? "en" : "zh") || label("situation", script.situation);
  }
  return title || label("situation", script?.situation);
}
