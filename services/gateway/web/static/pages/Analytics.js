// The manager's dashboard (分析 / Analytics): the funnel and the dealer
// rates, what each source brings and costs, what people ask for, the
// consultants' figures and how fast the store answers (GET /v1/analytics/...,
// docs/analytics.md). Filters (range, store, team, consultant, channel,
// source) live in the URL. Each panel is a chart and a table of the same
// numbers; every count of leads is a link (and each bar a click) to the
// leads behind it (pages/AnalyticsLeads.js). Each table exports as CSV or
// .xlsx. Managers and group admins only.
import { computed, reactive, ref, watch } from "vue";
import { useI18n } from "vue-i18n";
import { useRoute, useRouter } from "vue-router";
import * as api from "../api.js";
import { label } from "../i18n.js";
import AppBar from "../components/AppBar.js";
import Chart from "../components/Chart.js";
import ExportButtons from "../components/ExportButtons.js";
import ReportPanel from "../components/ReportPanel.js";
import SourceCostForm from "../components/SourceCostForm.js";
import { colleagues } from "../components/LeadAssign.js";
import { CHANNELS, isManager } from "../components/leads.js";
import {
  analyticsProblem, bucketText, COUNTS, dashboardFilters, dayText, DEMAND_BY, demandDrill, demandKeyText,
  drillRoute, hoursText, lastDays, minutesText, percent, periodScope, RANGES, RATES, stageText, yuan,
} from "../components/analytics.js";
import {
  consultantsOption, demandOption, funnelOption, responseOption, sourcesOption,
} from "../components/analyticsCharts.js";

const REPORTS = { funnel: "funnel", sources: "sources", demand: "demand", consultants: "consultants",
                  responses: "response-times" };

