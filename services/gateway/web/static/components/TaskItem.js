// One open follow-up task: its kind, when it is due (in the store's zone;
// "overdue" in words, not colour alone), done (an outcome chip, an
// optional next time and kind, a note) and snooze (+1 hour, tomorrow
// 10:00, a time picked). The default slot shows who it is for (Today: the
// customer). Emits `changed(task)` with the task the API answers.
import { computed, ref } from "vue";
import { useI18n } from "vue-i18n";
import * as api from "../api.js";
import { label } from "../i18n.js";
import { localInput, shortDateTime, timeOfDay } from "../format.js";
import { bucket, DONE_OUTCOMES, followupProblem, fromInput, inAnHour, TASK_KINDS, tomorrowMorning } from "./followups.js";

export default {
  name: "TaskItem",
  props: {
    task: { type: Object, required: true },
    who: { type: String, default: "" },   // for the buttons' names: the customer
  },
  emits: ["changed"],
  setup(props, { emit }) {
    const { t } = useI18n();
    const mode = ref(null);     // "done" | "snooze"
    const outcome = ref("");
    const nextAt = ref("");
    const nextKind = ref("");
    const note = ref("");
    const pickAt = ref("");
    const busy = ref(false);
    const problem = ref("");
    const store = computed(() => props.task.store_code);
    const where = computed(() => bucket(props.task));
    const due = computed(() => {
      const at = props.task.due_at;
      if (where.value === "overdue") return t("followup.overdueSince", { time: shortDateTime(at, store.value) });
      if (where.value === "today") return t("followup.dueAt", { time: timeOfDay(at, store.value) });
      return t("followup.dueAt", { time: shortDateTime(at, store.value) });
    });
    const what = computed(() => [props.who, label("task", props.task.kind)].filter(Boolean).join(" · "));

    function open(next) {
      mode.value = mode.value === next ? null : next;
      problem.value = "";
      if (next === "snooze") pickAt.value = localInput(tomorrowMorning(store.value), store.value);
    }
    async function run(call) {
      busy.value = true;
      problem.value = "";
      try {
        const task = await call();
        mode.value = null;
        emit("changed", task);
      } catch (error) {
        problem.value = followupProblem(error);
      } finally {
        busy.value = false;
      }
    }
    function complete() {
      if (!outcome.value) {
        problem.value = t("followup.pickOutcome");
        return;
      }
      const next = fromInput(nextAt.value, store.value);
      if (nextAt.value && !next) {
        problem.value = t("followup.badTime");
        return;
      }
      run(() => api.completeFollowup(props.task.id, {
        outcome: outcome.value, next_due_at: next || undefined,
        next_kind: next && nextKind.value ? nextKind.value : undefined, note: note.value.trim() || undefined,
      }));
    }
    function snooze(how) {
      const at = how === "hour" ? inAnHour() : how === "tomorrow" ? tomorrowMorning(store.value)
        : fromInput(pickAt.value, store.value);
      if (!at) {
        problem.value = t("followup.badTime");
        return;
      }
      run(() => api.rescheduleFollowup(props.task.id, at));
    }

    return { mode, open, outcome, nextAt, nextKind, note, pickAt, busy, problem, due, where, what, complete, snooze,
             label, DONE_OUTCOMES, TASK_KINDS, t };
  },
  template: `
    <li :class="['task', 'task--' + where]" :data-task="task.id">
      <div class="task__head">
        <span class="tag">{{ label('task', task.kind) }}</span>
        <span :class="['task__due', { 'task__due--late': where === 'overdue' }]">{{ due }}</span>
        <span v-if="task.source === 'manual'" class="muted">{{ label('taskSource', task.source) }}</span>
      </div>
      <slot />
      <p v-if="task.note" class="task__note">{{ task.note }}</p>
      <div class="actions">
        <button type="button" class="button button--primary" :aria-expanded="mode === 'done' ? 'true' : 'false'"
                :aria-label="$t('followup.doneNamed', { what })" @click="open('done')">{{ $t('followup.done') }}</button>
        <button type="button" class="button" :aria-expanded="mode === 'snooze' ? 'true' : 'false'"
                :aria-label="$t('followup.snoozeNamed', { what })" @click="open('snooze')">{{ $t('followup.snooze') }}</button>
      </div>
      <form v-if="mode === 'done'" class="form sheet" novalidate @submit.prevent="complete" :aria-label="$t('followup.done')">
        <div class="field">
          <span class="field__name" :id="'done-outcome-' + task.id">{{ $t('followup.outcome') }}</span>
          <ul class="chips" role="group" :aria-labelledby="'done-outcome-' + task.id">
            <li v-for="code in DONE_OUTCOMES" :key="code">
              <button type="button" class="chip-button" :data-outcome="code" :aria-pressed="outcome === code ? 'true' : 'false'"
                      @click="outcome = code">{{ label('outcome', code) }}</button>
            </li>
          </ul>
        </div>
        <div class="pair">
          <div class="field">
            <label :for="'done-next-' + task.id">{{ $t('followup.nextAtOptional') }}</label>
            <input :id="'done-next-' + task.id" v-model="nextAt" type="datetime-local">
          </div>
          <div class="field">
            <label :for="'done-kind-' + task.id">{{ $t('followup.nextKind') }}</label>
            <select :id="'done-kind-' + task.id" v-model="nextKind" :disabled="!nextAt">
              <option value="">{{ $t('followup.byCadence') }}</option>
              <option v-for="kind in TASK_KINDS" :key="kind" :value="kind">{{ label('task', kind) }}</option>
            </select>
          </div>
        </div>
        <p class="muted">{{ $t('followup.nextHint') }}</p>
        <div class="field">
          <label :for="'done-note-' + task.id">{{ $t('followup.note') }}</label>
          <textarea :id="'done-note-' + task.id" v-model="note" maxlength="4000"></textarea>
        </div>
        <button type="submit" class="button button--primary" :disabled="busy">{{ $t('followup.sendDone') }}</button>
      </form>
      <div v-if="mode === 'snooze'" class="sheet" role="group" :aria-label="$t('followup.snooze')">
        <div class="actions">
          <button type="button" class="chip-button" data-snooze="hour" :disabled="busy" @click="snooze('hour')">{{ $t('followup.inAnHour') }}</button>
          <button type="button" class="chip-button" data-snooze="tomorrow" :disabled="busy" @click="snooze('tomorrow')">{{ $t('followup.tomorrowMorning') }}</button>
        </div>
        <div class="row">
          <input v-model="pickAt" type="datetime-local" :aria-label="$t('followup.pickTime')">
          <button type="button" class="button" data-snooze="pick" :disabled="busy" @click="snooze('pick')">{{ $t('followup.moveTo') }}</button>
        </div>
      </div>
      <p class="problem" role="alert">{{ problem }}</p>
    </li>`,
};
