// What the lead pages share that is not a component: the codes the API
// knows (grades, stages, statuses, loss reasons), who may manage, and an
// error of a lead action as one sentence.
import { session } from "../api.js";
import { i18n } from "../i18n.js";
import { messagesAt } from "./customers.js";

export const OPEN_GRADES = ["H", "A", "B", "C", "N"];
export const GRADES = [...OPEN_GRADES, "O", "F"];
export const OPEN_STAGES = ["initial_contact", "needs_confirmed", "proposal", "negotiation"];
export const STAGES = [...OPEN_STAGES, "after_sales"];
export const LEAD_STATUSES = ["accepted", "pooled", "assigned", "contacted", "loss_pending", "won", "lost", "joined"];
export const OPEN_STATUSES = ["accepted", "pooled", "assigned", "contacted", "loss_pending"];
export const OWNED = ["assigned", "contacted"];
export const LOSS_REASONS = ["price", "bought_competitor", "bought_other_dealer", "no_budget", "unreachable",
                             "not_interested", "postponed", "financing_refused", "other"];
export const CHANNELS = ["website", "third_party", "auto_show", "referral", "walk_in", "phone", "social", "other"];

/** Managers and group admins assign, decide losses and set routing. */
export function isManager() {
  return ["manager", "group_admin"].includes(session.user?.role);
}

export function isGroupAdmin() {
  return session.user?.role === "group_admin";
}

/** The API's field errors as one line ("reason: ..."), for a form's problem line. */
export function fieldMessages(errors) {
  return messagesAt(errors).join(" ");
}

/**
 * An ApiError of a lead action as a sentence in the app's language:
 * `conflict` is the message for a 409 (someone changed or claimed it first).
 */
export function actionProblem(error, conflict) {
  const t = i18n.global.t;
  if (!error || error.sessionEnded) return "";
  if (error.unreachable) return t("act.offline");
  if (error.status === 403) return t("act.forbidden");
  if (error.status === 404) return t("lead.notFound");
  if (error.status === 409) return conflict || t("act.conflict");
  const details = fieldMessages(error.errors);
  return t("act.failed", { reason: details || error.description || error.title || String(error.status) });
}
