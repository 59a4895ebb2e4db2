// A store's follow-up cadence (managers; the group's default for group
// admins): every how many days each grade is followed up, the time of
// day, business days only, and the reminder and escalation times. Saved
// with PUT; the plan's other entries (kinds, stages) are kept as they are.
// A 422 names its field ("plan.grades.H.every_days"): shown there.
import { computed, ref, watch } from "vue";
import { useI18n } from "vue-i18n";
import * as api from "../api.js";
import { label } from "../i18n.js";
import { messagesAt } from "./customers.js";
import { actionProblem } from "./leads.js";

export const CADENCE_GRADES = ["H", "A", "B", "C", "N"];

/** A number typed by a person, else what was typed (the API names the field). */
function number(text) {
  const value = String(text ?? "").trim();
  return /^\d+$/.test(value) ? Number(value) : value;
}

export default {
  name: "CadenceForm",
  props: {
    storeCode: { type: String, required: true },
  },
  setup(props) {
    const { t } = useI18n();
    const current = ref(null);
    const days = ref({});
    const form = ref({});
    const busy = ref(false);
    const done = ref("");
    const problem = ref("");
    const errors = ref(null);

    function show(found) {
      current.value = found;
      const grades = found.plan?.grades || {};
      days.value = Object.fromEntries(CADENCE_GRADES.map((grade) => [grade, String(grades[grade]?.every_days ?? "")]));
      form.value = { at: found.plan?.at || "", businessDays: found.plan?.business_days !== false,
                     remind: String(found.remind_minutes ?? ""), escalate: String(found.escalate_minutes ?? "") };
    }
    async function load() {
      current.value = null;
      problem.value = done.value = "";
      errors.value = null;
      try {
        show(await api.cadence(props.storeCode));
      } catch (error) {
        problem.value = actionProblem(error);
      }
    }
    watch(() => props.storeCode, load, { immediate: true });

    async function save() {
      problem.value = done.value = "";
      errors.value = null;
      const plan = { ...(current.value.plan || {}) };
      const grades = { ...(plan.grades || {}) };
      for (const grade of CADENCE_GRADES) {
        const typed = String(days.value[grade] ?? "").trim();
        if (typed) grades[grade] = { ...(grades[grade] || {}), every_days: number(typed) };
      }
      plan.grades = grades;
      if (form.value.at) plan.at = form.value.at;
      plan.business_days = Boolean(form.value.businessDays);
      const body = { plan };
      if (String(form.value.remind).trim()) body.remind_minutes = number(form.value.remind);
      if (String(form.value.escalate).trim()) body.escalate_minutes = number(form.value.escalate);
      busy.value = true;
      try {
        show(await api.saveCadence(props.storeCode, body));
        done.value = t("cadence.saved");
      } catch (error) {
        if (error.status === 422 && error.errors) {
          errors.value = error.errors;
          problem.value = t("cadence.invalid");
        } else {
          problem.value = actionProblem(error);
        }
      } finally {
        busy.value = false;
      }
    }
    const errorAt = (name) => messagesAt(errors.value, name).join(" ");

    return { current, days, form, busy, done, problem, save, errorAt, label, CADENCE_GRADES,
             inherited: computed(() => current.value?.inherited) };
  },
  template: `
    <section class="panel panel--wide cadence" :aria-label="$t('cadence.title')">
      <h2 class="panel__title">{{ $t('cadence.title') }}</h2>
      <p class="muted">{{ $t('cadence.hint') }}</p>
      <p v-if="inherited" class="hint">{{ $t('cadence.inherited') }}</p>
      <form v-if="current" class="form" novalidate @submit.prevent="save">
        <fieldset class="field">
          <legend>{{ $t('cadence.everyDays') }}</legend>
          <div class="minutes">
            <div v-for="grade in CADENCE_GRADES" :key="grade" class="field">
              <label :for="'cadence-' + grade">{{ label('gradeChip', grade) }}</label>
              <input :id="'cadence-' + grade" v-model="days[grade]" inputmode="numeric" :placeholder="$t('policy.default')"
                     :aria-invalid="errorAt('plan.grades.' + grade + '.every_days') ? 'true' : 'false'"
                     :aria-describedby="'cadence-' + grade + '-error'">
              <span :id="'cadence-' + grade + '-error'" class="field__error">{{ errorAt('plan.grades.' + grade + '.every_days') }}</span>
            </div>
          </div>
        </fieldset>
        <div class="pair">
          <div class="field">
            <label for="cadence-at">{{ $t('cadence.at') }}</label>
            <input id="cadence-at" v-model="form.at" type="time" :aria-invalid="errorAt('plan.at') ? 'true' : 'false'" aria-describedby="cadence-at-error">
            <span id="cadence-at-error" class="field__error">{{ errorAt('plan.at') }}</span>
          </div>
          <label class="check"><input type="checkbox" v-model="form.businessDays"> {{ $t('cadence.businessDays') }}</label>
          <div class="field">
            <label for="cadence-remind">{{ $t('cadence.remind') }}</label>
            <input id="cadence-remind" v-model="form.remind" inputmode="numeric" :aria-invalid="errorAt('remind_minutes') ? 'true' : 'false'" aria-describedby="cadence-remind-error">
            <span id="cadence-remind-error" class="field__error">{{ errorAt('remind_minutes') }}</span>
          </div>
          <div class="field">
            <label for="cadence-escalate">{{ $t('cadence.escalate') }}</label>
            <input id="cadence-escalate" v-model="form.escalate" inputmode="numeric" :aria-invalid="errorAt('escalate_minutes') ? 'true' : 'false'" aria-describedby="cadence-escalate-error">
            <span id="cadence-escalate-error" class="field__error">{{ errorAt('escalate_minutes') }}</span>
          </div>
        </div>
        <p class="muted">{{ $t('cadence.minutesHint') }}</p>
        <button type="submit" class="button button--primary" :disabled="busy">{{ $t('cadence.save') }}</button>
      </form>
      <p class="notice" role="status">{{ done }}</p>
      <p class="problem" role="alert">{{ problem }}</p>
    </section>`,
};
