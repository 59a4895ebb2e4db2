// What the notification screens share that is not a component: the codes
// the API knows (dealerflow/notification_contracts.py), the caller's unread
// count (the app bar's badge, kept by whoever learns it), and where a
// message leads.
import { reactive, watch } from "vue";
import * as api from "../api.js";
import { i18n, label } from "../i18n.js";

export const KINDS = ["lead_assigned", "lead_rerouted", "sla_warning", "escalation", "reminder", "loss_approval",
                      "test_drive", "daily_digest", "lead_update"];
export const USER_CHANNELS = ["inapp", "webpush", "email", "robot"];
export const ROBOT_TYPES = ["wecom", "dingtalk", "feishu"];
export const STORE_CHANNEL_TYPES = [...ROBOT_TYPES, "email", "webhook"];

/** `unread`: the caller's unread messages (null until known). */
export const inbox = reactive({ unread: null });

// another user (or none) on this device: the last one's count is not theirs
watch(() => api.session.user?.id, () => { inbox.unread = null; });

let asking = null;
let again = false;

/**
 * Read the unread count again. A burst of `notification` events makes one
 * request at a time (and one more after it), not one each; a count is never
 * added to by hand, so an event that arrives with the first count is not
 * counted twice.
 */
export function refreshUnread() {
  if (asking) {
    again = true;
    return asking;
  }
  asking = (async () => {
    do {
      again = false;
      try {
        inbox.unread = (await api.unreadCount()).unread;
      } catch {
        // offline or signed out: the badge keeps what it showed
      }
    } while (again);
  })().finally(() => { asking = null; });
  return asking;
}

/**
 * The app's path a message opens: its `link` when it is a path of this app
 * (never another site: a message's text is not ours), else its lead, else null.
 */
export function messageTarget(message) {
  const link = message.link || "";
  if (link.startsWith("/") && !link.startsWith("//") && !link.startsWith("/\\")) return link;
  try {
    const url = new URL(link);
    if (url.origin === window.location.origin) return url.pathname + url.search + url.hash;
  } catch {
    // not a URL: fall back to the lead
  }
  return message.lead_id ? `/leads/${encodeURIComponent(message.lead_id)}` : null;
}

/** A message's kind in words: one of KINDS, else (older messages) the lead change it was named after. */
export function kindLabel(kind) {
  return i18n.global.te(`notificationKind.${kind}`) ? label("notificationKind", kind) : label("change", kind);
}
