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

const STATUSES = ["accepted", "assigned"];  // what GET /v1/leads filters by; more come with the funnel stages
const TYPING_PAUSE = 300;  // ms after the last key before searching

export default {
  name: "Leads",
  components: { AppBar, LeadCard },
  setup() {
    const { t } = useI18n();
    const route = useRoute();
    const router = useRouter();
    const items = ref([]);
    const nextCursor = ref(null);
    const loading = ref(false);
    const failure = ref(null);
    const fresh = reactive(new Set());
    const arrived = ref(null);  // the last lead that came in live
    const search = ref(route.query.q || "");
    let generation = 0;         // answers to an older question are dropped

    const title = computed(() => ({ consultant: t("leads.mine"), manager: t("leads.store") })[
      api.session.user?.role] || t("leads.all"));
    const filters = () => ({ status: route.query.status, q: route.query.q });
    const problem = computed(() => failure.value
      && t("leads.failed", { reason: failure.value.description || failure.value.title || failure.value.status }));
    const announcement = computed(() => arrived.value ? t("leads.arrived", { name: arrived.value }) : "");

    /** The first page; `keep` keeps the leads already shown below it (a live arrival). */
    async function load({ keep = false } = {}) {
      const asked = ++generation;
      loading.value = !keep;
      failure.value = null;
      try {
        const page = await api.leads(filters());
        if (asked !== generation) return;
        const ids = new Set(page.items.map((lead) => lead.id));
        items.value = keep ? [...page.items, ...items.value.filter((lead) => !ids.has(lead.id))] : page.items;
        if (!keep) nextCursor.value = page.next_cursor;
      } catch (error) {
        if (asked !== generation || error.sessionEnded) return;
        failure.value = error;
        if (!keep) items.value = [];  // never old results under new filters
      } finally {
        if (asked === generation) loading.value = false;
      }
    }

    async function more() {
      const asked = generation;
      try {
        const page = await api.leads({ ...filters(), cursor: nextCursor.value });
        if (asked !== generation) return;
        items.value = [...items.value, ...page.items];
        nextCursor.value = page.next_cursor;
      } catch (error) {
        if (!error.sessionEnded) failure.value = error;
      }
    }

    function setFilter(name, value) {
      router.replace({ query: { ...route.query, [name]: value || undefined } });
    }

    let typing = null;
    watch(search, (value) => {
      clearTimeout(typing);
      typing = setTimeout(() => setFilter("q", value.trim()), TYPING_PAUSE);
    });
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
      clearTimeout(typing);
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
