// The one API client. Every page talks to the server through these
// functions and nothing else: they build the URLs, add the Bearer token,
// refresh it once on a 401 (then end the session), turn error bodies
// ({title, description, errors}) into ApiError, retry reads while the
// server cannot be reached (and say so in `connection`), and run the live
// stream.
import { reactive } from "vue";

const TOKENS = "dealerflow.tokens";          // localStorage: {access_token, refresh_token}
const PROFILE = "dealerflow.me";             // localStorage: the last GET /v1/me, so the app opens offline
const RETRY_WAITS = [1000, 2000, 5000, 10000, 30000];  // ms between tries while unreachable

/** `online` is false while the server cannot be reached: the app shows a banner. */
export const connection = reactive({ online: true });

/** The signed-in user (`GET /v1/me`, as last seen), or null. */
export const session = reactive({ user: JSON.parse(localStorage.getItem(PROFILE) || "null") });

/** An answer other than 2xx, or no answer at all (`status` 0). */
export class ApiError extends Error {
  constructor(status, body, retryAfter = null) {
    super(body?.description || body?.title || `HTTP ${status}`);
    this.status = status;
    this.title = body?.title || "";
    this.description = body?.description || "";
    this.errors = body?.errors || null;
    this.retryAfter = retryAfter;        // seconds, from Retry-After
    this.sessionEnded = false;           // true: the app has gone to the expired-session page
  }

  /** No answer, or the gateway says the system is unavailable: worth another try. */
  get unreachable() {
    return this.status === 0 || this.status === 502 || this.status === 503 || this.status === 504;
  }
}

let sessionEnded = () => {};

/** What to do when the server says the session is over (main.js: show the expired page). */
export function onSessionEnd(callback) {
  sessionEnded = callback;
}

function storedTokens() {
  return JSON.parse(localStorage.getItem(TOKENS) || "null");
}

function keepTokens(answer) {
  localStorage.setItem(TOKENS, JSON.stringify({
    access_token: answer.access_token, refresh_token: answer.refresh_token,
  }));
}

function forget() {
  localStorage.removeItem(TOKENS);
  localStorage.removeItem(PROFILE);
  session.user = null;
  stopStream();
}

function endSession() {
  forget();
  sessionEnded();
  const error = new ApiError(401, { title: "Unauthorized" });
  error.sessionEnded = true;
  return error;
}

function address(path, query = {}) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(name, value);
  }
  const search = params.toString();
  return search ? `${path}?${search}` : path;
}

async function readBody(response) {
  if (response.status === 204) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}

/** One request, no retry, no refresh. `blob`: answer the body as a Blob; `onProgress`: an upload's (XHR). */
async function send(method, path, { query, body, file, token, blob, onProgress } = {}) {
  const headers = { Accept: blob ? "*/*" : "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (file) headers["Content-Type"] = fileType(file);
  if (token) headers.Authorization = `Bearer ${token}`;
  if (onProgress) return sendWithProgress(method, address(path, query), headers, file, onProgress);
  let response;
  try {
    response = await fetch(address(path, query), {
      method, headers, body: file || (body === undefined ? undefined : JSON.stringify(body)),
    });
  } catch {
    connection.online = false;
    throw new ApiError(0, null);
  }
  if (blob && response.ok) {
    connection.online = true;
    return response.blob();
  }
  const answer = await readBody(response);
  const error = response.ok ? null
    : new ApiError(response.status, answer, Number(response.headers.get("Retry-After")) || null);
  connection.online = !error?.unreachable;
  if (error) throw error;
  return answer;
}

/** `send` for a file with upload progress (fetch has none): `onProgress(sent, total)`. */
function sendWithProgress(method, url, headers, file, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(method, url);
    for (const [name, value] of Object.entries(headers)) request.setRequestHeader(name, value);
    request.upload.onprogress = (event) => onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
    request.onerror = () => {
      connection.online = false;
      reject(new ApiError(0, null));
    };
    request.onload = () => {
      let answer = null;
      try {
        answer = request.status === 204 ? null : JSON.parse(request.responseText);
      } catch { /* not JSON */ }
      const ok = request.status >= 200 && request.status < 300;
      const error = ok ? null
        : new ApiError(request.status, answer, Number(request.getResponseHeader("Retry-After")) || null);
      connection.online = !error?.unreachable;
      if (error) reject(error);
      else resolve(answer);
    };
    request.send(file);
  });
}

