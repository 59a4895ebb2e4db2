// Dates, times, money and phone numbers for people, through Intl in the
// current language, times in the store's time zone.
import { session } from "./api.js";
import { language } from "./i18n.js";

const DEFAULT_ZONE = "Asia/Shanghai";

export function store(code) {
  return session.user?.stores?.find((each) => each.code === code) || null;
}

export function zoneOf(storeCode) {
  return store(storeCode)?.timezone || DEFAULT_ZONE;
}

/** `2026年11月26日 09:30` / `Nov 26, 2026, 9:30 AM`, in the store's zone. */
export function dateTime(iso, storeCode) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(language(), {
    dateStyle: "medium", timeStyle: "short", timeZone: zoneOf(storeCode),
  }).format(new Date(iso));
}

/** Minor units (fen) as money: `¥259,800`. */
export function money(minor, currency = "CNY") {
  if (minor === null || minor === undefined) return "";
  return new Intl.NumberFormat(language(), {
    style: "currency", currency, maximumFractionDigits: 0,
  }).format(minor / 100);
}

/** A number as dialled: `+8613800138000`. */
export function dialable(phone) {
  return (phone || "").replace(/[^\d+]/g, "");
}

function national(phone) {
  const digits = dialable(phone);
  return digits.startsWith("+86") ? digits.slice(3) : digits;
}

/** China mobile numbers as people write them: `138 0013 8000`. */
export function readablePhone(phone) {
  const number = national(phone);
  return /^1\d{10}$/.test(number) ? number.replace(/^(\d{3})(\d{4})(\d{4})$/, "$1 $2 $3") : phone || "";
}

/** For lists: `138****8000` (left as it is when the server masked it already). */
export function maskedPhone(phone) {
  if (!phone || phone.includes("*")) return phone || "";
  const number = national(phone);
  return number.length > 7 ? `${number.slice(0, 3)}****${number.slice(-4)}` : number;
}

/** For cards: `11月26日 09:30` / `11/26, 9:30 AM`, in the store's zone. */
export function shortDateTime(iso, storeCode) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(language(), {
    month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit", timeZone: zoneOf(storeCode),
  }).format(new Date(iso));
}

/** A customer's phone ({e164, extension}) as people write it: `138 0013 8000`, `+86 21 5888 8888 转 301`. */
export function customerPhone(phone, extensionWord = "ext.") {
  if (!phone) return "";
  const number = readablePhone(phone.e164);
  return phone.extension ? `${number} ${extensionWord} ${phone.extension}` : number;
}

/** A date and time for lists: `2026年11月26日` / `Nov 26, 2026`. */
export function date(iso, storeCode) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(language(), { dateStyle: "medium", timeZone: zoneOf(storeCode) })
    .format(new Date(iso));
}

/** The wall clock of an instant in a zone: {year, month, day, hour, minute} (numbers). */
function wallClock(instant, zone) {
  const parts = new Intl.DateTimeFormat("en-US", {
    year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric",
    hourCycle: "h23", timeZone: zone,
  }).formatToParts(instant);
  const part = (type) => Number(parts.find((each) => each.type === type).value);
  return { year: part("year"), month: part("month"), day: part("day"), hour: part("hour"), minute: part("minute") };
}

const pad = (n) => String(n).padStart(2, "0");

/** The store's local date of an instant (ISO or Date): `2026-11-26`, for grouping by day. */
export function localDay(when, storeCode) {
  const c = wallClock(new Date(when), zoneOf(storeCode));
  return `${c.year}-${pad(c.month)}-${pad(c.day)}`;
}

/** A `datetime-local` value (`2026-11-26T09:30`) for an instant, in the store's zone. */
export function localInput(when, storeCode) {
  const c = wallClock(new Date(when), zoneOf(storeCode));
  return `${c.year}-${pad(c.month)}-${pad(c.day)}T${pad(c.hour)}:${pad(c.minute)}`;
}

/** The instant (ISO, UTC) of a wall-clock time in the store's zone: `("2026-11-26", "10:00")`. */
export function zonedInstant(day, clock, storeCode) {
  const [year, month, date_] = day.split("-").map(Number);
  const [hour, minute] = clock.split(":").map(Number);
  const wanted = Date.UTC(year, month - 1, date_, hour, minute);
  let guess = wanted;
  for (let n = 0; n < 2; n++) {  // twice: a zone's offset may change between the guess and the answer
    const c = wallClock(new Date(guess), zoneOf(storeCode));
    guess += wanted - Date.UTC(c.year, c.month - 1, c.day, c.hour, c.minute);
  }
  return new Date(guess).toISOString();
}

/** The day after a local date: `2026-11-27`. */
export function nextDay(day) {
  const [year, month, date_] = day.split("-").map(Number);
  return new Date(Date.UTC(year, month - 1, date_ + 1)).toISOString().slice(0, 10);
}

/** A time of day for today's list: `09:30` / `9:30 AM`, in the store's zone. */
export function timeOfDay(iso, storeCode) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(language(), { hour: "2-digit", minute: "2-digit", timeZone: zoneOf(storeCode) })
    .format(new Date(iso));
}
