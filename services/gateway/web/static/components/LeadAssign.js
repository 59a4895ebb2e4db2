// A manager gives the lead to a colleague of its store, or back to the
// routing rules ("route again"), saying why. Emits `changed(lead)`.
import { computed, onMounted, ref } from "vue";
import { useI18n } from "vue-i18n";
import * as api from "../api.js";
import { label } from "../i18n.js";
import { actionProblem } from "./leads.js";

export const ROUTE_AGAIN = "";

/** The active consultants and managers of a store, by name. */
export async function colleagues(storeCode) {
  const page = await api.storeStaff(storeCode);
  return page.items.filter((user) => user.role !== "group_admin")
    .sort((a, b) => (a.display_name || "").localeCompare(b.display_name || ""));
}

export default {
  name: "LeadAssign",
  props: {
    lead: { type: Object, required: true },
  },
  emits: ["changed"],
  setup(props, { emit }) {
    const { t } = useI18n();
    const people = ref([]);
    const to = ref(ROUTE_AGAIN);
    const reason = ref("");
    const busy = ref(false);
    const problem = ref("");
    const notice = ref("");

    onMounted(async () => {
      try {
        people.value = await colleagues(props.lead.store_code);
      } catch (error) {
        problem.value = actionProblem(error);
      }
    });
    const choices = computed(() => people.value.filter((user) => user.id !== props.lead.consultant?.id));

    async function assign() {
      busy.value = true;
      problem.value = "";
      notice.value = "";
      try {
        const lead = await api.assignLead(props.lead.id, to.value || null, reason.value.trim());
        emit("changed", lead);
        notice.value = lead.consultant?.display_name
          ? t("assign.done", { name: lead.consultant.display_name }) : t("assign.routed");
        reason.value = "";
        to.value = ROUTE_AGAIN;
      } catch (error) {
        problem.value = actionProblem(error);
      } finally {
        busy.value = false;
      }
    }
    return { choices, to, reason, busy, problem, notice, assign, label };
  },
  template: `
    <section class="panel">
      <h2 class="panel__title">{{ $t('assign.title') }}</h2>
      <p class="muted">{{ $t('assign.now', { name: lead.consultant?.display_name || $t('lead.unassigned') }) }}</p>
      <form class="form" @submit.prevent="assign">
        <div class="field">
          <label for="assign-to">{{ $t('assign.to') }}</label>
          <select id="assign-to" v-model="to">
            <option value="">{{ $t('assign.routeAgain') }}</option>
            <option v-for="user in choices" :key="user.id" :value="user.id">{{ user.display_name }} ({{ label('role', user.role) }})</option>
          </select>
        </div>
        <div class="field">
          <label for="assign-reason">{{ $t('assign.reason') }}</label>
          <input id="assign-reason" v-model="reason" maxlength="500" autocomplete="off" :placeholder="$t('assign.reasonHint')">
        </div>
        <button type="submit" class="button button--primary" :disabled="busy">{{ $t('assign.submit') }}</button>
      </form>
      <p class="notice" role="status">{{ notice }}</p>
      <p class="problem" role="alert">{{ problem }}</p>
    </section>`,
};