const FILE_TYPES = {
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  csv: "text/csv",
  jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png", webp: "image/webp", heic: "image/heic",
  mp3: "audio/mpeg", m4a: "audio/mp4", aac: "audio/aac", ogg: "audio/ogg", opus: "audio/ogg",
  webm: "audio/webm", wav: "audio/wav", amr: "audio/amr",
};

/** A file's Content-Type: the browser's, else from its extension (phones often give none). */
function fileType(file) {
  const extension = (file.name || "").split(".").pop().toLowerCase();
  return file.type || FILE_TYPES[extension] || "application/octet-stream";
}

let refreshing = null;

/** One refresh at a time: requests that fail together share it. */
function refreshTokens() {
  refreshing ??= send("POST", "/v1/auth/refresh", { body: { refresh_token: storedTokens()?.refresh_token } })
    .then(keepTokens)
    .finally(() => { refreshing = null; });
  return refreshing;
}

/** A request with the Bearer token; on a 401 the token is refreshed once. */
async function authorized(method, path, options = {}) {
  for (let refreshed = false; ; refreshed = true) {
    const tokens = storedTokens();
    if (!tokens) throw endSession();
    try {
      return await send(method, path, { ...options, token: tokens.access_token });
    } catch (error) {
      if (error.status !== 401) throw error;
      if (refreshed) throw endSession();
    }
    if (storedTokens()?.access_token !== tokens.access_token) continue;  // another request refreshed it
    try {
      await refreshTokens();
    } catch (error) {
      if (error.unreachable) throw error;
      throw endSession();
    }
  }
}

function pause(ms) {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      window.removeEventListener("online", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    window.addEventListener("online", done);  // the browser is back: try at once
  });
}

/** Try `attempt` until the server answers (only for what is safe to repeat). */
async function retrying(attempt) {
  for (let tries = 0; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (!error.unreachable) throw error;
      await pause(RETRY_WAITS[Math.min(tries, RETRY_WAITS.length - 1)]);
    }
  }
}

function get(path, query) {
  return retrying(() => authorized("GET", path, { query }));
}

/** A file the API answers (an attachment, an invitation), as a Blob. */
function getBlob(path, query) {
  return retrying(() => authorized("GET", path, { query, blob: true }));
}

/** A change: sent once; the page says what happened (never repeated by itself). */
function write(method, path, options = {}) {
  return authorized(method, path, options);
}

const customerPath = (id, ...rest) => ["/v1/customers", encodeURIComponent(id), ...rest].join("/");

window.addEventListener("offline", () => {
  connection.online = false;
  if (live.stopped) return;
  stopStream();   // reconnecting: its retries tell when the server is back
  startStream();
});

// -- the API ------------------------------------------------------------------

export function signedIn() {
  return storedTokens() !== null;
}

/** Sign in; ApiError 401 (wrong credentials), 429 (locked: `retryAfter`) or 0 (offline). */
export async function signIn(username, password) {
  keepTokens(await send("POST", "/v1/auth/token", { body: { username, password } }));
  await loadMe();
}

/** Sign out here, and on the server when it can be reached. */
export async function signOut() {
  const tokens = storedTokens();
  forget();
  if (tokens) {
    await send("POST", "/v1/auth/logout", { body: { refresh_token: tokens.refresh_token },
                                            token: tokens.access_token }).catch(() => {});
  }
}

export async function loadMe() {
  session.user = await get("/v1/me");
  localStorage.setItem(PROFILE, JSON.stringify(session.user));
  return session.user;
}

/** `filters`: status, grade, stage (comma-separated lists), q, store_code, consultant_id, channel, source, cursor, limit, sort. */
export function leads(filters = {}) {
  return get("/v1/leads", filters);
}

