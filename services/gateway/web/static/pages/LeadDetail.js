// One lead: call the customer (tel:), its grade, stage and score; log a
// follow-up with a script, its open tasks and records (FollowupPanel); what to
// do next (stage, grade, won, lost, reopen, claim; a manager assigns it
// and decides a loss); the score's reasons; the discussion; the history of
// every change and assignment; the customer, interest, details, inquiries
// that joined it, and tasks; book a test drive (the test-drive page for this
// lead). Changes others make arrive on the stream.
import { computed, onMounted, onUnmounted, ref, watch } from "vue";
import { useI18n } from "vue-i18n";
import * as api from "../api.js";
import { label } from "../i18n.js";
import { dateTime, dialable, money, readablePhone, store } from "../format.js";
import AppBar from "../components/AppBar.js";
import Discussion from "../components/Discussion.js";
import Facts from "../components/Facts.js";
import FollowupPanel from "../components/FollowupPanel.js";
import LeadActions from "../components/LeadActions.js";
import LeadAssign from "../components/LeadAssign.js";
import LeadBadges from "../components/LeadBadges.js";
import LeadCard from "../components/LeadCard.js";
import LeadHistory from "../components/LeadHistory.js";
import ResponseClock from "../components/ResponseClock.js";
import { isManager, OPEN_STATUSES } from "../components/leads.js";

/** A score reason's value in words: channels by their label, the rules' phrases translated. */
function reasonValue(reason) {
  if (reason.factor === "channel") return label("channel", reason.value);
  const key = String(reason.value ?? "").toLowerCase().replace(/[^\w]+/g, "_");
  const shown = label("scoreValue", key);
  return shown === key ? reason.value : shown;
}

