// Managing a store's leads (managers; group admins for every store and the
// group's defaults): the losses waiting for approval, handing over every
// open lead of a consultant, the routing rules in the order they are tried
// (to edit: pages/RoutingRule.js), the response SLA and lead policy, the
// follow-up cadence (components/CadenceForm.js), the ways to the store's
// script library (pages/ScriptLibrary.js) and notification channels
// (pages/Channels.js), the analytics dashboard (pages/Analytics.js), and
// rebuilding the scoring model.
import { computed, ref, watch } from "vue";
import { useI18n } from "vue-i18n";
import { useRoute, useRouter } from "vue-router";
import * as api from "../api.js";
import { label } from "../i18n.js";
import { dateTime } from "../format.js";
import AppBar from "../components/AppBar.js";
import CadenceForm from "../components/CadenceForm.js";
import { colleagues } from "../components/LeadAssign.js";
import { actionProblem, CHANNELS, isGroupAdmin, isManager, OPEN_GRADES } from "../components/leads.js";

export const GROUP = "*";  // the group's rules and default policy

/** A rule's conditions in a few words, for its row. */
export function conditionSummary(t, conditions = {}) {
  const parts = [];
  const list = (name, values, group) => {
    if (values?.length) parts.push(`${t("rule.c." + name)}: ${values.map((v) => (group ? label(group, v) : v)).join(", ")}`);
  };
  list("channels", conditions.channels, "channel");
  list("sources", conditions.sources);
  list("brands", conditions.brands);
  list("models", conditions.models);
  if (conditions.condition) parts.push(label("vehicleCondition", conditions.condition));
  list("cities", conditions.cities);
  list("languages", conditions.languages);
  list("grades", conditions.grades);
  if (conditions.hours) parts.push(`${conditions.hours.from}–${conditions.hours.to}`);
  list("days", conditions.days, "day");
  return parts.join(" · ") || t("rule.always");
}

