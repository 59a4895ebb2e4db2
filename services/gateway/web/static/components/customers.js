// What the customer pages share that is not a component: who may manage,
// the API's field errors, and an error as one line of text.
import { session } from "../api.js";
import { i18n } from "../i18n.js";

export const LIFECYCLES = ["potential", "intended", "won", "lost"];
export const FUEL_TYPES = ["ICE", "HEV", "PHEV", "EV"];
export const LANGUAGE_CHOICES = ["zh-CN", "en", "yue"];
const LANGUAGE_KEYS = { "zh-CN": "zh", zh: "zh", en: "en", yue: "yue" };

/** A customer's language by name in the app's language ("中文", "English"); else the tag itself. */
export function languageName(tag) {
  return LANGUAGE_KEYS[tag] ? i18n.global.t(`language.${LANGUAGE_KEYS[tag]}`) : tag || "";
}

/** Managers and group admins merge, import, export and erase. */
export function isManager() {
  return ["manager", "group_admin"].includes(session.user?.role);
}

/**
 * The messages the API's `errors` holds at `path` (and below it), as a flat
 * list: `messagesAt(errors, "phones", 1)`, `messagesAt(errors, "preferences", "budget")`.
 */
export function messagesAt(errors, ...path) {
  let node = errors;
  for (const step of path) {
    if (!node || typeof node !== "object" || Array.isArray(node)) return [];
    node = node[String(step)];
  }
  const out = [];
  (function collect(value) {
    if (typeof value === "string") out.push(value);
    else if (Array.isArray(value)) value.forEach(collect);
    else if (value && typeof value === "object") Object.values(value).forEach(collect);
  })(node);
  return out;
}

/** An ApiError as one line: "Could not ...: reason". */
export function reason(error) {
  return error.description || error.title || String(error.status);
}

/** Yuan typed by a person -> minor units (fen); "" -> null. */
export function toMinor(yuan) {
  if (yuan === "" || yuan === null || yuan === undefined) return null;
  const value = Number(String(yuan).replace(/[,\s，]/g, ""));
  return Number.isFinite(value) ? Math.round(value * 100) : NaN;
}

/** Minor units -> yuan for an input: 25980000 -> "259800". */
export function toYuan(minor) {
  return minor === null || minor === undefined ? "" : String(minor / 100);
}

/** Download `data` as a JSON file named `filename`. */
export function downloadJson(data, filename) {
  const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
