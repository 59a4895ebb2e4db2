// The leads behind a figure of the dashboard (/analytics/leads?...): the
// query holds GET /v1/leads' drill-down filters (created_from, created_to,
// store_code, team_id, consultant_id, channel, source, brand, model,
// metric, lost_reason, fuel_type, budget_band), the dashboard's range in
// days (from, to) for the words, and `back`, the dashboard's path with its
// filters. The list is paged (50 at a time, `next_cursor`); a sentence says
// what is shown.
import { computed, onMounted, ref, watch } from "vue";
import { useI18n } from "vue-i18n";
import { useRoute } from "vue-router";
import * as api from "../api.js";
import { label } from "../i18n.js";
import { date } from "../format.js";
import AppBar from "../components/AppBar.js";
import LeadCard from "../components/LeadCard.js";
import { colleagues } from "../components/LeadAssign.js";
import { isManager } from "../components/leads.js";
import { usePagedList } from "../components/pagedList.js";
import { analyticsProblem, dayText, drillFilters, metricText } from "../components/analytics.js";

const PAGE = 50;

export default {
  name: "AnalyticsLeads",
  components: { AppBar, LeadCard },
  setup() {
    const { t } = useI18n();
    const route = useRoute();
    const manager = computed(isManager);
    const filters = computed(() => drillFilters(route.query));
    const { items, nextCursor, loading, loadingMore, failure, load, more } = usePagedList(
      (query) => api.leads({ ...query, limit: PAGE }), () => filters.value);
    const problem = computed(() => analyticsProblem(failure.value));
    watch(() => JSON.stringify(filters.value), () => manager.value && load());
    onMounted(() => manager.value && load());

    // names for the ids the query holds
    const teamName = ref("");
    const personName = ref("");
    async function names() {
      const f = filters.value;
      teamName.value = personName.value = "";
      try {
        if (f.team_id) teamName.value = ((await api.teams()).items || []).find((team) => team.id === f.team_id)?.name || "";
      } catch { /* the id's words stay general */ }
      const store = f.store_code || api.session.user?.stores?.[0]?.code;
      try {
        if (f.consultant_id && store) personName.value = (await colleagues(store)).find((user) => user.id === f.consultant_id)?.display_name || "";
      } catch { /* idem */ }
    }
    watch(() => [filters.value.team_id, filters.value.consultant_id, filters.value.store_code], () => manager.value && names(),
          { immediate: true });

    const what = computed(() => {
      const f = filters.value;
      if (f.lost_reason) return t("analytics.leads.lostBecause", { reason: label("lostReason", f.lost_reason) });
      return metricText(f.metric);
    });
    const range = computed(() => {
      const q = route.query;
      if (q.from && q.to) return t("analytics.leads.range", { from: dayText(String(q.from)), to: dayText(String(q.to)) });
      const f = filters.value;
      if (f.created_from && f.created_to) {
        const last = new Date(new Date(f.created_to).getTime() - 1).toISOString();
        return t("analytics.leads.range", { from: date(f.created_from, f.store_code), to: date(last, f.store_code) });
      }
      return "";
    });
    const narrowing = computed(() => {
      const f = filters.value;
      const parts = [];
      const storeName = api.session.user?.stores?.find((s) => s.code === f.store_code)?.name || f.store_code;
      if (f.store_code) parts.push(t("analytics.leads.inStore", { store: storeName }));
      if (f.team_id) parts.push(t("analytics.leads.ofTeam", { team: teamName.value || t("analytics.leads.aTeam") }));
      if (f.consultant_id) parts.push(t("analytics.leads.ofConsultant", { name: personName.value || t("analytics.someone") }));
      if (f.source) parts.push(t("analytics.leads.fromSource", { source: f.source }));
      if (f.channel) parts.push(t("analytics.leads.byChannel", { channel: label("channel", f.channel) }));
      if (f.brand) parts.push(t("analytics.leads.brand", { brand: f.brand }));
      if (f.model) parts.push(t("analytics.leads.model", { model: f.model }));
      if (f.fuel_type) parts.push(t("analytics.leads.fuel", { fuel: label("fuel", f.fuel_type) }));
      if (f.budget_band) parts.push(t("analytics.leads.budget", { band: label("budgetBand", f.budget_band) }));
      return parts;
    });
    const back = computed(() => {
      const path = String(route.query.back || "");
      return path.startsWith("/analytics") && !path.startsWith("/analytics/leads") ? path : { name: "analytics" };
    });

    return { manager, items, nextCursor, loading, loadingMore, problem, more, what, range, narrowing, back };
  },
  template: `
    <AppBar :title="$t('analytics.leads.title')" :back="back" />
    <main class="page" id="main">
      <p v-if="!manager" class="note">{{ $t('analytics.managersOnly') }}</p>
      <template v-else>
        <header class="drill-head">
          <h2 class="panel__title" data-drill-what>{{ what }}</h2>
          <p class="muted" data-drill-range>{{ range }}<template v-if="narrowing.length"> · {{ narrowing.join(' · ') }}</template></p>
          <router-link :to="back" class="button button--quiet">{{ $t('analytics.leads.back') }}</router-link>
        </header>
        <p class="problem" role="alert">{{ problem }}</p>
        <div :aria-busy="loading ? 'true' : 'false'">
          <p v-if="loading" class="muted">{{ $t('analytics.loading') }}</p>
          <p v-else-if="!items.length && !problem" class="note" data-empty>{{ $t('analytics.leads.none') }}</p>
          <template v-else>
            <p class="muted" role="status" data-drill-count>{{ nextCursor ? $t('analytics.leads.shownMore', { n: items.length }) : $t('analytics.leads.shown', { n: items.length }) }}</p>
            <div class="cards">
              <LeadCard v-for="lead in items" :key="lead.id" :lead="lead" />
            </div>
            <button v-if="nextCursor" type="button" class="button more" :disabled="loadingMore" @click="more">{{ $t('analytics.leads.more') }}</button>
          </template>
        </div>
      </template>
    </main>`,
};
