// What a consultant does to a lead, in one or two taps: the stage (a chip;
// forward at once, back one stage with a reason), the grade (a chip, then
// why), won (deal value typed in yuan, sent in fen; the vehicle), lost
// (reason chips and a note), reopen, claim from the pool. A loss waiting
// for approval shows who decides (managers decide here). Emits
// `changed(lead)` with the lead the API answers.
import { computed, ref } from "vue";
import { useI18n } from "vue-i18n";
import * as api from "../api.js";
import { label } from "../i18n.js";
import { toMinor } from "./customers.js";
import { actionProblem, isManager, LOSS_REASONS, OPEN_GRADES, OPEN_STAGES, OPEN_STATUSES, OWNED } from "./leads.js";
import LossDecision from "./LossDecision.js";

export default {
  name: "LeadActions",
  components: { LossDecision },
  props: {
    lead: { type: Object, required: true },
  },
  emits: ["changed"],
  setup(props, { emit }) {
    const { t } = useI18n();
    const pending = ref(null);   // {kind: "grade"|"stage", value}: waiting for a reason
    const reason = ref("");
    const form = ref(null);      // "win" | "lose" | "reopen"
    const busy = ref(false);
    const problem = ref("");
    const notice = ref("");
    const win = ref({});
    const loss = ref({ reason: "", note: "" });
    const reopenWhy = ref("");

    const owned = computed(() => OWNED.includes(props.lead.status));
    const gradable = computed(() => OPEN_STATUSES.includes(props.lead.status));
    const stageIndex = (stage) => OPEN_STAGES.indexOf(stage);
    const canStage = (stage) => owned.value && stage !== props.lead.stage
      && stageIndex(stage) >= stageIndex(props.lead.stage) - 1;

    async function run(call, done, conflict, invalid) {
      busy.value = true;
      problem.value = "";
      notice.value = "";
      try {
        const lead = await call();
        emit("changed", lead);
        notice.value = done(lead);
        pending.value = null;
        form.value = null;
        reason.value = "";
        return true;
      } catch (error) {
        problem.value = error.status === 422 && invalid ? invalid : actionProblem(error, conflict);
        return false;
      } finally {
        busy.value = false;
      }
    }

    function pickStage(stage) {
      problem.value = "";
      notice.value = "";
      if (stageIndex(stage) > stageIndex(props.lead.stage)) {
        pending.value = null;
        run(() => api.stageLead(props.lead.id, stage),
            () => t("act.stageDone", { stage: label("stage", stage) }));
      } else {
        pending.value = { kind: "stage", value: stage };
        reason.value = "";
      }
    }
    function pickGrade(grade) {
      problem.value = "";
      notice.value = "";
      pending.value = grade === props.lead.grade ? null : { kind: "grade", value: grade };
      reason.value = "";
    }
    function confirmPending() {
      const { kind, value } = pending.value;
      if (!reason.value.trim()) {
        problem.value = t("act.reasonNeeded");
        return;
      }
      if (kind === "grade") {
        run(() => api.gradeLead(props.lead.id, value, reason.value.trim()),
            () => t("act.gradeDone", { grade: value }));
      } else {
        run(() => api.stageLead(props.lead.id, value, reason.value.trim()),
            () => t("act.stageDone", { stage: label("stage", value) }));
      }
    }
    const pendingQuestion = computed(() => {
      if (!pending.value) return "";
      return pending.value.kind === "grade"
        ? t("act.whyGrade", { grade: pending.value.value })
        : t("act.whyBack", { stage: label("stage", pending.value.value) });
    });

    function openForm(name) {
      problem.value = "";
      notice.value = "";
      pending.value = null;
      form.value = form.value === name ? null : name;
      if (name === "win") {
        const i = props.lead.interest || {};
        win.value = { value: "", brand: i.brand || "", model: i.model || "", trim: i.trim || "",
                      year: i.year ? String(i.year) : "", vin: "", note: "" };
      }
      if (name === "lose") loss.value = { reason: "", note: "" };
      if (name === "reopen") reopenWhy.value = "";
    }

    function sendWin() {
      const w = win.value;
      const value = toMinor(w.value);
      if (value !== null && !(value > 0)) {
        problem.value = t("act.notAmount");
        return;
      }
      const vehicle = {};
      for (const name of ["brand", "model", "trim", "vin"]) if (w[name].trim()) vehicle[name] = w[name].trim();
      if (w.year.trim()) vehicle.year = Number(w.year);
      const body = { currency: "CNY" };
      if (value !== null) body.deal_value = value;
      if (Object.keys(vehicle).length) body.vehicle = vehicle;
      if (w.note.trim()) body.note = w.note.trim();
      run(() => api.winLead(props.lead.id, body), () => t("act.wonDone"));
    }
    function sendLoss() {
      if (!loss.value.reason) {
        problem.value = t("act.lossReasonNeeded");
        return;
      }
      if (loss.value.reason === "other" && !loss.value.note.trim()) {
        problem.value = t("act.noteNeeded");
        return;
      }
      run(() => api.loseLead(props.lead.id, loss.value.reason, loss.value.note.trim() || undefined),
          (lead) => t(lead.status === "loss_pending" ? "act.lossAsked" : "act.lostDone"));
    }
    function sendReopen() {
      if (!reopenWhy.value.trim()) {
        problem.value = t("act.reasonNeeded");
        return;
      }
      run(() => api.reopenLead(props.lead.id, reopenWhy.value.trim()), () => t("act.reopened"));
    }
    function claim() {
      run(() => api.claimLead(props.lead.id), () => t("act.claimed"), t("pool.takenHere"), t("pool.limit"));
    }
    function decided(approved, lead) {
      emit("changed", lead);
      notice.value = t(approved ? "act.lossApproved" : "act.lossRefused");
    }

    return { OPEN_STAGES, OPEN_GRADES, LOSS_REASONS, label, owned, gradable, canStage, pickStage, pickGrade,
             pending, pendingQuestion, reason, confirmPending, form, openForm, win, sendWin, loss, sendLoss,
             reopenWhy, sendReopen, claim, decided, busy, problem, notice, manager: computed(isManager) };
  },
  template: `
    <section class="panel panel--wide" :aria-label="$t('act.title')">
      <h2 class="panel__title">{{ $t('act.title') }}</h2>
      <p class="notice" role="status">{{ notice }}</p>

      <template v-if="lead.status === 'pooled'">
        <p class="muted">{{ $t('act.inPool') }}</p>
        <button type="button" class="button button--primary" :disabled="busy" @click="claim">{{ $t('act.claim') }}</button>
      </template>

      <template v-if="lead.status === 'loss_pending'">
        <p class="hint">{{ $t('act.lossPending') }}</p>
        <LossDecision v-if="manager" :lead-id="lead.id" :lead="lead" :name="lead.customer?.name || ''"
                      @decided="decided" />
      </template>

      <div v-if="owned" class="field">
        <span class="field__name" id="stage-chips">{{ $t('act.stage') }}</span>
        <ul class="chips" role="group" aria-labelledby="stage-chips">
          <li v-for="stage in OPEN_STAGES" :key="stage">
            <button type="button" class="chip-button" :data-stage="stage"
                    :aria-pressed="lead.stage === stage || (pending?.kind === 'stage' && pending.value === stage) ? 'true' : 'false'"
                    :disabled="busy || !canStage(stage)" @click="pickStage(stage)">{{ label('stage', stage) }}</button>
          </li>
        </ul>
      </div>

      <div v-if="gradable" class="field">
        <span class="field__name" id="grade-chips">{{ $t('act.grade') }}</span>
        <ul class="chips" role="group" aria-labelledby="grade-chips">
          <li v-for="grade in OPEN_GRADES" :key="grade">
            <button type="button" class="chip-button" :data-grade="grade"
                    :aria-pressed="(pending?.kind === 'grade' ? pending.value === grade : lead.grade === grade) ? 'true' : 'false'"
                    :disabled="busy" @click="pickGrade(grade)">{{ label('gradeChip', grade) }}</button>
          </li>
        </ul>
      </div>

      <form v-if="pending" class="form sheet" novalidate @submit.prevent="confirmPending">
        <div class="field">
          <label for="change-reason">{{ pendingQuestion }}</label>
          <textarea id="change-reason" v-model="reason" maxlength="500" required
                    :placeholder="$t('act.reasonHint')"></textarea>
        </div>
        <div class="actions">
          <button type="submit" class="button button--primary" :disabled="busy">{{ $t('act.save') }}</button>
          <button type="button" class="button" @click="pending = null">{{ $t('act.cancel') }}</button>
        </div>
      </form>

      <div v-if="owned" class="actions">
        <button type="button" class="button" :aria-expanded="form === 'win' ? 'true' : 'false'"
                @click="openForm('win')">{{ $t('act.win') }}</button>
        <button type="button" class="button button--danger" :aria-expanded="form === 'lose' ? 'true' : 'false'"
                @click="openForm('lose')">{{ $t('act.lose') }}</button>
      </div>
      <button v-if="lead.status === 'lost'" type="button" class="button" :aria-expanded="form === 'reopen' ? 'true' : 'false'"
              @click="openForm('reopen')">{{ $t('act.reopen') }}</button>

      <form v-if="form === 'win'" class="form sheet" @submit.prevent="sendWin" :aria-label="$t('act.win')">
        <div class="field">
          <label for="win-value">{{ $t('act.dealValue') }}</label>
          <input id="win-value" v-model="win.value" inputmode="decimal" autocomplete="off" :placeholder="$t('act.dealHint')">
        </div>
        <div class="pair">
          <div class="field"><label for="win-brand">{{ $t('act.brand') }}</label><input id="win-brand" v-model="win.brand" maxlength="100"></div>
          <div class="field"><label for="win-model">{{ $t('act.model') }}</label><input id="win-model" v-model="win.model" maxlength="100"></div>
          <div class="field"><label for="win-trim">{{ $t('act.trim') }}</label><input id="win-trim" v-model="win.trim" maxlength="100"></div>
          <div class="field"><label for="win-year">{{ $t('act.year') }}</label><input id="win-year" v-model="win.year" inputmode="numeric" maxlength="4"></div>
        </div>
        <div class="field"><label for="win-vin">{{ $t('act.vin') }}</label>
          <input id="win-vin" v-model="win.vin" maxlength="17" autocapitalize="characters" :placeholder="$t('act.vinHint')"></div>
        <div class="field"><label for="win-note">{{ $t('act.note') }}</label><textarea id="win-note" v-model="win.note" maxlength="500"></textarea></div>
        <button type="submit" class="button button--primary" :disabled="busy">{{ $t('act.sendWin') }}</button>
      </form>

      <form v-if="form === 'lose'" class="form sheet" @submit.prevent="sendLoss" :aria-label="$t('act.lose')">
        <div class="field">
          <span class="field__name" id="loss-chips">{{ $t('act.lossReason') }}</span>
          <ul class="chips" role="group" aria-labelledby="loss-chips">
            <li v-for="code in LOSS_REASONS" :key="code">
              <button type="button" class="chip-button" :data-loss="code" :aria-pressed="loss.reason === code ? 'true' : 'false'"
                      @click="loss.reason = code">{{ label('lostReason', code) }}</button>
            </li>
          </ul>
        </div>
        <div class="field">
          <label for="loss-note">{{ loss.reason === 'other' ? $t('act.noteRequired') : $t('act.note') }}</label>
          <textarea id="loss-note" v-model="loss.note" maxlength="500"></textarea>
        </div>
        <button type="submit" class="button button--danger-solid" :disabled="busy">{{ $t('act.sendLoss') }}</button>
      </form>

      <form v-if="form === 'reopen'" class="form sheet" novalidate @submit.prevent="sendReopen" :aria-label="$t('act.reopen')">
        <div class="field">
          <label for="reopen-reason">{{ $t('act.reopenWhy') }}</label>
          <textarea id="reopen-reason" v-model="reopenWhy" maxlength="500" required></textarea>
        </div>
        <button type="submit" class="button button--primary" :disabled="busy">{{ $t('act.sendReopen') }}</button>
      </form>

      <p class="problem" role="alert">{{ problem }}</p>
    </section>`,
};
