// A manager's decision on a loss waiting for approval (战败审批): why the
// consultant says it is lost, then approve, or refuse with a reason (the
// lead goes back to its consultant, who is told why). Emits
// `decided(approved, lead)`.
import { computed, onMounted, ref } from "vue";
import { useI18n } from "vue-i18n";
import * as api from "../api.js";
import { label } from "../i18n.js";
import { dateTime } from "../format.js";
import { actionProblem } from "./leads.js";

export default {
  name: "LossDecision",
  props: {
    leadId: { type: String, required: true },
    name: { type: String, default: "" },
    lead: { type: Object, default: null },  // the lead's detail when the page has it already
  },
  emits: ["decided"],
  setup(props, { emit }) {
    const { t } = useI18n();
    const detail = ref(props.lead);
    const refusing = ref(false);
    const reason = ref("");
    const busy = ref(false);
    const problem = ref("");
    const fieldId = `refuse-${props.leadId}`;

    onMounted(async () => {
      if (detail.value) return;
      try {
        detail.value = await api.lead(props.leadId);
      } catch (error) {
        problem.value = actionProblem(error);
      }
    });
    const request = computed(() => {
      const events = (detail.value?.history || []).filter((entry) => entry.change === "loss_requested");
      return events[events.length - 1] || null;
    });

    async function decide(approve) {
      problem.value = "";
      if (!approve && !reason.value.trim()) {
        problem.value = t("approvals.reasonNeeded");
        return;
      }
      busy.value = true;
      try {
        const lead = await api.decideLoss(props.leadId, approve, approve ? undefined : reason.value.trim());
        emit("decided", approve, lead);
      } catch (error) {
        problem.value = actionProblem(error, t("approvals.gone"));
      } finally {
        busy.value = false;
      }
    }
    return { detail, request, refusing, reason, busy, problem, decide, fieldId, label,
             when: (iso) => dateTime(iso, detail.value?.store_code) };
  },
  template: `
    <div class="decision">
      <p v-if="detail" class="decision__why">
        <strong>{{ label('lostReason', detail.lost_reason) }}</strong>
        <span v-if="detail.lost_note"> — {{ detail.lost_note }}</span>
      </p>
      <p v-if="request" class="muted decision__who">{{ $t('approvals.asked', {
        who: request.actor?.display_name || $t('history.system'), time: when(request.at) }) }}</p>
      <div v-if="refusing" class="field">
        <label :for="fieldId">{{ $t('approvals.refuseReason') }}</label>
        <textarea :id="fieldId" v-model="reason" maxlength="500" :placeholder="$t('approvals.refuseHint')"></textarea>
      </div>
      <p class="problem" role="alert">{{ problem }}</p>
      <div class="card-actions">
        <template v-if="!refusing">
          <button type="button" class="button button--primary" :disabled="busy"
                  @click="decide(true)">{{ $t('approvals.approve', { name }) }}</button>
          <button type="button" class="button" :disabled="busy"
                  @click="refusing = true">{{ $t('approvals.refuse', { name }) }}</button>
        </template>
        <template v-else>
          <button type="button" class="button button--primary" :disabled="busy"
                  @click="decide(false)">{{ $t('approvals.sendRefusal') }}</button>
          <button type="button" class="button" :disabled="busy"
                  @click="refusing = false">{{ $t('act.cancel') }}</button>
        </template>
      </div>
    </div>`,
};