export default {
  name: "Manage",
  components: { AppBar, CadenceForm },
  setup() {
    const { t } = useI18n();
    const route = useRoute();
    const router = useRouter();
    const stores = computed(() => api.session.user?.stores || []);
    const storeCode = computed(() => route.query.store
      || (stores.value.length ? stores.value[0].code : GROUP));
    const group = computed(() => storeCode.value === GROUP);

    const people = ref([]);
    const rules = ref([]);
    const policy = ref(null);
    const minutes = ref({});        // "H" / "walk_in" / "H:website" -> minutes (text)
    const overrides = ref([]);      // [{grade, channel, minutes}]
    const loadProblem = ref("");

    async function load() {
      loadProblem.value = "";
      rules.value = [];
      policy.value = null;
      try {
        const [found, rulePage, policyNow] = await Promise.all([
          group.value ? Promise.resolve([]) : colleagues(storeCode.value),
          api.routingRules(group.value ? undefined : storeCode.value),
          api.leadPolicy(storeCode.value),
        ]);
        people.value = found;
        rules.value = (Array.isArray(rulePage) ? rulePage : rulePage.items || [])
          .filter((rule) => (group.value ? rule.store_code === null : true));
        showPolicy(policyNow);
      } catch (error) {
        loadProblem.value = actionProblem(error);
      }
    }
    function showPolicy(found) {
      policy.value = { ...found };
      const simple = {};
      const combined = [];
      for (const [key, value] of Object.entries(found.response_minutes || {})) {
        if (key.includes(":")) {
          const [grade, channel] = key.split(":");
          combined.push({ grade, channel, minutes: String(value) });
        } else {
          simple[key] = String(value);
        }
      }
      minutes.value = simple;
      overrides.value = combined;
    }
    watch(storeCode, load, { immediate: true });
    const chooseStore = (code) => router.replace({ query: { store: code } });

    // -- hand over every open lead of a consultant ---------------------------
    const consultants = computed(() => people.value.filter((user) => user.role === "consultant"));
    const from = ref("");
    const to = ref("");
    const handReason = ref("");
    const handBusy = ref(false);
    const handDone = ref("");
    const handProblem = ref("");
    const refused = ref([]);
    async function handOver() {
      handDone.value = handProblem.value = "";
      refused.value = [];
      if (!from.value) {
        handProblem.value = t("handover.pickFrom");
        return;
      }
      if (from.value === to.value) {
        handProblem.value = t("handover.same");
        return;
      }
      handBusy.value = true;
      try {
        const result = await api.reassignLeads({ from_consultant_id: from.value, consultant_id: to.value || null,
                                                 reason: handReason.value.trim() || undefined });
        handDone.value = t("handover.done", { moved: result.moved.length, refused: Object.keys(result.refused).length });
        refused.value = Object.entries(result.refused);
      } catch (error) {
        handProblem.value = actionProblem(error);
      } finally {
        handBusy.value = false;
      }
    }

    // -- routing rules ---------------------------------------------------------
    const ruleProblem = ref("");
    const deleting = ref(null);
    const mayEdit = (rule) => (rule.store_code === null ? isGroupAdmin() : isManager());
    async function remove(rule) {
      ruleProblem.value = "";
      try {
        await api.deleteRoutingRule(rule.id);
        rules.value = rules.value.filter((each) => each.id !== rule.id);
        deleting.value = null;
      } catch (error) {
        ruleProblem.value = actionProblem(error);
      }
    }
    const targetText = (rule) => {
      const target = rule.target || {};
      if (target.kind === "pool") return t("rule.toPool");
      if (target.kind === "team") return t("rule.toTeam");
      return t("rule.toStore", { store: target.store_code || rule.store_code || t("rule.leadsStore") });
    };

    // -- the SLA and the policy --------------------------------------------------
    const policyBusy = ref(false);
    const policyDone = ref("");
    const policyProblem = ref("");
    function addOverride() {
      overrides.value = [...overrides.value, { grade: "H", channel: "website", minutes: "" }];
    }
    function removeOverride(n) {
      overrides.value = overrides.value.filter((_, index) => index !== n);
    }
    async function savePolicy() {
      policyDone.value = policyProblem.value = "";
      const response = {};
      const whole = (text) => /^\d+$/.test(String(text).trim()) ? Number(text) : NaN;
      for (const [key, value] of Object.entries(minutes.value)) {
        if (String(value).trim() === "") continue;
        response[key] = whole(value);
      }
      for (const row of overrides.value) {
        if (String(row.minutes).trim() !== "") response[`${row.grade}:${row.channel}`] = whole(row.minutes);
      }
      const p = policy.value;
      const numbers = { max_reroutes: whole(p.max_reroutes), duplicate_window_days: whole(p.duplicate_window_days),
                        daily_claim_limit: whole(p.daily_claim_limit) };
      if ([...Object.values(response), ...Object.values(numbers)].some(Number.isNaN)) {
        policyProblem.value = t("policy.wholeNumbers");
        return;
      }
      policyBusy.value = true;
      try {
        showPolicy(await api.saveLeadPolicy(storeCode.value, {
          response_minutes: response, ...numbers, loss_needs_approval: Boolean(p.loss_needs_approval),
        }));
        policyDone.value = t("policy.saved");
      } catch (error) {
        policyProblem.value = actionProblem(error);
      } finally {
        policyBusy.value = false;
      }
    }

    // -- the scoring model --------------------------------------------------------
    const scoring = ref(null);
    const scoringBusy = ref(false);
    const scoringProblem = ref("");
    async function rebuild() {
      scoringBusy.value = true;
      scoringProblem.value = "";
      try {
        scoring.value = await api.rebuildScoringModel();
      } catch (error) {
        scoringProblem.value = actionProblem(error);
      } finally {
        scoringBusy.value = false;
      }
    }

    return { stores, storeCode, group, chooseStore, loadProblem, manager: computed(isManager),
             groupAdmin: computed(isGroupAdmin), GROUP, OPEN_GRADES, CHANNELS, label,
             people, consultants, from, to, handReason, handBusy, handDone, handProblem, refused, handOver,
             rules, mayEdit, deleting, remove, ruleProblem, targetText,
             summary: (rule) => conditionSummary(t, rule.conditions),
             policy, minutes, overrides, addOverride, removeOverride, savePolicy, policyBusy, policyDone, policyProblem,
             scoring, scoringBusy, scoringProblem, rebuild, when: (iso) => dateTime(iso) };
  },
  template: `
    <AppBar :title="$t('manage.title')" />
    <main class="page" id="main">
      <p v-if="!manager" class="note">{{ $t('manage.managersOnly') }}</p>
      <template v-else>
        <div class="field field--store">
          <label for="manage-store">{{ $t('manage.store') }}</label>
          <select id="manage-store" :value="storeCode" @change="chooseStore($event.target.value)">
            <option v-for="s in stores" :key="s.code" :value="s.code">{{ s.name }}</option>
            <option v-if="groupAdmin" :value="GROUP">{{ $t('manage.group') }}</option>
          </select>
        </div>
        <p class="problem" role="alert">{{ loadProblem }}</p>
        <div class="sections">
          <section class="panel">
            <h2 class="panel__title">{{ $t('manage.approvals') }}</h2>
            <p class="muted">{{ $t('manage.approvalsHint') }}</p>
            <router-link :to="{ name: 'leads', query: { view: 'approvals' } }" class="button">{{ $t('manage.openApprovals') }}</router-link>
          </section>

          <section v-if="!group" class="panel">
            <h2 class="panel__title">{{ $t('handover.title') }}</h2>
            <p class="muted">{{ $t('handover.hint') }}</p>
            <form class="form" @submit.prevent="handOver">
              <div class="field">
                <label for="handover-from">{{ $t('handover.from') }}</label>
                <select id="handover-from" v-model="from">
                  <option value="">{{ $t('handover.choose') }}</option>
                  <option v-for="user in consultants" :key="user.id" :value="user.id">{{ user.display_name }}</option>
                </select>
              </div>
              <div class="field">
                <label for="handover-to">{{ $t('handover.to') }}</label>
                <select id="handover-to" v-model="to">
                  <option value="">{{ $t('assign.routeAgain') }}</option>
                  <option v-for="user in people" :key="user.id" :value="user.id" :disabled="user.id === from">{{ user.display_name }} ({{ label('role', user.role) }})</option>
                </select>
              </div>
              <div class="field">
                <label for="handover-reason">{{ $t('assign.reason') }}</label>
                <input id="handover-reason" v-model="handReason" maxlength="500" autocomplete="off" :placeholder="$t('handover.reasonHint')">
              </div>
              <button type="submit" class="button button--primary" :disabled="handBusy">{{ $t('handover.submit') }}</button>
            </form>
            <p class="notice" role="status">{{ handDone }}</p>
            <ul v-if="refused.length" class="plain muted">
              <li v-for="[id, why] in refused" :key="id"><router-link :to="{ name: 'lead', params: { id } }">{{ $t('handover.refusedLead') }}</router-link> {{ why }}</li>
            </ul>
            <p class="problem" role="alert">{{ handProblem }}</p>
          </section>

          <section class="panel panel--wide">
            <h2 class="panel__title">{{ $t('rule.title') }}</h2>
            <p class="muted">{{ $t('rule.order') }}</p>
            <ol v-if="rules.length" class="rules">
              <li v-for="rule in rules" :key="rule.id" :class="['rule', { 'rule--off': !rule.active }]">
                <span class="rule__head"><strong>{{ rule.name }}</strong>
                  <span class="tag">{{ rule.store_code === null ? $t('rule.groupRule') : $t('rule.storeRule') }}</span>
                  <span class="tag">{{ $t('rule.priorityN', { n: rule.priority }) }}</span>
                  <span v-if="!rule.active" class="tag">{{ $t('rule.off') }}</span></span>
                <span>{{ summary(rule) }}</span>
                <span class="muted">{{ targetText(rule) }} · {{ label('strategy', rule.strategy) }}</span>
                <span v-if="mayEdit(rule)" class="actions">
                  <router-link :to="{ name: 'rule', params: { ruleId: rule.id }, query: { store: storeCode } }" class="button"
                               :aria-label="$t('rule.editNamed', { name: rule.name })">{{ $t('rule.edit') }}</router-link>
                  <button v-if="deleting !== rule.id" type="button" class="button button--danger"
                          :aria-label="$t('rule.deleteNamed', { name: rule.name })" @click="deleting = rule.id">{{ $t('rule.delete') }}</button>
                  <button v-else type="button" class="button button--danger-solid" @click="remove(rule)">{{ $t('rule.deleteSure') }}</button>
                </span>
              </li>
            </ol>
            <p v-else class="muted">{{ $t('rule.none') }}</p>
            <p class="problem" role="alert">{{ ruleProblem }}</p>
            <router-link :to="{ name: 'ruleNew', query: { store: storeCode } }" class="button button--primary">{{ $t('rule.new') }}</router-link>
          </section>

          <section v-if="policy" class="panel panel--wide">
            <h2 class="panel__title">{{ $t('policy.title') }}</h2>
            <p v-if="policy.inherited" class="hint">{{ $t('policy.inherited') }}</p>
            <form class="form" @submit.prevent="savePolicy">
              <fieldset class="field">
                <legend>{{ $t('policy.byGrade') }}</legend>
                <div class="minutes">
                  <div v-for="grade in OPEN_GRADES" :key="grade" class="field">
                    <label :for="'minutes-' + grade">{{ label('gradeChip', grade) }}</label>
                    <input :id="'minutes-' + grade" v-model="minutes[grade]" inputmode="numeric" :placeholder="$t('policy.default')">
                  </div>
                </div>
              </fieldset>
              <fieldset class="field">
                <legend>{{ $t('policy.byChannel') }}</legend>
                <div class="minutes">
                  <div v-for="channel in CHANNELS" :key="channel" class="field">
                    <label :for="'minutes-' + channel">{{ label('channel', channel) }}</label>
                    <input :id="'minutes-' + channel" v-model="minutes[channel]" inputmode="numeric" :placeholder="$t('policy.default')">
                  </div>
                </div>
              </fieldset>
              <fieldset class="field">
                <legend>{{ $t('policy.byBoth') }}</legend>
                <div v-for="(row, n) in overrides" :key="n" class="row override">
                  <select v-model="row.grade" :aria-label="$t('policy.grade')">
                    <option v-for="grade in OPEN_GRADES" :key="grade" :value="grade">{{ label('gradeChip', grade) }}</option>
                  </select>
                  <select v-model="row.channel" :aria-label="$t('policy.channel')">
                    <option v-for="channel in CHANNELS" :key="channel" :value="channel">{{ label('channel', channel) }}</option>
                  </select>
                  <input v-model="row.minutes" inputmode="numeric" :aria-label="$t('policy.minutes')">
                  <button type="button" class="button" :aria-label="$t('policy.removeRow')" @click="removeOverride(n)">×</button>
                </div>
                <button type="button" class="button button--quiet" @click="addOverride">{{ $t('policy.addRow') }}</button>
              </fieldset>
              <p class="muted">{{ $t('policy.minutesHint') }}</p>
              <div class="pair">
                <div class="field">
                  <label for="policy-reroutes">{{ $t('policy.maxReroutes') }}</label>
                  <input id="policy-reroutes" v-model="policy.max_reroutes" inputmode="numeric">
                </div>
                <div class="field">
                  <label for="policy-claims">{{ $t('policy.claimLimit') }}</label>
                  <input id="policy-claims" v-model="policy.daily_claim_limit" inputmode="numeric">
                </div>
                <div class="field">
                  <label for="policy-window">{{ $t('policy.duplicateDays') }}</label>
                  <input id="policy-window" v-model="policy.duplicate_window_days" inputmode="numeric">
                </div>
              </div>
              <label class="check"><input type="checkbox" v-model="policy.loss_needs_approval"> {{ $t('policy.lossApproval') }}</label>
              <button type="submit" class="button button--primary" :disabled="policyBusy">{{ $t('policy.save') }}</button>
            </form>
            <p class="notice" role="status">{{ policyDone }}</p>
            <p class="problem" role="alert">{{ policyProblem }}</p>
          </section>

          <CadenceForm :store-code="storeCode" />

          <section v-if="!group" class="panel">
            <h2 class="panel__title">{{ $t('library.title') }}</h2>
            <p class="muted">{{ $t('library.manageHint') }}</p>
            <router-link :to="{ name: 'scripts', query: { store: storeCode } }" class="button">{{ $t('library.open') }}</router-link>
          </section>

          <section v-if="!group" class="panel">
            <h2 class="panel__title">{{ $t('channels.title') }}</h2>
            <p class="muted">{{ $t('channels.manageHint') }}</p>
            <router-link :to="{ name: 'channels', query: { store: storeCode } }" class="button">{{ $t('channels.open') }}</router-link>
          </section>

          <section class="panel">
            <h2 class="panel__title">{{ $t('analytics.title') }}</h2>
            <p class="muted">{{ $t('analytics.manageHint') }}</p>
            <router-link :to="{ name: 'analytics', query: group ? {} : { store_code: storeCode } }" class="button" data-analytics-link>{{ $t('analytics.open') }}</router-link>
          </section>

          <section class="panel">
            <h2 class="panel__title">{{ $t('scoring.title') }}</h2>
            <p class="muted">{{ $t('scoring.hint') }}</p>
            <button type="button" class="button" :disabled="scoringBusy" @click="rebuild">{{ scoringBusy ? $t('scoring.building') : $t('scoring.rebuild') }}</button>
            <p class="notice" role="status"><template v-if="scoring">{{ $t(scoring.used ? 'scoring.used' : 'scoring.notUsed',
              { won: scoring.won, lost: scoring.lost, min: scoring.min_history }) }}</template></p>
            <p class="problem" role="alert">{{ scoringProblem }}</p>
          </section>
        </div>
      </template>
    </main>`,
};