export function lead(id) {
  return get(`/v1/leads/${encodeURIComponent(id)}`);
}

// -- what staff do to a lead (each answers the lead's detail) ------------------

const leadPath = (id, action) => `/v1/leads/${encodeURIComponent(id)}/${action}`;

/** `grade`: H A B C N; `reason` required. */
export function gradeLead(id, grade, reason) {
  return write("POST", leadPath(id, "grade"), { body: { grade, reason } });
}

/** `reason`: required when going back one stage. */
export function stageLead(id, stage, reason) {
  return write("POST", leadPath(id, "stage"), { body: reason ? { stage, reason } : { stage } });
}

/** `won`: {deal_value (fen), currency, vehicle {brand, model, trim, year, vin}, note}. */
export function winLead(id, won) {
  return write("POST", leadPath(id, "win"), { body: won });
}

/** `lostReason`: price, bought_competitor, ...; `note` required for "other". */
export function loseLead(id, lostReason, note) {
  return write("POST", leadPath(id, "loss"), { body: note ? { lost_reason: lostReason, note } : { lost_reason: lostReason } });
}

/** A manager approves or refuses a loss (`reason` required when refusing). */
export function decideLoss(id, approve, reason) {
  return write("POST", leadPath(id, "loss-decision"), { body: reason ? { approve, reason } : { approve } });
}

export function reopenLead(id, reason) {
  return write("POST", leadPath(id, "reopen"), { body: { reason } });
}

/** Claim a pooled lead: ApiError 409 (someone was first) or 422 (the daily claim limit). */
export function claimLead(id) {
  return write("POST", leadPath(id, "claim"));
}

/** A manager gives the lead to `consultantId`, or (null) routes it again. */
export function assignLead(id, consultantId, reason) {
  return write("POST", leadPath(id, "assign"), { body: { consultant_id: consultantId, reason: reason || undefined } });
}

/** `mentions`: user ids of the lead's store. */
export function commentLead(id, body, mentions = []) {
  return write("POST", leadPath(id, "comments"), { body: { body, mentions } });
}

/** `{lead_ids} | {from_consultant_id}`, `consultant_id` (null: routing), `reason` -> {moved, refused}. */
export function reassignLeads(request) {
  return write("POST", "/v1/leads/reassign", { body: request });
}

// -- routing, policies, people (managers) ----------------------------------------

/** The rules of a store and the group's, in the order they are tried. */
export function routingRules(storeCode) {
  return get("/v1/admin/routing-rules", { store_code: storeCode });
}

/** A new rule (`id` null) or a changed one. */
export function saveRoutingRule(id, rule) {
  return id ? write("PUT", `/v1/admin/routing-rules/${encodeURIComponent(id)}`, { body: rule })
    : write("POST", "/v1/admin/routing-rules", { body: rule });
}

export function deleteRoutingRule(id) {
  return write("DELETE", `/v1/admin/routing-rules/${encodeURIComponent(id)}`);
}

/** A store's lead policy ("*": the group's default). */
export function leadPolicy(storeCode) {
  return get(`/v1/admin/lead-policies/${encodeURIComponent(storeCode)}`);
}

export function saveLeadPolicy(storeCode, policy) {
  return write("PUT", `/v1/admin/lead-policies/${encodeURIComponent(storeCode)}`, { body: policy });
}

export function rebuildScoringModel() {
  return write("POST", "/v1/admin/scoring-model");
}

/** The active consultants and managers of one of my stores: `{items: [{id, display_name, role}]}`. */
export function storeStaff(storeCode) {
  return get("/v1/me/colleagues", { store_code: storeCode });
}

/** The store's teams (for a routing rule's target). */
export function teams() {
  return get("/v1/admin/teams", { limit: 200 });
}

// -- follow-ups: tasks, records, hints, scripts, cadences -------------------------

const followupPath = (...rest) => ["/v1/followups", ...rest.map(encodeURIComponent)].join("/");

