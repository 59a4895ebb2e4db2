// The leads list: "my leads" for a consultant, the store's for a manager
// (the API decides which). Filters by status and text (kept in the URL);
// new leads arrive live on the stream, with a chime and an announcement.
import { computed, onMounted, onUnmounted, reactive, ref, watch } from "vue";
import { useI18n } from "vue-i18n";
import { useRoute, useRouter } from "vue-router";
import * as api from "../api.js";
import { chime } from "../chime.js";
import AppBar from "../components/AppBar.js";
import LeadCard from "../components/LeadCard.js";
import { usePagedList, useQueryFilters } from "../components/pagedList.js";

const STATUSES = ["accepted", "assigned"];  // what GET /v1/leads filters by; more come with the funnel stages
const TYPING_PAUSE = 300;  // ms after the last key before searching

export default {
  name: "Leads",
  components: { AppBar, LeadCard },
  setup() {
    const { t } = useI18n();
    const route = useRoute();
    const router = useRouter();
    const fresh = reactive(new Set());
    const arrived = ref(null);  // the last lead that came in live

    const title = computed(() => ({ consultant: t("leads.mine"), manager: t("leads.store") })[
      api.session.user?.role] || t("leads.all"));
    const filters = () => ({ status: route.query.status, q: route.query.q });
    const { items, nextCursor, loading, failure, load, more } = usePagedList(api.leads, filters);
    const { search, setFilter, stop } = useQueryFilters(route, router, TYPING_PAUSE);
    const problem = computed(() => failure.value
      && t("leads.failed", { reason: failure.value.description || failure.value.title || failure.value.status }));
    const announcement = computed(() => arrived.value ? t("leads.arrived", { name: arrived.value }) : "");

    watch(() => [route.query.status, route.query.q], () => load());

    let stream = null;
    onMounted(() => {
      load();
      stream = api.openStream({
        lead_assigned(event) {
          fresh.add(event.lead_id);
          arrived.value = event.customer_name;
          chime();
          load({ keep: true });
        },
      });
    });
    onUnmounted(() => {
      stream?.close();
      stop();
    });

    return { title, items, nextCursor, loading, problem, fresh, announcement, search, STATUSES,
             status: computed(() => route.query.status || ""), setFilter, more };
  },
  template: `
    <AppBar :title="title" />
    <main class="page" id="main">
      <form class="filters" role="search" :aria-label="$t('leads.filters')" @submit.prevent>
        <div class="field field--inline">
          <label for="lead-status">{{ $t('leads.status') }}</label>
          <select id="lead-status" :value="status" @change="setFilter('status', $event.target.value)">
            <option value="">{{ $t('leads.anyStatus') }}</option>
            <option v-for="value in STATUSES" :key="value" :value="value">{{ $t('status.' + value) }}</option>
          </select>
        </div>
        <div class="field field--inline field--grow">
          <label for="lead-search">{{ $t('leads.search') }}</label>
          <input id="lead-search" v-model="search" type="search" :placeholder="$t('leads.searchHint')"
                 autocomplete="off" enterkeyhint="search">
        </div>
      </form>
      <p class="visually-hidden" role="status">{{ announcement }}</p>
      <p class="problem" role="alert">{{ problem }}</p>
      <p v-if="loading && !items.length" class="note">{{ $t('leads.loading') }}</p>
      <p v-else-if="!items.length && !problem" class="note">{{ $t('leads.empty') }}</p>
      <ul class="cards" :aria-busy="loading">
        <li v-for="lead in items" :key="lead.id">
          <LeadCard :lead="lead" :fresh="fresh.has(lead.id)" />
        </li>
      </ul>
      <button v-if="nextCursor" type="button" class="button more" @click="more">{{ $t('leads.more') }}</button>
    </main>`,
};
