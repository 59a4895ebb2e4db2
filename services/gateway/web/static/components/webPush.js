// Web Push on this device: subscribe through the service worker with the
// server's VAPID key and hand the subscription to the API, or stop. Each
// way it can fail says why in words: no push in this browser (WeChat's and
// many Android browsers), notifications blocked, or the browser's push
// service refusing (Chrome's needs Google's servers, unreachable from
// mainland China: there the store's WeCom or DingTalk robot reaches people).
import * as api from "../api.js";

/** Why push could not be turned on: `reason` is unsupported, denied or refused (`detail`: the browser's words). */
export class PushProblem extends Error {
  constructor(reason, detail = "") {
    super(detail || reason);
    this.reason = reason;
    this.detail = detail;
  }
}

export function pushSupported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

/** The applicationServerKey (URL-safe base64) as the bytes `subscribe` takes. */
export function keyBytes(base64) {
  const text = atob((base64 + "===".slice((base64.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

const WORKER_WAIT = 10000;  // ms for the service worker to be active (a first visit installs it)

/** The app's service worker once active: `subscribe` needs one; PushProblem when it does not start. */
async function registration() {
  if (!(await navigator.serviceWorker.getRegistration("/"))) await navigator.serviceWorker.register("/sw.js");
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new PushProblem("refused", "the service worker did not start")), WORKER_WAIT);
  });
  try {
    return await Promise.race([navigator.serviceWorker.ready, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** This device's subscription, or null (no push here, none yet). */
export async function currentSubscription() {
  if (!pushSupported()) return null;
  try {
    return await (await registration()).pushManager.getSubscription();
  } catch {
    return null;
  }
}

/** Ask the browser, subscribe, tell the API -> {push_devices}; PushProblem or ApiError otherwise. */
export async function enablePush() {
  if (!pushSupported()) throw new PushProblem("unsupported");
  const permission = await Notification.requestPermission();
  if (permission !== "granted") throw new PushProblem("denied");
  const { public_key: key } = await api.vapidKey();
  let subscription;
  try {
    const { pushManager } = await registration();
    subscription = await pushManager.getSubscription()
      || await pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
  } catch (error) {
    throw new PushProblem("refused", error?.message || String(error));
  }
  return api.savePushSubscription(subscription.toJSON());
}

/** Stop push on this device, here and on the server -> {push_devices}, or null when it had none. */
export async function disablePush() {
  const subscription = await currentSubscription();
  if (!subscription) return null;
  await subscription.unsubscribe().catch(() => {});
  return api.deletePushSubscription(subscription.endpoint);
}