/** `filters`: status (open, done, cancelled), lead_id -> [task], soonest due first. */
export function followups(filters = {}) {
  return get("/v1/followups", filters);
}

/** A task made by hand: {lead_id, kind, due_at, note}. */
export function createFollowup(task) {
  return write("POST", "/v1/followups", { body: task });
}

/** Done: {outcome, next_due_at?, next_kind?, note?} -> the task. */
export function completeFollowup(id, completion) {
  return write("POST", followupPath(id, "complete"), { body: completion });
}

/** Snooze or move a task to `dueAt` (ISO). */
export function rescheduleFollowup(id, dueAt) {
  return write("POST", followupPath(id, "reschedule"), { body: { due_at: dueAt } });
}

/** A lead's follow-up records, newest first. */
export function followupRecords(leadId) {
  return get("/v1/followups/records", { lead_id: leadId });
}

/** Log a call, WeChat, SMS, visit or email: {lead_id, task_id?, channel, direction, outcome, notes, next_step, next_due_at?, next_kind?, script_id?}. */
export function logFollowup(record) {
  return write("POST", "/v1/followups/records", { body: record });
}

/**
 * Attach a photo or a recording (a File or Blob) to a record; the file is the body with its own
 * Content-Type. `onProgress(sent, total)`. ApiError 413 (too big) or 415 (not a photo or recording).
 */
export function attachToRecord(recordId, file, filename, onProgress) {
  return write("POST", followupPath("records", recordId, "attachments"),
               { query: { filename: filename || file.name }, file, onProgress });
}

/** An attachment's file (`attachment.url`, which needs the token) as a Blob. */
export function attachmentFile(attachment) {
  return getBlob(followupPath("attachments", attachment.id));
}

/** What to do next on a lead: {action, in_days, script_id, why, values, alternatives}; `lang` zh or en. */
export function followupHint(leadId, lang) {
  return get("/v1/followups/hint", { lead_id: leadId, lang });
}

/** The scripts (话术) for the lead's stage, filled: [{id, situation, title, text, missing, addresses}]. */
export function scripts(leadId, lang) {
  return get("/v1/scripts", { lead_id: leadId, lang });
}

/** A store's follow-up cadence ("*": the group's default). */
export function cadence(storeCode) {
  return get(`/v1/admin/cadences/${encodeURIComponent(storeCode)}`);
}

/** {plan, remind_minutes, escalate_minutes}; ApiError 422 names the field (`plan.grades.H.every_days`). */
export function saveCadence(storeCode, data) {
  return write("PUT", `/v1/admin/cadences/${encodeURIComponent(storeCode)}`, { body: data });
}

const storeScriptPath = (storeCode, scriptId) =>
  `/v1/admin/scripts/${encodeURIComponent(storeCode)}/${encodeURIComponent(scriptId)}`;

/**
 * Every script of a store's library, the hidden ones too: [{id, situation, stages, texts {zh, en},
 * title {zh, en} | null, addresses, channels, origin "group" | "store", changed_by_store, hidden,
 * used, moved_forward, forward_rate | null}].
 */
export function scriptLibrary(storeCode) {
  return get("/v1/scripts/library", { store_code: storeCode });
}

/**
 * The store's own wording of a script, or a script only the store has (a new id), or
 * `{hidden: true}` for a group script the store does not use -> the store's library.
 * ApiError 422 names the field (`texts.zh`, `stages`, `id`); 403 for consultants.
 */
export function saveStoreScript(storeCode, scriptId, template) {
  return write("PUT", storeScriptPath(storeCode, scriptId), { body: template });
}

/** Back to the group's script (a store-only script is gone) -> the store's library. */
export function revertStoreScript(storeCode, scriptId) {
  return write("DELETE", storeScriptPath(storeCode, scriptId));
}

// -- test drives --------------------------------------------------------------

const testDrivePath = (id, action) => `/v1/test-drives/${encodeURIComponent(id)}/${action}`;

