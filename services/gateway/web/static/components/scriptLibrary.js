// What the script library's page and form share that is not a component:
// the codes of the followups service's templates (services/followups/scripts.py:
// PLACEHOLDERS, SITUATIONS; the stages and channels are the leads' and the
// records'), a text or title in the app's language (else the other, with
// its lang), a script's text as pieces with its placeholders marked, where
// a script comes from, and an id slug made from a title.
import { apiLanguage } from "./followups.js";

export const PLACEHOLDERS = ["customer_name", "customer_title", "consultant_name", "store_name", "brand", "model",
                             "trim", "price", "test_drive_time", "competitor", "concern"];
export const SITUATIONS = ["first_contact", "needs_discovery", "product_introduction", "store_invitation",
                           "test_drive_confirmation", "after_test_drive", "quote_followup", "objection_price",
                           "objection_competitor", "objection_new_model", "objection_trade_in_value",
                           "objection_financing", "concern", "unreachable", "nurture", "reactivation", "after_sales"];
export const SLUG = /^[a-z0-9][a-z0-9_-]{0,63}$/;

const TAGS = { zh: "zh-CN", en: "en" };
const PLACEHOLDER = /(\{[a-z_]+\})/;

/** `{text, lang}` of a {zh, en} pair in the app's language, else the other; null when it has neither. */
export function inLanguage(pair) {
  if (!pair || typeof pair !== "object") return null;
  const mine = apiLanguage();
  const code = pair[mine] ? mine : Object.keys(TAGS).find((other) => pair[other]);
  return code ? { text: pair[code], lang: TAGS[code] } : null;
}

/** A template's text as pieces: plain text, and its known placeholders ({name}) marked. */
export function textPieces(text) {
  return (text || "").split(PLACEHOLDER).filter(Boolean).map((part) => {
    const name = part.slice(1, -1);
    return part.startsWith("{") && PLACEHOLDERS.includes(name) ? { text: part, name } : { text: part };
  });
}

/** The placeholders a text uses, each once, in the order they appear. */
export function placeholdersIn(...texts) {
  const found = [];
  for (const text of texts) {
    for (const piece of textPieces(text)) if (piece.name && !found.includes(piece.name)) found.push(piece.name);
  }
  return found;
}

/** Where a library entry comes from: "group", "changed" (the store's wording), "store" (the store's own). */
export function origin(script) {
  if (script.origin === "store") return "store";
  return script.changed_by_store ? "changed" : "group";
}

/** An id for a new script: the title's letters and digits (`weekend_open_day`), else the situation and a number; never one of `taken`. */
export function slugFor(title, situation, taken = []) {
  const base = (title || "").normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "").slice(0, 56).replace(/_+$/, "");
  const stem = base || `store_${situation || "script"}`.slice(0, 56);
  if (base && !taken.includes(stem)) return stem;
  for (let n = 2; ; n++) if (!taken.includes(`${stem}_${n}`)) return `${stem}_${n}`;
}
