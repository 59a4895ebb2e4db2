// A routing rule, new or changed: its name, order and scope (the store's,
// or the group's for group admins), the conditions a lead must meet (each
// a list of alternatives; none: every lead), where it goes (the store, a
// team, the claim pool) and how a consultant is chosen.
import { computed, onMounted, ref } from "vue";
import { useI18n } from "vue-i18n";
import { useRoute, useRouter } from "vue-router";
import * as api from "../api.js";
import { label } from "../i18n.js";
import AppBar from "../components/AppBar.js";
import ChipsInput from "../components/ChipsInput.js";
import { messagesAt } from "../components/customers.js";
import { actionProblem, CHANNELS, isGroupAdmin, isManager, OPEN_GRADES } from "../components/leads.js";
import { GROUP } from "./Manage.js";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const STRATEGIES = ["round_robin", "least_loaded", "weighted", "sticky"];
const TARGETS = ["store", "team", "pool"];
const LANGUAGES = ["zh", "en", "yue"];
const LISTS = ["sources", "brands", "models", "cities"];

function blank(storeCode) {
  return { name: "", priority: "100", active: true, scope: storeCode === GROUP ? GROUP : storeCode,
           channels: [], sources: [], brands: [], models: [], condition: "", cities: [], languages: [],
           grades: [], from: "", to: "", days: [], kind: "store", team_id: "", target_store: "", strategy: "round_robin" };
}

