// What the test-drive pieces share: the codes the API knows, a vehicle's
// name, a week's days and range in the store's zone, the slots of a day,
// how long a booking may last from a slot, a file download, and a
// booking's error as one sentence.
import { i18n, label, language } from "../i18n.js";
import { localDay, nextDay, zonedInstant, zoneOf } from "../format.js";
import { actionProblem } from "./leads.js";

export const VEHICLE_STATUSES = ["available", "in_service", "retired"];
export const FUEL_TYPES = ["EV", "PHEV", "HEV", "ICE"];
export const LENGTHS = [30, 60, 90];      // minutes a booking may take (free slots in a row)
export const WEEKS_AHEAD = 12;            // the API books up to 90 days ahead

/** `BYD Han EV 创世版 · SH-PUDONG-HAN-01`. */
export function vehicleName(vehicle, withNumber = true) {
  if (!vehicle) return "";
  const name = [vehicle.brand, vehicle.model, vehicle.trim].filter(Boolean).join(" ");
  const number = vehicle.stock_number || vehicle.vin;
  return withNumber && number ? `${name} · ${number}` : name;
}

/** The 7 local days of week `offset` (0: from today), in the store's zone: ["2026-11-26", ...]. */
export function weekDays(storeCode, offset = 0, now = Date.now()) {
  let day = localDay(now, storeCode);
  for (let n = 0; n < 7 * offset; n++) day = nextDay(day);
  const days = [day];
  while (days.length < 7) days.push(nextDay(days[days.length - 1]));
  return days;
}

/** The range (ISO) the calendar is asked for: the first day's midnight to the day after the last's. */
export function weekRange(days, storeCode) {
  return { from: zonedInstant(days[0], "00:00", storeCode),
           to: zonedInstant(nextDay(days[days.length - 1]), "00:00", storeCode) };
}

/** `周四 11/26` / `Thu 11/26`. */
export function dayName(day, storeCode) {
  return new Intl.DateTimeFormat(language(), { weekday: "short", month: "numeric", day: "numeric", timeZone: zoneOf(storeCode) })
    .format(new Date(zonedInstant(day, "12:00", storeCode)));
}

/** The free slots and the bookings' times of one local day, in order: [{starts_at, ends_at, free}]. */
export function daySlots(calendar, day, storeCode) {
  const mine = (slot) => localDay(slot.starts_at, storeCode) === day;
  return [...calendar.free.filter(mine).map((slot) => ({ ...slot, free: true })),
          ...calendar.busy.filter(mine).map((slot) => ({ ...slot, free: false }))]
    .sort((a, b) => Date.parse(a.starts_at) - Date.parse(b.starts_at));
}

/** The lengths (minutes) bookable from `slot`: as many free slots in a row as each needs. */
export function lengthsFrom(calendar, slot) {
  const free = new Set(calendar.free.map((each) => Date.parse(each.starts_at)));
  const step = (calendar.slot_minutes || 30) * 60 * 1000;
  const start = Date.parse(slot.starts_at);
  return LENGTHS.filter((minutes) => {
    for (let at = start; at < start + minutes * 60 * 1000; at += step) if (!free.has(at)) return false;
    return true;
  });
}

/** Save a Blob as a file (the invitation). */
export function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** A booking's (or a vehicle's) error as a sentence: a 409 says who was first. */
export function bookingProblem(error) {
  const t = i18n.global.t;
  if (error?.status === 409) {
    if (error.errors?.specialist_id) return t("testDrive.specialistTaken");
    if (error.errors?.vehicle_id) return t("testDrive.taken");
    return t("vehicle.duplicate");
  }
  if (error?.status === 404) return t("testDrive.notFound");
  return actionProblem(error);
}

export { label };
