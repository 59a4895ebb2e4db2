// The leads list: "my leads" for a consultant, the store's for a manager
// (the API decides which), the store's claim pool (公海) with a claim
// button on each card, and for managers the losses waiting for approval
// (战败审批). Filter chips for status, grade and stage and a text search
// (kept in the URL). Leads arrive, leave and change live on the stream:
// a lead re-routed away goes from its old owner's list, its new owner gets
// it with its new clock.
import { computed, onMounted, onUnmounted, reactive, ref, watch } from "vue";
import { useI18n } from "vue-i18n";
import { useRoute, useRouter } from "vue-router";
import * as api from "../api.js";
import { chime } from "../chime.js";
import { label } from "../i18n.js";
import AppBar from "../components/AppBar.js";
import LeadCard from "../components/LeadCard.js";
import LossDecision from "../components/LossDecision.js";
import { actionProblem, GRADES, isManager, STAGES } from "../components/leads.js";
import { usePagedList, useQueryFilters } from "../components/pagedList.js";

const STATUSES = ["accepted", "pooled", "assigned", "contacted", "loss_pending", "won", "lost", "joined"];
const TYPING_PAUSE = 300;  // ms after the last key before searching
const listOf = (value) => (value ? String(value).split(",").filter(Boolean) : []);

export default {
  name: "Leads",
  components: { AppBar, LeadCard, LossDecision },
  setup() {
    const { t } = useI18n();
    const route = useRoute();
    const router = useRouter();
    const fresh = reactive(new Set());
    const arrived = ref(null);   // the last lead that came in live
    const notice = ref(null);    // {text, id}: what a claim or a decision did
    const actionError = ref("");
    const claiming = ref(null);  // the lead being claimed

    const manager = computed(isManager);
    const me = computed(() => api.session.user?.id);
    const title = computed(() => ({ consultant: t("leads.mine"), manager: t("leads.store") })[
      api.session.user?.role] || t("leads.all"));
    const views = computed(() => (manager.value ? ["", "pool", "approvals"] : ["", "pool"]));
    const view = computed(() => (views.value.includes(route.query.view) ? route.query.view : ""));
    const chosen = computed(() => ({
      status: listOf(route.query.status), grade: listOf(route.query.grade), stage: listOf(route.query.stage),
    }));
    const chipGroups = computed(() => {
      if (view.value === "approvals") return [];
      const groups = [{ name: "grade", values: GRADES }, { name: "stage", values: STAGES }];
      return view.value === "pool" ? groups : [{ name: "status", values: STATUSES }, ...groups];
    });
    const chosenCount = computed(() => chipGroups.value
      .reduce((sum, group) => sum + chosen.value[group.name].length, 0));

    function filters() {
      const q = route.query.q;
      const grade = chosen.value.grade.join(",");
      const stage = chosen.value.stage.join(",");
      if (view.value === "pool") return { status: "pooled", grade, stage, q };
      if (view.value === "approvals") return { status: "loss_pending", q };
      const mine = api.session.user?.role === "consultant" ? me.value : undefined;
      return { status: chosen.value.status.join(","), grade, stage, q, consultant_id: mine };
    }
    /** Whether a lead belongs in the list as filtered now (a live change may take it out). */
    function fits(lead) {
      const f = filters();
      const within = (list, value) => !list || list.split(",").includes(value);
      return within(f.status, lead.status) && within(f.grade, lead.grade) && within(f.stage, lead.stage)
        && (!f.consultant_id || lead.consultant?.id === f.consultant_id);
    }

    const { items, nextCursor, loading, failure, load, more } = usePagedList(api.leads, filters);
    const { search, setFilter, stop } = useQueryFilters(route, router, TYPING_PAUSE);
    const problem = computed(() => failure.value
      && t("leads.failed", { reason: failure.value.description || failure.value.title || failure.value.status }));
    const announcement = computed(() => arrived.value ? t("leads.arrived", { name: arrived.value }) : "");

    const filtersOpen = ref(chosenCount.value > 0);

    function toggle(group, value) {
      const list = chosen.value[group];
      const next = list.includes(value) ? list.filter((each) => each !== value) : [...list, value];
      setFilter(group, next.join(","));
    }
    function showView(name) {
      notice.value = null;
      actionError.value = "";
      router.replace({ query: { ...route.query, view: name || undefined, status: undefined } });
    }

    watch(() => [route.query.view, route.query.status, route.query.grade, route.query.stage, route.query.q],
          () => load());

    // One lead changed (the stream said so): read it again, then show it,
    // replace it, or take it out of the list. Answers out of order are dropped.
    const asked = new Map();
    async function refreshOne(id) {
      if (route.query.q) {  // the text search is the server's: ask for the page again
        await load({ keep: true });
        return false;
      }
      const turn = (asked.get(id) || 0) + 1;
      asked.set(id, turn);
      let lead = null;
      try {
        lead = await api.lead(id);
      } catch (error) {
        if (error.status !== 404) return false;  // 404: not the caller's to see any more
      }
      if (asked.get(id) !== turn) return false;
      const index = items.value.findIndex((item) => item.id === id);
      if (!lead || !fits(lead)) {
        if (index >= 0) items.value.splice(index, 1);
        return false;
      }
      if (index >= 0) items.value.splice(index, 1, lead);
      else items.value.unshift(lead);
      return index < 0;
    }

    async function claim(lead) {
      claiming.value = lead.id;
      notice.value = null;
      actionError.value = "";
      try {
        await api.claimLead(lead.id);
        notice.value = { text: t("pool.claimed", { name: lead.customer?.name || "" }), id: lead.id };
        items.value = items.value.filter((item) => item.id !== lead.id);
      } catch (error) {
        if (error.status === 409) items.value = items.value.filter((item) => item.id !== lead.id);
        actionError.value = error.status === 422 ? t("pool.limit")
          : actionProblem(error, t("pool.taken", { name: lead.customer?.name || "" }));
      } finally {
        claiming.value = null;
      }
    }

    function decided(lead, approved) {
      items.value = items.value.filter((item) => item.id !== lead.id);
      notice.value = { text: t(approved ? "approvals.approved" : "approvals.refused",
                               { name: lead.customer?.name || "" }), id: lead.id };
    }

    let stream = null;
    onMounted(() => {
      load();
      stream = api.openStream({
        async lead_assigned(event) {
          const added = await refreshOne(event.lead_id);
          const forMe = api.session.user?.role === "consultant" ? event.consultant_id === me.value
            : event.reason === "routing";
          if (added && forMe) {
            fresh.add(event.lead_id);
            arrived.value = event.customer_name;
            chime();
          }
        },
        async lead_changed(event) {
          if (await refreshOne(event.lead_id)) fresh.add(event.lead_id);
        },
      });
    });
    onUnmounted(() => {
      stream?.close();
      stop();
    });

    return { title, items, nextCursor, loading, problem, fresh, announcement, search, setFilter, more,
             views, view, showView, chipGroups, filtersOpen, chosen, chosenCount, toggle, label,
             claim, claiming, decided, notice, actionError };
  },
  template: `
    <AppBar :title="title" />
    <main class="page" id="main">
      <div class="views" role="group" :aria-label="$t('leads.views')">
        <button v-for="name in views" :key="name" type="button" class="views__view"
                :aria-pressed="view === name ? 'true' : 'false'" @click="showView(name)">
          {{ $t('leads.view.' + (name || 'main')) }}
        </button>
      </div>
      <form class="filters" role="search" :aria-label="$t('leads.filters')" @submit.prevent>
        <div class="field field--inline field--grow">
          <label for="lead-search">{{ $t('leads.search') }}</label>
          <input id="lead-search" v-model="search" type="search" :placeholder="$t('leads.searchHint')"
                 autocomplete="off" enterkeyhint="search">
        </div>
        <details v-if="chipGroups.length" class="filter-box" :open="filtersOpen"
                 @toggle="filtersOpen = $event.target.open">
          <summary class="filter-box__summary">
            {{ chosenCount ? $t('leads.filtersOn', { count: chosenCount }) : $t('leads.moreFilters') }}
          </summary>
          <div v-for="group in chipGroups" :key="group.name" class="chip-group" role="group"
               :aria-label="$t('leads.by.' + group.name)">
            <span class="chip-group__name" aria-hidden="true">{{ $t('leads.by.' + group.name) }}</span>
            <ul class="chips">
              <li v-for="value in group.values" :key="value">
                <button type="button" class="chip-button" :data-filter="group.name + ':' + value"
                        :aria-pressed="chosen[group.name].includes(value) ? 'true' : 'false'"
                        @click="toggle(group.name, value)">{{ label(group.name === 'grade' ? 'gradeChip' : group.name, value) }}</button>
              </li>
            </ul>
          </div>
        </details>
      </form>
      <p v-if="view === 'pool'" class="hint">{{ $t('pool.hint') }}</p>
      <p v-if="view === 'approvals'" class="hint">{{ $t('approvals.hint') }}</p>
      <p class="visually-hidden" role="status">{{ announcement }}</p>
      <p class="notice" role="status"><template v-if="notice">{{ notice.text }}
        <router-link :to="{ name: 'lead', params: { id: notice.id } }">{{ $t('leads.open') }}</router-link></template></p>
      <p class="problem" role="alert">{{ problem || actionError }}</p>
      <p v-if="loading && !items.length" class="note">{{ $t('leads.loading') }}</p>
      <p v-else-if="!items.length && !problem" class="note">{{ $t('leads.empty.' + (view || 'main')) }}</p>
      <ul class="cards" :aria-busy="loading">
        <li v-for="lead in items" :key="lead.id" class="card-box">
          <LeadCard :lead="lead" :fresh="fresh.has(lead.id)" />
          <div v-if="view === 'pool' && lead.status === 'pooled'" class="card-actions">
            <button type="button" class="button button--primary" :disabled="claiming === lead.id"
                    @click="claim(lead)">{{ claiming === lead.id ? $t('pool.claiming') : $t('pool.claim', { name: lead.customer?.name || '' }) }}</button>
          </div>
          <LossDecision v-if="view === 'approvals' && lead.status === 'loss_pending'" :lead-id="lead.id"
                        :name="lead.customer?.name || ''" @decided="decided(lead, $event)" />
        </li>
      </ul>
      <button v-if="nextCursor" type="button" class="button more" @click="more">{{ $t('leads.more') }}</button>
    </main>`,
};