export default {
  name: "RoutingRule",
  components: { AppBar, ChipsInput },
  props: { ruleId: { type: String, default: null } },
  setup(props) {
    const { t } = useI18n();
    const route = useRoute();
    const router = useRouter();
    const storeCode = route.query.store || api.session.user?.stores?.[0]?.code || GROUP;
    const form = ref(blank(storeCode));
    const teams = ref([]);
    const errors = ref(null);
    const problem = ref("");
    const busy = ref(false);
    const loaded = ref(!props.ruleId);
    const stores = computed(() => api.session.user?.stores || []);

    onMounted(async () => {
      try {
        teams.value = (await api.teams()).items || [];
      } catch {
        teams.value = [];
      }
      if (!props.ruleId) return;
      try {
        const found = await api.routingRules(storeCode === GROUP ? undefined : storeCode);
        const rule = (Array.isArray(found) ? found : found.items || []).find((each) => each.id === props.ruleId);
        if (!rule) {
          problem.value = t("rule.notFound");
          return;
        }
        const c = rule.conditions || {};
        form.value = {
          name: rule.name, priority: String(rule.priority), active: rule.active,
          scope: rule.store_code === null ? GROUP : rule.store_code,
          channels: c.channels || [], sources: c.sources || [], brands: c.brands || [], models: c.models || [],
          condition: c.condition || "", cities: c.cities || [], languages: c.languages || [], grades: c.grades || [],
          from: c.hours?.from || "", to: c.hours?.to || "", days: c.days || [],
          kind: rule.target?.kind || "store", team_id: rule.target?.team_id || "",
          target_store: rule.target?.store_code || "", strategy: rule.strategy || "round_robin",
        };
        loaded.value = true;
      } catch (error) {
        problem.value = actionProblem(error);
      }
    });

    const scopeStore = computed(() => (form.value.scope === GROUP ? null : form.value.scope));
    const teamChoices = computed(() => teams.value.filter((team) => !scopeStore.value || team.store_code === scopeStore.value));

    function toggle(list, value) {
      const values = form.value[list];
      form.value[list] = values.includes(value) ? values.filter((each) => each !== value) : [...values, value];
    }
    /** The API's messages for a field: `errors["conditions.hours"]` or nested `errors.conditions.hours`. */
    function at(name) {
      const e = errors.value;
      if (!e) return "";
      return [...messagesAt(e, name), ...messagesAt(e, ...name.split("."))].filter((v, n, all) => all.indexOf(v) === n).join(" ");
    }

    async function save() {
      errors.value = null;
      problem.value = "";
      const f = form.value;
      const priority = Number(f.priority);
      if (!/^\d+$/.test(String(f.priority).trim())) {
        errors.value = { priority: [t("rule.priorityHint")] };
        problem.value = t("form.fix");
        return;
      }
      const conditions = {};
      for (const name of ["channels", ...LISTS, "languages", "grades", "days"]) {
        if (f[name].length) conditions[name] = f[name];
      }
      if (f.condition) conditions.condition = f.condition;
      if (f.from || f.to) conditions.hours = { from: f.from, to: f.to };
      const target = { kind: f.kind };
      if (f.kind === "team") target.team_id = f.team_id || null;
      if (f.kind === "store" && f.target_store) target.store_code = f.target_store;
      const body = { store_code: scopeStore.value, priority, name: f.name.trim(), active: f.active,
                     conditions, target, strategy: f.strategy };
      busy.value = true;
      try {
        await api.saveRoutingRule(props.ruleId, body);
        router.push({ name: "manage", query: { store: storeCode } });
      } catch (error) {
        errors.value = error.errors;
        problem.value = actionProblem(error);
      } finally {
        busy.value = false;
      }
    }

    return { form, teams, teamChoices, stores, errors, problem, busy, loaded, at, toggle, save, label,
             DAYS, STRATEGIES, TARGETS, LANGUAGES, CHANNELS, OPEN_GRADES, GROUP, storeCode,
             groupAdmin: computed(isGroupAdmin), manager: computed(isManager),
             title: computed(() => (props.ruleId ? t("rule.editTitle") : t("rule.newTitle"))) };
  },
  template: `
    <AppBar :title="title" :back="{ name: 'manage', query: { store: storeCode } }" />
    <main class="page page--form" id="main">
      <p v-if="!manager" class="note">{{ $t('manage.managersOnly') }}</p>
      <form v-else-if="loaded" class="form" novalidate @submit.prevent="save">
        <div class="field">
          <label for="rule-name">{{ $t('rule.name') }}</label>
          <input id="rule-name" v-model="form.name" maxlength="100" required :aria-invalid="at('name') ? 'true' : null">
          <span class="field__error">{{ at('name') }}</span>
        </div>
        <div class="pair">
          <div class="field">
            <label for="rule-priority">{{ $t('rule.priority') }}</label>
            <input id="rule-priority" v-model="form.priority" inputmode="numeric" :aria-invalid="at('priority') ? 'true' : null"
                   aria-describedby="rule-priority-hint">
            <span id="rule-priority-hint" class="muted">{{ $t('rule.priorityHint') }}</span>
            <span class="field__error">{{ at('priority') }}</span>
          </div>
          <div class="field">
            <label for="rule-scope">{{ $t('rule.scope') }}</label>
            <select id="rule-scope" v-model="form.scope">
              <option v-for="s in stores" :key="s.code" :value="s.code">{{ s.name }}</option>
              <option v-if="groupAdmin || form.scope === GROUP" :value="GROUP" :disabled="!groupAdmin">{{ $t('rule.groupRule') }}</option>
            </select>
            <span class="field__error">{{ at('store_code') }}</span>
          </div>
        </div>
        <label class="check"><input type="checkbox" v-model="form.active"> {{ $t('rule.active') }}</label>

        <fieldset class="field">
          <legend>{{ $t('rule.conditions') }}</legend>
          <p class="muted">{{ $t('rule.conditionsHint') }}</p>
          <div class="field">
            <span class="field__name" id="rule-channels">{{ $t('rule.c.channels') }}</span>
            <ul class="chips" role="group" aria-labelledby="rule-channels">
              <li v-for="value in CHANNELS" :key="value"><button type="button" class="chip-button" :data-channel="value"
                  :aria-pressed="form.channels.includes(value) ? 'true' : 'false'" @click="toggle('channels', value)">{{ label('channel', value) }}</button></li>
            </ul>
            <span class="field__error">{{ at('conditions.channels') }}</span>
          </div>
          <ChipsInput id="rule-sources" v-model="form.sources" :label="$t('rule.c.sources')" :placeholder="$t('rule.wildcardHint')" />
          <span class="field__error">{{ at('conditions.sources') }}</span>
          <ChipsInput id="rule-brands" v-model="form.brands" :label="$t('rule.c.brands')" :placeholder="$t('form.chipsHint')" />
          <ChipsInput id="rule-models" v-model="form.models" :label="$t('rule.c.models')" :placeholder="$t('rule.wildcardHint')" />
          <span class="field__error">{{ at('conditions.models') }}</span>
          <div class="field">
            <label for="rule-condition">{{ $t('rule.c.condition') }}</label>
            <select id="rule-condition" v-model="form.condition">
              <option value="">{{ $t('rule.any') }}</option>
              <option value="new">{{ label('vehicleCondition', 'new') }}</option>
              <option value="used">{{ label('vehicleCondition', 'used') }}</option>
            </select>
          </div>
          <ChipsInput id="rule-cities" v-model="form.cities" :label="$t('rule.c.cities')" :placeholder="$t('rule.wildcardHint')" />
          <div class="field">
            <span class="field__name" id="rule-languages">{{ $t('rule.c.languages') }}</span>
            <ul class="chips" role="group" aria-labelledby="rule-languages">
              <li v-for="value in LANGUAGES" :key="value"><button type="button" class="chip-button"
                  :aria-pressed="form.languages.includes(value) ? 'true' : 'false'" @click="toggle('languages', value)">{{ label('language', value) }}</button></li>
            </ul>
          </div>
          <div class="field">
            <span class="field__name" id="rule-grades">{{ $t('rule.c.grades') }}</span>
            <ul class="chips" role="group" aria-labelledby="rule-grades">
              <li v-for="value in OPEN_GRADES" :key="value"><button type="button" class="chip-button"
                  :aria-pressed="form.grades.includes(value) ? 'true' : 'false'" @click="toggle('grades', value)">{{ label('gradeChip', value) }}</button></li>
            </ul>
          </div>
          <div class="pair">
            <div class="field">
              <label for="rule-from">{{ $t('rule.from') }}</label>
              <input id="rule-from" v-model="form.from" type="time" :aria-invalid="at('conditions.hours') ? 'true' : null">
            </div>
            <div class="field">
              <label for="rule-to">{{ $t('rule.to') }}</label>
              <input id="rule-to" v-model="form.to" type="time">
            </div>
          </div>
          <span class="field__error">{{ at('conditions.hours') }} {{ at('conditions.hours.from') }} {{ at('conditions.hours.to') }}</span>
          <div class="field">
            <span class="field__name" id="rule-days">{{ $t('rule.c.days') }}</span>
            <ul class="chips" role="group" aria-labelledby="rule-days">
              <li v-for="value in DAYS" :key="value"><button type="button" class="chip-button"
                  :aria-pressed="form.days.includes(value) ? 'true' : 'false'" @click="toggle('days', value)">{{ label('day', value) }}</button></li>
            </ul>
          </div>
        </fieldset>

        <fieldset class="field">
          <legend>{{ $t('rule.target') }}</legend>
          <div class="pair">
            <div class="field">
              <label for="rule-kind">{{ $t('rule.sendTo') }}</label>
              <select id="rule-kind" v-model="form.kind">
                <option v-for="kind in TARGETS" :key="kind" :value="kind">{{ label('targetKind', kind) }}</option>
              </select>
            </div>
            <div v-if="form.kind === 'team'" class="field">
              <label for="rule-team">{{ $t('rule.team') }}</label>
              <select id="rule-team" v-model="form.team_id">
                <option v-for="team in teamChoices" :key="team.id" :value="team.id">{{ team.name }}</option>
              </select>
            </div>
            <div v-if="form.kind !== 'pool'" class="field">
              <label for="rule-strategy">{{ $t('rule.strategy') }}</label>
              <select id="rule-strategy" v-model="form.strategy">
                <option v-for="s in STRATEGIES" :key="s" :value="s">{{ label('strategy', s) }}</option>
              </select>
            </div>
          </div>
          <span class="field__error">{{ at('target') }} {{ at('target.kind') }} {{ at('target.team_id') }} {{ at('strategy') }}</span>
        </fieldset>
        <p class="problem" role="alert">{{ problem }}</p>
        <div class="actions actions--end">
          <router-link :to="{ name: 'manage', query: { store: storeCode } }" class="button">{{ $t('form.cancel') }}</router-link>
          <button type="submit" class="button button--primary" :disabled="busy">{{ busy ? $t('form.saving') : $t('form.save') }}</button>
        </div>
      </form>
      <p v-else class="problem" role="alert">{{ problem }}</p>
    </main>`,
};
