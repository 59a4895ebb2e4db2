// One lead: call the customer (tel:), the customer's details, interest,
// comments, the lead's facts, its assignment history and tasks.
import { computed, ref, watch } from "vue";
import { useI18n } from "vue-i18n";
import * as api from "../api.js";
import { label } from "../i18n.js";
import { dateTime, dialable, money, readablePhone, store } from "../format.js";
import AppBar from "../components/AppBar.js";
import Facts from "../components/Facts.js";
import ResponseClock from "../components/ResponseClock.js";

export default {
  name: "LeadDetail",
  components: { AppBar, Facts, ResponseClock },
  props: { id: { type: String, required: true } },
  setup(props) {
    const { t } = useI18n();
    const lead = ref(null);
    const failure = ref(null);

    async function load() {
      lead.value = null;
      failure.value = null;
      try {
        lead.value = await api.lead(props.id);
      } catch (error) {
        if (!error.sessionEnded) failure.value = error;
      }
    }
    watch(() => props.id, load, { immediate: true });

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
      return [[t("lead.status"), label("status", l.status)],
              [t("lead.store"), store(l.store_code)?.name || l.store_code],
              [t("lead.channel"), label("channel", l.channel)], [t("lead.source"), l.source],
              [t("lead.provider"), l.provider?.name],
              [t("lead.consultant"), l.consultant?.display_name || t("lead.unassigned")],
              [t("lead.received"), when(l.received_at || l.created_at)],
              [t("lead.receivedNote"), l.received_at_note],
              [t("lead.due"), when(l.first_contact_due_at)]];
    });

    return { lead, problem, phone, customer, interest, details, when, label,
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
          <ResponseClock :due="lead.first_contact_due_at" :contacted="lead.first_contact_at" />
        </div>
        <div class="sections">
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
          <section class="panel">
            <h2 class="panel__title">{{ $t('lead.details') }}</h2>
            <Facts :rows="details" />
          </section>
          <section class="panel">
            <h2 class="panel__title">{{ $t('lead.assignments') }}</h2>
            <ol v-if="lead.assignments?.length" class="history">
              <li v-for="(a, n) in lead.assignments" :key="n">
                <strong>{{ a.consultant?.display_name }}</strong>
                <span class="muted"> · {{ when(a.assigned_at) }}</span>
                <span v-if="a.reason" class="muted"> · {{ label('reason', a.reason) }}</span>
              </li>
            </ol>
            <p v-else class="muted">{{ $t('lead.noAssignments') }}</p>
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
        </div>
      </template>
    </main>`,
};