export default {
  name: "Analytics",
  components: { AppBar, Chart, ExportButtons, ReportPanel, SourceCostForm },
  setup() {
    const { t } = useI18n();
    const route = useRoute();
    const router = useRouter();
    const manager = computed(isManager);
    const stores = computed(() => api.session.user?.stores || []);
    const filters = computed(() => dashboardFilters(route.query));
    const by = computed(() => (DEMAND_BY.includes(route.query.by) ? route.query.by : "model"));
    const zoneStore = computed(() => filters.value.store_code || stores.value[0]?.code);

    function setQuery(change) {
      const query = { ...route.query, ...change };
      for (const [name, value] of Object.entries(query)) if (value === undefined || value === null || value === "") delete query[name];
      router.replace({ query });
    }

    // -- the reports ------------------------------------------------------------
    const reports = reactive(Object.fromEntries(Object.keys(REPORTS).map((name) => [name, { data: null, loading: false, problem: "" }])));
    const turns = {};
    async function read(name) {
      const turn = (turns[name] = (turns[name] || 0) + 1);
      const state = reports[name];
      state.loading = true;
      state.problem = "";
      try {
        const query = name === "demand" ? { ...filters.value, by: by.value } : filters.value;
        const data = await api.analytics(REPORTS[name], query);
        if (turns[name] === turn) state.data = data;
      } catch (error) {
        if (turns[name] !== turn) return;
        state.data = null;
        state.problem = analyticsProblem(error);
      } finally {
        if (turns[name] === turn) state.loading = false;
      }
    }
    function readAll() {
      if (!manager.value) return;
      for (const name of Object.keys(REPORTS)) read(name);
    }
    watch(() => JSON.stringify(filters.value), readAll, { immediate: true });
    watch(by, () => manager.value && read("demand"));

    const funnel = computed(() => reports.funnel.data);
    const scope = computed(() => funnel.value?.scope || reports.sources.data?.scope || null);
    const empty = computed(() => funnel.value?.counts?.leads === 0);
    const scopeText = computed(() => (scope.value ? t("analytics.scope", {
      from: dayText(scope.value.from), to: dayText(scope.value.to), zone: scope.value.timezone,
    }) : ""));

    // -- the range -------------------------------------------------------------
    const from = ref(filters.value.from || "");
    const to = ref(filters.value.to || "");
    const dateProblem = ref("");
    watch(() => [filters.value.from, filters.value.to, scope.value?.from, scope.value?.to], () => {
      from.value = filters.value.from || scope.value?.from || "";
      to.value = filters.value.to || scope.value?.to || "";
    });
    function applyDates() {
      dateProblem.value = "";
      if (!from.value || !to.value) return;
      if (from.value > to.value) {
        dateProblem.value = t("analytics.filter.fromAfterTo");
        return;
      }
      setQuery({ from: from.value, to: to.value });
    }
    const shownRange = computed(() => ({ from: filters.value.from || scope.value?.from, to: filters.value.to || scope.value?.to }));
    function rangeOn(days) {
      const range = lastDays(days, zoneStore.value);
      return shownRange.value.from === range.from && shownRange.value.to === range.to;
    }
    const chooseRange = (days) => setQuery(lastDays(days, zoneStore.value));

    // -- who: store, team, consultant, channel, source ---------------------------
    const teams = ref([]);
    const people = ref([]);
    const peopleStore = computed(() => filters.value.store_code || (stores.value.length === 1 ? stores.value[0].code : ""));
    watch(manager, async (yes) => {
      if (!yes) return;
      try {
        teams.value = (await api.teams()).items || [];
      } catch {
        teams.value = [];  // no teams to offer: the filter is left out
      }
    }, { immediate: true });
    watch(peopleStore, async (code) => {
      people.value = [];
      if (!code || !manager.value) return;
      try {
        people.value = await colleagues(code);
      } catch {
        people.value = [];
      }
    }, { immediate: true });
    const storeTeams = computed(() => teams.value.filter((team) => !filters.value.store_code || team.store_code === filters.value.store_code));
    const chooseStore = (code) => setQuery({ store_code: code, team_id: undefined, consultant_id: undefined });
    const sourceText = ref(filters.value.source || "");
    watch(() => filters.value.source, (value) => { sourceText.value = value || ""; });
    const knownSources = computed(() => [...new Set((reports.sources.data?.rows || []).map((row) => row.source))].sort());
    const narrowed = computed(() => ["store_code", "team_id", "consultant_id", "channel", "source", "brand", "model"]
      .some((name) => filters.value[name]));
    const clearFilters = () => setQuery({ store_code: undefined, team_id: undefined, consultant_id: undefined,
                                           channel: undefined, source: undefined, brand: undefined, model: undefined });

    // -- drill-down ---------------------------------------------------------------
    const drill = (name, extra = {}) => drillRoute(reports[name].data?.scope, filters.value, extra, route.fullPath);
    const go = (target) => target && router.push(target);
    const funnelCountRoute = (metric) => drill("funnel", metric === "leads" ? {} : { metric });

    // -- the funnel -----------------------------------------------------------------
    const funnelChart = computed(() => (funnel.value ? funnelOption(funnel.value) : null));
    const pickStage = (event) => {
      const stage = funnel.value?.stages?.[event.dataIndex];
      if (stage) go(drill("funnel", { metric: `reached_${stage.stage}` }));
    };

    // -- sources ----------------------------------------------------------------------
    const sourceRows = computed(() => reports.sources.data?.rows || []);
    const sourcesChart = computed(() => (sourceRows.value.length ? sourcesOption(sourceRows.value) : null));
    const sourceDrill = (row, metric) => drill("sources", { source: row.source, channel: row.channel, metric });
    const pickSource = (event) => {
      const row = sourceRows.value[event.dataIndex];
      if (row) go(sourceDrill(row, event.seriesIndex === 1 ? "won" : undefined));
    };
    const costFor = ref(null);  // the source whose cost is being entered
    const costNotice = ref("");
    const costStores = computed(() => stores.value.map((s) => ({ code: s.code, name: s.name })));
    const costMonth = computed(() => (scope.value?.to || new Date().toISOString()).slice(0, 7));
    function costSaved(answer) {
      costNotice.value = answer?.amount === null || answer === null
        ? t("analytics.cost.removed", { source: costFor.value }) : t("analytics.cost.saved", { source: costFor.value });
      costFor.value = null;
      read("sources");
    }

    // -- demand -------------------------------------------------------------------
    const demand = computed(() => reports.demand.data);
    const demandChart = computed(() => (demand.value?.series?.length ? demandOption(demand.value) : null));
    const demandRoute = (series, period) => {
      const extra = demandDrill(demand.value.by, series);
      if (!extra) return null;
      const where = period === undefined ? demand.value.scope : periodScope(demand.value.scope, period);
      return drillRoute(where, filters.value, extra, route.fullPath);
    };
    const pickDemand = (event) => {
      const series = demand.value?.series?.[event.seriesIndex];
      if (series) go(demandRoute(series, demand.value.periods[event.dataIndex]));
    };
    const chooseBy = (value) => setQuery({ by: value === "model" ? undefined : value });

    // -- consultants ----------------------------------------------------------------
    const consultantRows = computed(() => [...(reports.consultants.data?.rows || [])]
      .sort((a, b) => (a.store_code || "").localeCompare(b.store_code || "") || a.rank - b.rank));
    const consultantsChart = computed(() => (consultantRows.value.length ? consultantsOption(consultantRows.value) : null));
    const consultantDrill = (row, metric) => drill("consultants", { consultant_id: row.consultant_id, metric });
    const pickConsultant = (event) => {
      const row = consultantRows.value[event.dataIndex];
      if (row && event.seriesIndex === 0) go(consultantDrill(row, "won"));  // wins; follow-ups are no count of leads
    };
    const storeName = (code) => stores.value.find((s) => s.code === code)?.name || code || "";

    // -- response times -------------------------------------------------------------
    const responses = computed(() => reports.responses.data);
    const responseChart = computed(() => (responses.value?.buckets?.length ? responseOption(responses.value) : null));
    const pickBucket = (event) => {
      const bucket = responses.value?.buckets?.[event.dataIndex];
      if (bucket) go(drill("responses", { metric: bucket.metric }));
    };
    const groupDrill = (group, metric) => drill("responses", {
      [responses.value.per === "store" ? "store_code" : "consultant_id"]: group.key, metric,
    });
    const responsesEmpty = computed(() => responses.value && !responses.value.contacted && !responses.value.waiting);

    return {
      manager, stores, filters, reports, scope, scopeText, empty, by, DEMAND_BY, RANGES, RATES, COUNTS, CHANNELS,
      from, to, dateProblem, applyDates, rangeOn, chooseRange, teams: storeTeams, people, peopleStore,
      chooseStore, setQuery, sourceText, knownSources, narrowed, clearFilters,
      drill, funnelCountRoute, funnel, funnelChart, pickStage,
      sourceRows, sourcesChart, sourceDrill, pickSource, costFor, costNotice, costStores, costMonth, costSaved,
      demand, demandChart, demandRoute, pickDemand, chooseBy,
      consultantRows, consultantsChart, consultantDrill, pickConsultant, storeName,
      responses, responseChart, pickBucket, groupDrill, responsesEmpty,
      percent, minutesText, hoursText, yuan, stageText, bucketText, demandKeyText, label,
      chartHeight: (rows, each = 44) => Math.max(160, 56 + rows * each),
      filterQuery: computed(() => filters.value),
      demandQuery: computed(() => ({ ...filters.value, by: by.value })),
    };
  },
  template: `
    <AppBar :title="$t('analytics.title')" />
    <main class="page page--dashboard" id="main">
      <p v-if="!manager" class="note">{{ $t('analytics.managersOnly') }}</p>
      <template v-else>
        <form class="filters analytics-filters" :aria-label="$t('analytics.filter.title')" @submit.prevent="applyDates">
          <div class="chips" role="group" :aria-label="$t('analytics.filter.quick')">
            <button v-for="days in RANGES" :key="days" type="button" class="chip-button" :data-range="days"
                    :aria-pressed="rangeOn(days) ? 'true' : 'false'" @click="chooseRange(days)">{{ $t('analytics.filter.lastDays', { n: days }) }}</button>
          </div>
          <div class="field field--inline">
            <label for="analytics-from">{{ $t('analytics.filter.from') }}</label>
            <input id="analytics-from" v-model="from" type="date" :max="to || undefined" @change="applyDates">
          </div>
          <div class="field field--inline">
            <label for="analytics-to">{{ $t('analytics.filter.to') }}</label>
            <input id="analytics-to" v-model="to" type="date" :min="from || undefined" @change="applyDates">
          </div>
          <p class="field__error" role="alert">{{ dateProblem }}</p>
          <div class="field field--inline">
            <label for="analytics-store">{{ $t('analytics.filter.store') }}</label>
            <select id="analytics-store" :value="filters.store_code || ''" @change="chooseStore($event.target.value)">
              <option value="">{{ $t('analytics.filter.allStores') }}</option>
              <option v-for="s in stores" :key="s.code" :value="s.code">{{ s.name }}</option>
            </select>
          </div>
          <div v-if="teams.length" class="field field--inline">
            <label for="analytics-team">{{ $t('analytics.filter.team') }}</label>
            <select id="analytics-team" :value="filters.team_id || ''" @change="setQuery({ team_id: $event.target.value })">
              <option value="">{{ $t('analytics.filter.allTeams') }}</option>
              <option v-for="team in teams" :key="team.id" :value="team.id">{{ team.name }}</option>
            </select>
          </div>
          <div class="field field--inline">
            <label for="analytics-consultant">{{ $t('analytics.filter.consultant') }}</label>
            <select id="analytics-consultant" :value="filters.consultant_id || ''" :disabled="!peopleStore"
                    @change="setQuery({ consultant_id: $event.target.value })">
              <option value="">{{ peopleStore ? $t('analytics.filter.everyone') : $t('analytics.filter.storeFirst') }}</option>
              <option v-for="user in people" :key="user.id" :value="user.id">{{ user.display_name }}</option>
            </select>
          </div>
          <div class="field field--inline">
            <label for="analytics-channel">{{ $t('analytics.filter.channel') }}</label>
            <select id="analytics-channel" :value="filters.channel || ''" @change="setQuery({ channel: $event.target.value })">
              <option value="">{{ $t('analytics.filter.allChannels') }}</option>
              <option v-for="channel in CHANNELS" :key="channel" :value="channel">{{ label('channel', channel) }}</option>
            </select>
          </div>
          <div class="field field--inline">
            <label for="analytics-source">{{ $t('analytics.filter.source') }}</label>
            <input id="analytics-source" v-model="sourceText" list="analytics-sources" autocomplete="off"
                   :placeholder="$t('analytics.filter.allSources')" @change="setQuery({ source: sourceText.trim() })">
            <datalist id="analytics-sources">
              <option v-for="name in knownSources" :key="name" :value="name"></option>
            </datalist>
          </div>
          <button v-if="narrowed" type="button" class="button button--quiet" @click="clearFilters">{{ $t('analytics.filter.clear') }}</button>
        </form>
        <p class="muted analytics-scope" role="status">{{ scopeText }}</p>
        <p v-if="empty" class="note" data-empty>{{ $t('analytics.empty') }}</p>

        <div class="dashboard">
          <!-- the funnel and the dealer rates -->
          <ReportPanel name="funnel" :title="$t('analytics.funnel.title')" :report="reports.funnel" wide>
            <template v-if="funnel && !empty">
              <dl class="figures">
                <div v-for="(parts, rate) in RATES" :key="rate" class="figure" :data-rate="rate">
                  <dt class="figure__name">{{ $t('analytics.rate.' + rate) }}</dt>
                  <dd class="figure__value">{{ percent(funnel.rates[rate]) }}</dd>
                  <dd v-if="parts[0]" class="figure__of">
                    <router-link v-if="funnel.counts[parts[0]]" :to="funnelCountRoute(parts[0])" :data-drill="'rate:' + rate">{{ funnel.counts[parts[0]] }} / {{ funnel.counts[parts[1]] }}</router-link>
                    <template v-else>0 / {{ funnel.counts[parts[1]] }}</template>
                  </dd>
                  <dd v-else class="figure__of">
                    <router-link v-if="funnel.counts.lost" :to="funnelCountRoute('lost')">{{ $t('analytics.lostN', { n: funnel.counts.lost }) }}</router-link>
                    <template v-else>{{ $t('analytics.lostN', { n: 0 }) }}</template>
                    ·
                    <router-link v-if="funnel.counts.loss_pending" :to="funnelCountRoute('loss_pending')">{{ $t('analytics.pendingN', { n: funnel.counts.loss_pending }) }}</router-link>
                    <template v-else>{{ $t('analytics.pendingN', { n: 0 }) }}</template>
                  </dd>
                </div>
              </dl>
              <div class="panel__pair">
                <div>
                  <h3 class="panel__sub">{{ $t('analytics.funnel.stages') }}</h3>
                  <Chart v-if="funnelChart" name="funnel" :option="funnelChart" :height="240"
                         :label="$t('analytics.funnel.chart')" @pick="pickStage" />
                  <div class="table-wrap">
                    <table class="report" data-table="stages">
                      <thead><tr>
                        <th scope="col">{{ $t('analytics.col.stage') }}</th>
                        <th scope="col">{{ $t('analytics.col.reached') }}</th>
                        <th scope="col">{{ $t('analytics.col.current') }}</th>
                        <th scope="col">{{ $t('analytics.col.conversion') }}</th>
                        <th scope="col">{{ $t('analytics.col.medianTime') }}</th>
                      </tr></thead>
                      <tbody>
                        <tr v-for="stage in funnel.stages" :key="stage.stage" :data-stage="stage.stage">
                          <th scope="row">{{ stageText(stage.stage) }}</th>
                          <td><router-link v-if="stage.reached" :to="drill('funnel', { metric: 'reached_' + stage.stage })" :data-drill="'reached:' + stage.stage">{{ stage.reached }}</router-link><template v-else>0</template></td>
                          <td><router-link v-if="stage.current && stage.stage !== 'won'" :to="drill('funnel', { metric: 'in_' + stage.stage })">{{ stage.current }}</router-link><template v-else>{{ stage.stage === 'won' ? '—' : 0 }}</template></td>
                          <td>{{ percent(stage.conversion) }}</td>
                          <td>{{ hoursText(stage.median_hours) }}</td>
                        </tr>
                      </tbody>
                    </table>
                  </div>
                  <ExportButtons table="funnel" :title="$t('analytics.funnel.stages')" :filters="filterQuery" />
                </div>
                <div>
                  <h3 class="panel__sub">{{ $t('analytics.funnel.counts') }}</h3>
                  <div class="table-wrap">
                    <table class="report" data-table="counts">
                      <thead><tr>
                        <th scope="col">{{ $t('analytics.col.figure') }}</th>
                        <th scope="col">{{ $t('analytics.col.leads') }}</th>
                      </tr></thead>
                      <tbody>
                        <tr v-for="name in COUNTS" :key="name" :data-count="name">
                          <th scope="row">{{ label('analytics.metric', name) }}</th>
                          <td><router-link v-if="funnel.counts[name]" :to="funnelCountRoute(name)" :data-drill="'count:' + name">{{ funnel.counts[name] }}</router-link><template v-else>0</template></td>
                        </tr>
                      </tbody>
                    </table>
                  </div>
                  <ExportButtons table="rates" :title="$t('analytics.funnel.rates')" :filters="filterQuery" />
                  <h3 class="panel__sub">{{ $t('analytics.funnel.lostReasons') }}</h3>
                  <div v-if="funnel.lost_reasons.length" class="table-wrap">
                    <table class="report" data-table="lost_reasons">
                      <thead><tr>
                        <th scope="col">{{ $t('analytics.col.reason') }}</th>
                        <th scope="col">{{ $t('analytics.col.leads') }}</th>
                      </tr></thead>
                      <tbody>
                        <tr v-for="reason in funnel.lost_reasons" :key="reason.key" :data-reason="reason.key">
                          <th scope="row">{{ label('lostReason', reason.key) }}</th>
                          <td><router-link :to="drill('funnel', { lost_reason: reason.key })" :data-drill="'lost:' + reason.key">{{ reason.count }}</router-link></td>
                        </tr>
                      </tbody>
                    </table>
                  </div>
                  <p v-else class="muted">{{ $t('analytics.funnel.noLosses') }}</p>
                  <ExportButtons table="lost_reasons" :title="$t('analytics.funnel.lostReasons')" :filters="filterQuery" />
                </div>
              </div>
            </template>
          </ReportPanel>

          <!-- response times -->
          <ReportPanel name="responses" :title="$t('analytics.response.title')" :report="reports.responses">
            <template v-if="responses">
              <p v-if="responsesEmpty" class="muted">{{ $t('analytics.empty') }}</p>
              <template v-else>
                <dl class="figures">
                  <div class="figure figure--big" data-figure="under_5">
                    <dt class="figure__name">{{ $t('analytics.response.under5') }}</dt>
                    <dd class="figure__value">{{ percent(responses.under_5_share) }}</dd>
                  </div>
                  <div class="figure figure--big" data-figure="median">
                    <dt class="figure__name">{{ $t('analytics.response.median') }}</dt>
                    <dd class="figure__value">{{ minutesText(responses.median_minutes) }}</dd>
                  </div>
                  <div class="figure" data-figure="contacted">
                    <dt class="figure__name">{{ $t('analytics.response.contacted') }}</dt>
                    <dd class="figure__value"><router-link v-if="responses.contacted" :to="drill('responses', { metric: 'contacted' })">{{ responses.contacted }}</router-link><template v-else>0</template></dd>
                  </div>
                  <div class="figure" data-figure="waiting">
                    <dt class="figure__name">{{ $t('analytics.response.waiting') }}</dt>
                    <dd class="figure__value"><router-link v-if="responses.waiting" :to="drill('responses', { metric: 'waiting' })" data-drill="waiting">{{ responses.waiting }}</router-link><template v-else>0</template></dd>
                  </div>
                </dl>
                <Chart v-if="responseChart" name="responses" :option="responseChart" :height="260"
                       :label="$t('analytics.response.chart')" @pick="pickBucket" />
                <div class="table-wrap">
                  <table class="report" data-table="buckets">
                    <thead><tr>
                      <th scope="col">{{ $t('analytics.col.firstResponse') }}</th>
                      <th scope="col">{{ $t('analytics.col.leads') }}</th>
                    </tr></thead>
                    <tbody>
                      <tr v-for="bucket in responses.buckets" :key="bucket.metric" :data-bucket="bucket.metric">
                        <th scope="row">{{ bucketText(bucket.from_minutes, bucket.to_minutes) }}</th>
                        <td><router-link v-if="bucket.count" :to="drill('responses', { metric: bucket.metric })" :data-drill="bucket.metric">{{ bucket.count }}</router-link><template v-else>0</template></td>
                      </tr>
                    </tbody>
                  </table>
                </div>
                <template v-if="responses.groups?.length">
                  <h3 class="panel__sub">{{ $t(responses.per === 'store' ? 'analytics.response.perStore' : 'analytics.response.perConsultant') }}</h3>
                  <div class="table-wrap">
                    <table class="report report--numbers" data-table="response_groups">
                      <thead><tr>
                        <th scope="col">{{ $t(responses.per === 'store' ? 'analytics.col.store' : 'analytics.col.consultant') }}</th>
                        <th scope="col">{{ $t('analytics.col.contacted') }}</th>
                        <th scope="col">{{ $t('analytics.response.under5') }}</th>
                        <th scope="col">{{ $t('analytics.response.median') }}</th>
                        <th v-for="bucket in responses.buckets" :key="bucket.metric" scope="col">{{ bucketText(bucket.from_minutes, bucket.to_minutes) }}</th>
                      </tr></thead>
                      <tbody>
                        <tr v-for="group in responses.groups" :key="group.key">
                          <th scope="row">{{ group.name || (responses.per === 'store' ? storeName(group.key) : $t('analytics.someone')) }}</th>
                          <td><router-link v-if="group.contacted" :to="groupDrill(group, 'contacted')">{{ group.contacted }}</router-link><template v-else>0</template></td>
                          <td>{{ percent(group.under_5_share) }}</td>
                          <td>{{ minutesText(group.median_minutes) }}</td>
                          <td v-for="(count, n) in group.counts" :key="n"><router-link v-if="count" :to="groupDrill(group, responses.buckets[n]?.metric)">{{ count }}</router-link><template v-else>0</template></td>
                        </tr>
                      </tbody>
                    </table>
                  </div>
                </template>
              </template>
              <ExportButtons table="response_times" :title="$t('analytics.response.title')" :filters="filterQuery" />
            </template>
          </ReportPanel>

          <!-- demand -->
          <ReportPanel name="demand" :title="$t('analytics.demand.title')" :report="reports.demand">
            <template #controls>
              <div class="chips" role="group" :aria-label="$t('analytics.demand.by')">
                <button v-for="name in DEMAND_BY" :key="name" type="button" class="chip-button" :data-by="name"
                        :aria-pressed="by === name ? 'true' : 'false'" @click="chooseBy(name)">{{ $t('analytics.demand.byName.' + name) }}</button>
              </div>
            </template>
            <template v-if="demand">
              <p v-if="!demand.series.length" class="muted">{{ $t('analytics.empty') }}</p>
              <template v-else>
                <p class="muted">{{ $t('analytics.demand.per.' + demand.interval) }}</p>
                <Chart v-if="demandChart" name="demand" :option="demandChart" :height="320"
                       :label="$t('analytics.demand.chart', { by: $t('analytics.demand.byName.' + demand.by) })" @pick="pickDemand" />
                <div class="table-wrap">
                  <table class="report report--numbers" data-table="demand">
                    <thead><tr>
                      <th scope="col">{{ $t('analytics.demand.byName.' + demand.by) }}</th>
                      <th scope="col">{{ $t('analytics.col.total') }}</th>
                      <th v-for="period in demand.periods" :key="period" scope="col">{{ period }}</th>
                    </tr></thead>
                    <tbody>
                      <tr v-for="series in demand.series" :key="series.key" :data-key="series.key">
                        <th scope="row">{{ demandKeyText(demand.by, series.key) }}</th>
                        <td><router-link v-if="series.total && demandRoute(series)" :to="demandRoute(series)" :data-drill="'demand:' + series.key">{{ series.total }}</router-link><template v-else>{{ series.total }}</template></td>
                        <td v-for="(count, n) in series.counts" :key="n"><router-link v-if="count && demandRoute(series)" :to="demandRoute(series, demand.periods[n])">{{ count }}</router-link><template v-else>{{ count }}</template></td>
                      </tr>
                    </tbody>
                  </table>
                </div>
              </template>
              <ExportButtons table="demand" :title="$t('analytics.demand.title')" :filters="demandQuery" />
            </template>
          </ReportPanel>

          <!-- sources -->
          <ReportPanel name="sources" :title="$t('analytics.sources.title')" :report="reports.sources" wide>
            <template v-if="reports.sources.data">
              <p v-if="!sourceRows.length" class="muted">{{ $t('analytics.empty') }}</p>
              <template v-else>
                <Chart v-if="sourcesChart" name="sources" :option="sourcesChart" :height="chartHeight(sourceRows.length, 52)"
                       :label="$t('analytics.sources.chart')" @pick="pickSource" />
                <p class="hint">{{ $t('analytics.sources.costHint') }}</p>
                <div class="table-wrap">
                  <table class="report report--numbers" data-table="sources">
                    <thead><tr>
                      <th scope="col">{{ $t('analytics.col.source') }}</th>
                      <th scope="col">{{ $t('analytics.col.channel') }}</th>
                      <th scope="col">{{ $t('analytics.col.leads') }}</th>
                      <th scope="col">{{ $t('analytics.col.contacted') }}</th>
                      <th scope="col">{{ $t('analytics.col.contactRate') }}</th>
                      <th scope="col">{{ $t('analytics.col.testDrives') }}</th>
                      <th scope="col">{{ $t('analytics.col.testDriveRate') }}</th>
                      <th scope="col">{{ $t('analytics.col.won') }}</th>
                      <th scope="col">{{ $t('analytics.col.winRate') }}</th>
                      <th scope="col">{{ $t('analytics.col.medianResponse') }}</th>
                      <th scope="col">{{ $t('analytics.col.revenue') }}</th>
                      <th scope="col">{{ $t('analytics.col.cost') }}</th>
                      <th scope="col">{{ $t('analytics.col.costPerLead') }}</th>
                      <th scope="col">{{ $t('analytics.col.costPerSale') }}</th>
                      <th scope="col"><span class="visually-hidden">{{ $t('analytics.cost.enter') }}</span></th>
                    </tr></thead>
                    <tbody>
                      <tr v-for="row in sourceRows" :key="row.source + ':' + row.channel" :data-source="row.source + ':' + row.channel">
                        <th scope="row">{{ row.source }}</th>
                        <td>{{ label('channel', row.channel) }}</td>
                        <td><router-link v-if="row.leads" :to="sourceDrill(row)" :data-drill="'source:' + row.source + ':' + row.channel">{{ row.leads }}</router-link><template v-else>0</template></td>
                        <td><router-link v-if="row.contacted" :to="sourceDrill(row, 'contacted')">{{ row.contacted }}</router-link><template v-else>0</template></td>
                        <td>{{ percent(row.contact_rate) }}</td>
                        <td><router-link v-if="row.test_drive" :to="sourceDrill(row, 'test_drive')">{{ row.test_drive }}</router-link><template v-else>0</template></td>
                        <td>{{ percent(row.test_drive_rate) }}</td>
                        <td><router-link v-if="row.won" :to="sourceDrill(row, 'won')">{{ row.won }}</router-link><template v-else>0</template></td>
                        <td>{{ percent(row.win_rate) }}</td>
                        <td>{{ minutesText(row.median_response_minutes) }}</td>
                        <td>{{ yuan(row.revenue) }}</td>
                        <td data-col="cost">{{ row.cost === null ? $t('analytics.cost.none') : yuan(row.cost) }}</td>
                        <td data-col="cost_per_lead">{{ yuan(row.cost_per_lead) }}</td>
                        <td data-col="cost_per_sale">{{ yuan(row.cost_per_sale) }}</td>
                        <td><button type="button" class="button button--quiet" :aria-label="$t('analytics.cost.enterFor', { source: row.source })"
                                    :aria-expanded="costFor === row.source ? 'true' : 'false'" :data-cost="row.source"
                                    @click="costFor = costFor === row.source ? null : row.source; costNotice = ''">{{ $t('analytics.cost.enter') }}</button></td>
                      </tr>
                    </tbody>
                  </table>
                </div>
                <SourceCostForm v-if="costFor" :key="costFor" :source="costFor" :stores="costStores"
                                :store-code="filters.store_code || ''" :month="costMonth"
                                @saved="costSaved" @close="costFor = null" />
                <p class="notice" role="status">{{ costNotice }}</p>
              </template>
              <ExportButtons table="sources" :title="$t('analytics.sources.title')" :filters="filterQuery" />
            </template>
          </ReportPanel>

          <!-- consultants -->
          <ReportPanel name="consultants" :title="$t('analytics.consultants.title')" :report="reports.consultants" wide>
            <template v-if="reports.consultants.data">
              <p v-if="!consultantRows.length" class="muted">{{ $t('analytics.consultants.none') }}</p>
              <template v-else>
                <Chart v-if="consultantsChart" name="consultants" :option="consultantsChart" :height="chartHeight(consultantRows.length, 52)"
                       :label="$t('analytics.consultants.chart')" @pick="pickConsultant" />
                <div class="table-wrap">
                  <table class="report report--numbers" data-table="consultants">
                    <thead><tr>
                      <th scope="col">{{ $t('analytics.col.rank') }}</th>
                      <th scope="col">{{ $t('analytics.col.consultant') }}</th>
                      <th v-if="stores.length > 1" scope="col">{{ $t('analytics.col.store') }}</th>
                      <th scope="col">{{ $t('analytics.col.leads') }}</th>
                      <th scope="col">{{ $t('analytics.col.followupsDone') }}</th>
                      <th scope="col">{{ $t('analytics.col.tasksDue') }}</th>
                      <th scope="col">{{ $t('analytics.col.onTime') }}</th>
                      <th scope="col">{{ $t('analytics.col.medianResponse') }}</th>
                      <th scope="col">{{ $t('analytics.col.slaBreaches') }}</th>
                      <th scope="col">{{ $t('analytics.col.appointments') }}</th>
                      <th scope="col">{{ $t('analytics.col.visits') }}</th>
                      <th scope="col">{{ $t('analytics.col.testDrives') }}</th>
                      <th scope="col">{{ $t('analytics.col.wins') }}</th>
                      <th scope="col">{{ $t('analytics.col.revenue') }}</th>
                    </tr></thead>
                    <tbody>
                      <tr v-for="row in consultantRows" :key="row.consultant_id" :data-consultant="row.consultant_id">
                        <td>{{ row.rank }}</td>
                        <th scope="row">{{ row.name || $t('analytics.someone') }}</th>
                        <td v-if="stores.length > 1">{{ storeName(row.store_code) }}</td>
                        <td><router-link v-if="row.leads" :to="consultantDrill(row)" :data-drill="'consultant:' + row.consultant_id">{{ row.leads }}</router-link><template v-else>0</template></td>
                        <td>{{ row.followups_done }}</td>
                        <td>{{ row.tasks_due }}</td>
                        <td>{{ percent(row.on_time_rate) }}</td>
                        <td>{{ minutesText(row.median_response_minutes) }}</td>
                        <td>{{ row.sla_breaches }}</td>
                        <td><router-link v-if="row.appointments" :to="consultantDrill(row, 'appointment')">{{ row.appointments }}</router-link><template v-else>0</template></td>
                        <td><router-link v-if="row.visits" :to="consultantDrill(row, 'visited')">{{ row.visits }}</router-link><template v-else>0</template></td>
                        <td><router-link v-if="row.test_drives" :to="consultantDrill(row, 'test_drive')">{{ row.test_drives }}</router-link><template v-else>0</template></td>
                        <td><router-link v-if="row.wins" :to="consultantDrill(row, 'won')">{{ row.wins }}</router-link><template v-else>0</template></td>
                        <td>{{ yuan(row.revenue) }}</td>
                      </tr>
                    </tbody>
                  </table>
                </div>
              </template>
              <ExportButtons table="consultants" :title="$t('analytics.consultants.title')" :filters="filterQuery" />
            </template>
          </ReportPanel>
        </div>
      </template>
    </main>`,
};