/** The test-drive vehicles of one of my stores: [{id, stock_number, vin, brand, model, trim, fuel_type, status}]. */
export function vehicles(storeCode) {
  return get("/v1/vehicles", { store_code: storeCode });
}

/** Managers: {store_code, vin?, stock_number?, brand, model, trim?, fuel_type, status?}; 409 a VIN or stock number taken. */
export function addVehicle(vehicle) {
  return write("POST", "/v1/vehicles", { body: vehicle });
}

/** Managers: {status?, trim?}. */
export function changeVehicle(id, change) {
  return write("PATCH", `/v1/vehicles/${encodeURIComponent(id)}`, { body: change });
}

/** A vehicle's calendar from..to (ISO): {vehicle, timezone, slot_minutes, bookings, busy, free}. */
export function vehicleCalendar(vehicleId, from, to) {
  return get("/v1/test-drives", { vehicle_id: vehicleId, from, to });
}

/** A lead's test drives. */
export function leadTestDrives(leadId) {
  return get("/v1/test-drives", { lead_id: leadId });
}

/** {lead_id, vehicle_id, starts_at, ends_at, specialist_id?, customer_email?, language?, licence_number?, note?}; 409: taken. */
export function bookTestDrive(booking) {
  return write("POST", "/v1/test-drives", { body: booking });
}

export function checkInTestDrive(id, licenceNumber) {
  return write("POST", testDrivePath(id, "check-in"), { body: licenceNumber ? { licence_number: licenceNumber } : {} });
}

export function cancelTestDrive(id, reason) {
  return write("POST", testDrivePath(id, "cancel"), { body: reason ? { reason } : {} });
}

/** The booking's iCalendar invitation, as a Blob (text/calendar). */
export function testDriveInvitation(id) {
  return getBlob(testDrivePath(id, "invitation.ics"));
}

// -- notifications --------------------------------------------------------------

/** `filters`: unread (true), lead_id, cursor, limit -> {items, unread, next_cursor}, newest first. */
export function notifications(filters = {}) {
  return get("/v1/notifications", filters);
}

/** {unread}: the badge's count. */
export function unreadCount() {
  return get("/v1/notifications/unread");
}

/** Mark these messages read (`ids` null: all of mine) -> {unread}. */
export function markRead(ids = null) {
  return write("POST", "/v1/notifications/read", { body: ids ? { ids } : {} });
}

/** {language, channels {kind: [channel]}, quiet_start, quiet_end, mention, email, push_devices}. */
export function notificationPreferences() {
  return get("/v1/me/notification-preferences");
}

/** The fields given; ApiError 422 names each (`channels`, `quiet_start`, ...). */
export function saveNotificationPreferences(preferences) {
  return write("PUT", "/v1/me/notification-preferences", { body: preferences });
}

/** {public_key}: the applicationServerKey for `pushManager.subscribe`. */
export function vapidKey() {
  return get("/v1/notifications/vapid-key");
}

/** A browser's `PushSubscription.toJSON()` -> {push_devices}. */
export function savePushSubscription(subscription) {
  return write("POST", "/v1/me/push-subscriptions", { body: subscription });
}

/** Forget this device's subscription -> {push_devices}. */
export function deletePushSubscription(endpoint) {
  return write("DELETE", "/v1/me/push-subscriptions", { query: { endpoint } });
}

const channelPath = (id, ...rest) => ["/v1/admin/channels", encodeURIComponent(id), ...rest].join("/");

/** Managers: a store's channels with their state (circuit, last answer); secrets never come back. */
export function storeChannels(storeCode) {
  return get(`/v1/admin/stores/${encodeURIComponent(storeCode)}/channels`);
}

/** {type, name, url, secret, settings, kinds, enabled}; ApiError 422 names each field. */
export function addChannel(storeCode, channel) {
  return write("POST", `/v1/admin/stores/${encodeURIComponent(storeCode)}/channels`, { body: channel });
}

/** The fields given (a secret left out is kept). */
export function changeChannel(id, change) {
  return write("PATCH", channelPath(id), { body: change });
}