export default {
  name: "LeadDetail",
  components: { AppBar, Discussion, Facts, FollowupPanel, LeadActions, LeadAssign, LeadBadges, LeadCard, LeadHistory, ResponseClock },
  props: { id: { type: String, required: true } },
  setup(props) {
    const { t } = useI18n();
    const lead = ref(null);
    const failure = ref(null);

    async function load({ quiet = false } = {}) {
      if (!quiet) {
        lead.value = null;
        failure.value = null;
      }
      try {
        lead.value = await api.lead(props.id);
        failure.value = null;
      } catch (error) {
        if (!error.sessionEnded && !(quiet && error.status !== 404)) failure.value = error;
        if (error.status === 404) lead.value = null;
      }
    }
    watch(() => props.id, () => load(), { immediate: true });

    /** An action's answer: the lead without its tasks and messages, which stay as they were. */
    function changed(next) {
      lead.value = { ...lead.value, ...next, tasks: next.tasks ?? lead.value?.tasks,
                     notifications: next.notifications ?? lead.value?.notifications };
    }

    let stream = null;
    onMounted(() => {
      const mine = (event) => { if (event.lead_id === props.id) load({ quiet: true }); };
      stream = api.openStream({ lead_assigned: mine, lead_changed: mine });
    });
    onUnmounted(() => stream?.close());

    const problem = computed(() => {
      const error = failure.value;
      if (!error) return "";
      return error.status === 404 ? t("lead.notFound")
        : t("leads.failed", { reason: error.description || error.title || error.status });
    });
    const yesNo = (value) => (value === true ? t("lead.yes") : value === false ? t("lead.no") : null);
    const when = (iso) => dateTime(iso, lead.value?.store_code);

    const phone = computed(() => lead.value?.customer?.phone || "");
    const customer = computed(() => {
      const c = lead.value.customer || {};
      return [[t("lead.name"), c.name], [t("lead.phone"), readablePhone(c.phone)],
              [t("lead.email"), c.email], [t("lead.city"), c.city]];
    });
    const interest = computed(() => {
      const i = lead.value.interest || {};
      const budget = [i.budget_min, i.budget_max].filter((v) => v !== null && v !== undefined)
        .map((v) => money(v, i.currency || "CNY")).join(" – ");
      const tradeIn = (lead.value.trade_in || [])
        .map((car) => Object.values(car).filter((v) => typeof v === "string" || typeof v === "number").join(" "))
        .join("; ");
      return [[t("lead.vehicle"), [i.brand, i.model, i.trim, i.year].filter(Boolean).join(" ")],
              [t("lead.budget"), budget], [t("lead.timeframe"), label("timeframe", i.timeframe)],
              [t("lead.finance"), yesNo(i.finance)], [t("lead.testDrive"), yesNo(i.test_drive)],
              [t("lead.tradeIn"), tradeIn || yesNo(i.trade_in)]];
    });
    const details = computed(() => {
      const l = lead.value;
      const v = l.vehicle || {};
      return [[t("lead.status"), label("status", l.status)],
              [t("lead.grade"), l.grade ? label("grade", l.grade) : null],
              [t("lead.stage"), label("stage", l.stage)],
              [t("lead.store"), store(l.store_code)?.name || l.store_code],
              [t("lead.channel"), label("channel", l.channel)], [t("lead.source"), l.source],
              [t("lead.provider"), l.provider?.name],
              [t("lead.consultant"), l.consultant?.display_name || t("lead.unassigned")],
              [t("lead.reroutes"), l.reroutes ? String(l.reroutes) : null],
              [t("lead.lostReason"), l.lost_reason ? label("lostReason", l.lost_reason) : null],
              [t("lead.lostNote"), l.lost_note],
              [t("lead.dealValue"), l.deal_value ? money(l.deal_value, l.deal_currency || "CNY") : null],
              [t("lead.dealVehicle"), [v.brand, v.model, v.trim, v.year, v.vin].filter(Boolean).join(" ")],
              [t("lead.pooledAt"), l.status === "pooled" ? when(l.pooled_at) : null],
              [t("lead.closedAt"), when(l.closed_at)],
              [t("lead.received"), when(l.received_at || l.created_at)],
              [t("lead.receivedNote"), l.received_at_note],
              [t("lead.due"), when(l.first_contact_due_at)]];
    });
    const reasons = computed(() => (lead.value.score_reasons || []).map((reason) => ({
      factor: label("scoreFactor", reason.factor),
      value: reasonValue(reason),
      effect: reason.points !== undefined && reason.points !== null
        ? t("score.points", { points: reason.points > 0 ? `+${reason.points}` : String(reason.points) })
        : t(reason.direction === "down" ? "score.down" : "score.up"),
    })));

    return { lead, problem, load, phone, customer, interest, details, reasons, when, label, changed,
             manager: computed(isManager),
             bookable: computed(() => ["assigned", "contacted"].includes(lead.value?.status)),
             assignable: computed(() => OPEN_STATUSES.includes(lead.value?.status) && lead.value?.status !== "loss_pending"),
             tel: computed(() => `tel:${dialable(phone.value)}`), readable: computed(() => readablePhone(phone.value)) };
  },
  template: `
    <AppBar :title="lead?.customer?.name || $t('lead.title')" :back="{ name: 'leads' }" />
    <main class="page" id="main">
      <p class="problem" role="alert">{{ problem }}</p>
      <template v-if="lead">
        <p v-if="lead.unavailable?.length" class="note">{{ $t('lead.unavailable') }}</p>
        <div class="lead-head">
          <a v-if="phone" :href="tel" class="button button--primary button--call">{{ $t('lead.call', { phone: readable }) }}</a>
          <ResponseClock :due="lead.status === 'assigned' ? lead.first_contact_due_at : null" :contacted="lead.first_contact_at" />
        </div>
        <div v-if="bookable" class="actions">
          <router-link :to="{ name: 'testDrives', query: { lead: lead.id } }" class="button" data-book-test-drive>{{ $t('testDrive.bookForLead') }}</router-link>
        </div>
        <p class="lead-state">
          <span :class="['badge', 'badge--status', 'badge--' + lead.status]">{{ label('status', lead.status) }}</span>
          <LeadBadges :lead="lead" :stage="true" />
        </p>
        <div class="sections">
          <FollowupPanel :lead="lead" @logged="load({ quiet: true })" />
          <LeadActions :lead="lead" @changed="changed" />
          <LeadAssign v-if="manager && assignable" :lead="lead" @changed="changed" />
          <section v-if="lead.score !== null && lead.score !== undefined" class="panel">
            <h2 class="panel__title">{{ $t('score.title') }}</h2>
            <p class="score"><strong class="score__value">{{ lead.score }}</strong>
              <span class="muted">{{ $t('score.outOf') }} · {{ label('scoreMethod', lead.score_method) }}</span></p>
            <ol v-if="reasons.length" class="score__reasons">
              <li v-for="(reason, n) in reasons" :key="n">
                <span>{{ reason.factor }}</span><span class="muted">{{ reason.value }}</span>
                <strong class="score__effect">{{ reason.effect }}</strong>
              </li>
            </ol>
          </section>
          <Discussion :lead="lead" @changed="changed" />
          <LeadHistory :lead="lead" />
          <section class="panel">
            <h2 class="panel__title">{{ $t('lead.customer') }}</h2>
            <Facts :rows="customer" />
          </section>
          <section class="panel">
            <h2 class="panel__title">{{ $t('lead.interest') }}</h2>
            <Facts :rows="interest" />
          </section>
          <section class="panel">
            <h2 class="panel__title">{{ $t('lead.comments') }}</h2>
            <p class="comments">{{ lead.comments || $t('lead.noComments') }}</p>
          </section>
          <section v-if="lead.inquiries?.length" class="panel">
            <h2 class="panel__title">{{ $t('lead.inquiries') }}</h2>
            <p class="muted">{{ $t('lead.inquiriesHint') }}</p>
            <ul class="cards">
              <li v-for="inquiry in lead.inquiries" :key="inquiry.id"><LeadCard :lead="inquiry" /></li>
            </ul>
          </section>
          <section class="panel">
            <h2 class="panel__title">{{ $t('lead.tasks') }}</h2>
            <ul v-if="lead.tasks?.length" class="history">
              <li v-for="task in lead.tasks" :key="task.id">
                <strong>{{ label('task', task.kind) }}</strong>
                <span class="muted"> · {{ label('task', task.status) }}</span>
                <span v-if="task.due_at" class="muted"> · {{ $t('lead.taskDue', { time: when(task.due_at) }) }}</span>
              </li>
            </ul>
            <p v-else class="muted">{{ $t('lead.noTasks') }}</p>
          </section>
          <section class="panel">
            <h2 class="panel__title">{{ $t('lead.details') }}</h2>
            <Facts :rows="details" />
          </section>
        </div>
      </template>
    </main>`,
};