export function deleteChannel(id) {
  return write("DELETE", channelPath(id));
}

/** Send a test message now -> {ok, outcome, answer}: what the channel really said. */
export function testChannel(id) {
  return write("POST", channelPath(id, "test"));
}

/** Managers: {store_code, urgent_breaks_quiet}: whether escalations and SLA warnings break through quiet hours. */
export function storeNotificationSettings(storeCode) {
  return get(`/v1/admin/stores/${encodeURIComponent(storeCode)}/notification-settings`);
}

export function saveStoreNotificationSettings(storeCode, urgentBreaksQuiet) {
  return write("PUT", `/v1/admin/stores/${encodeURIComponent(storeCode)}/notification-settings`,
               { body: { urgent_breaks_quiet: urgentBreaksQuiet } });
}

/** Managers: deliveries that failed for good (`status` dead), of one store or all mine. */
export function deadLetters(storeCode) {
  return get("/v1/admin/deliveries", { status: "dead", store_code: storeCode });
}

/** Send these dead deliveries again -> {resent}. */
export function resendDeliveries(ids) {
  return write("POST", "/v1/admin/deliveries/resend", { body: { ids } });
}

// -- customers ----------------------------------------------------------------

/** `filters`: q, store_code, owner_id, lifecycle, tag, brand, model, fuel_type, sort, cursor, limit. */
export function customers(filters = {}) {
  return get("/v1/customers", filters);
}

export function customer(id) {
  return get(customerPath(id));
}

/** ApiError 422 (`errors` per field) or 409 (a phone or email is another customer's: `errors.customer_ids`). */
export function createCustomer(data) {
  return write("POST", "/v1/customers", { body: data });
}

/** `data.revision`: the revision edited; 409 when it changed meanwhile (`errors.revision`). */
export function updateCustomer(id, data) {
  return write("PATCH", customerPath(id), { body: data });
}

/** `status`: "confirmed" or "removed". */
export function decideTrait(id, trait, status) {
  return write("PUT", customerPath(id, "traits", encodeURIComponent(trait)), { body: { status } });
}

export function customerTimeline(id, cursor) {
  return get(customerPath(id, "timeline"), { cursor });
}

/** Everything held about the customer, as one JSON document (managers). */
export function exportCustomer(id) {
  return get(customerPath(id, "export"));
}

/** Erase the customer's personal data everywhere (managers). */
export function eraseCustomer(id) {
  return write("DELETE", customerPath(id));
}

export function duplicates(filters = {}) {
  return get("/v1/customers/duplicates", filters);
}

export function dismissDuplicate(id) {
  return write("POST", `/v1/customers/duplicates/${encodeURIComponent(id)}/dismiss`);
}

/** Merge `merge_id` into `keep_id`, saying why. */
export function mergeCustomers(keepId, mergeId, reason) {
  return write("POST", "/v1/customers/merges", { body: { keep_id: keepId, merge_id: mergeId, reason } });
}

/** Upload a spreadsheet (.xlsx or .csv) as the request body: the import, its headers and suggested mapping. */
export function uploadImport(storeCode, file) {
  return write("POST", "/v1/customers/imports", { query: { store_code: storeCode, filename: file.name }, file });
}

/** `mapping`: {"0": "name", "1": "phone", "2": null, ...}. */
export function checkImport(id, mapping) {
  return write("POST", `/v1/customers/imports/${encodeURIComponent(id)}/dry-run`, { body: { mapping } });
}

export function customerImport(id) {
  return get(`/v1/customers/imports/${encodeURIComponent(id)}`);
}

export function commitImport(id, skipRejected) {
  return write("POST", `/v1/customers/imports/${encodeURIComponent(id)}/commit`,
               { body: { skip_rejected: skipRejected } });
}

// -- analytics (managers: their stores; group admins: the group) -------------------

/** `report`: funnel, sources, demand, consultants or response-times; `filters`: from, to (dates),
 * store_code, team_id, consultant_id, channel, source, brand, model (demand: by). */
export function analytics(report, filters = {}) {
  return get(`/v1/analytics/${encodeURIComponent(report)}`, filters);
}

/** One table as a file (a Blob): `table` funnel, rates, lost_reasons, sources, demand, consultants or
 * response_times; `format` csv or xlsx; `lang` zh or en; the report's filters. */
export function analyticsExport(table, format, lang, filters = {}) {
  return getBlob("/v1/analytics/export", { ...filters, table, format, lang });
}

/** A store's monthly cost of a source: {store_code, source, month "YYYY-MM", amount (fen) or null to remove}. */
export function saveSourceCost(cost) {
  return write("PUT", "/v1/admin/source-costs", { body: cost });
}

// -- the live stream ----------------------------------------------------------

// One connection per tab, shared by everything that listens (a page and the
// app bar's unread badge): browsers allow only 6 connections to a server
// across all its tabs, and a second EventSource per page would halve that.
const listeners = new Set();  // the handler maps of those listening
const live = {
  source: null,
  waiting: null,       // a reconnection timer
  connecting: false,   // fetching a ticket
  stopped: true,
  failures: 0,
  lastEventId: "",
  names: new Set(),    // the event names the open source dispatches
};

/** Dispatch `name` from the open source to every listener that handles it. */
function dispatch(name) {
  if (!live.source || live.names.has(name)) return;
  live.names.add(name);
  live.source.addEventListener(name, (event) => {
    live.lastEventId = event.lastEventId || live.lastEventId;
    const data = JSON.parse(event.data);
    for (const handlers of [...listeners]) handlers[name]?.(data);
  });
}

/** A ticket is good for one connection, so every reconnection gets a new one and passes the last event id itself. */
async function connect() {
  live.waiting = null;
  live.connecting = true;
  let ticket;
  try {
    ({ ticket } = await retrying(() => authorized("POST", "/v1/stream/tickets")));
  } catch {
    return;  // the session is over: the app has left the page
  } finally {
    live.connecting = false;
  }
  if (live.stopped) return;
  let opened = false;
  const source = new EventSource(address("/v1/stream", { ticket, last_event_id: live.lastEventId }));
  live.source = source;
  live.names = new Set();
  source.onopen = () => {
    opened = true;
    live.failures = 0;
    connection.online = true;
  };
  for (const handlers of listeners) Object.keys(handlers).forEach(dispatch);
  // the gateway is stopping (a rolling upgrade): reconnect, to one that stays, after a short random
  // wait, so that a stopping gateway's browsers do not all arrive at the same moment
  source.addEventListener("reconnect", () => {
    source.close();
    live.source = null;
    live.waiting = setTimeout(connect, 250 + Math.random() * 2000);
  });
  source.onerror = () => {
    source.close();
    live.source = null;
    if (!opened) connection.online = false;
    // a stream that was open (its ticket spent) reconnects at once; one that failed waits
    const wait = opened ? 0 : RETRY_WAITS[Math.min(live.failures++, RETRY_WAITS.length - 1)];
    live.waiting = setTimeout(connect, wait);
  };
}

function startStream() {
  live.stopped = false;
  if (!live.source && !live.waiting && !live.connecting) connect();
}

function stopStream() {
  live.stopped = true;
  live.source?.close();
  live.source = null;
  clearTimeout(live.waiting);
  live.waiting = null;
}

/**
 * Server-sent events: `handlers` maps an event name to a function of its
 * data. Everything listening shares the tab's one connection, opened by the
 * first listener and closed with the last (the next starts afresh). Closed
 * on `pagehide`, reopened when the page comes back. Returns {close}.
 */
export function openStream(handlers) {
  listeners.add(handlers);
  Object.keys(handlers).forEach(dispatch);
  startStream();
  return {
    close() {
      if (!listeners.delete(handlers) || listeners.size) return;
      stopStream();
      live.lastEventId = "";
      live.failures = 0;
    },
  };
}

window.addEventListener("pagehide", stopStream);
window.addEventListener("pageshow", (event) => {
  if (event.persisted && listeners.size) startStream();
});
