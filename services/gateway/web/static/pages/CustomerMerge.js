// Possible duplicates (/customers/duplicates) and the compare view that
// merges two customers: for a listed pair (?pair=<id>) or any two
// (/customers/merge?keep=<id>&merge=<id>, from a form's 409). The two
// profiles side by side, a reason, "merge into left" / "merge into right",
// and for a listed pair "not the same person". Managers only.
import { computed, ref, watch } from "vue";
import { useI18n } from "vue-i18n";
import { useRoute, useRouter } from "vue-router";
import * as api from "../api.js";
import { label } from "../i18n.js";
import { customerPhone, date, dateTime, store } from "../format.js";
import AppBar from "../components/AppBar.js";
import { isManager, reason } from "../components/customers.js";

export default {
  name: "CustomerMerge",
  components: { AppBar },
  setup() {
    const { t } = useI18n();
    const route = useRoute();
    const router = useRouter();
    const pairs = ref([]);
    const nextCursor = ref(null);
    const loading = ref(false);
    const failure = ref(null);
    const left = ref(null);
    const right = ref(null);
    const why = ref("");
    const busy = ref(false);
    const notice = ref("");
    const actionFailure = ref("");

    const manager = computed(isManager);
    const pairId = computed(() => route.query.pair || null);
    const comparing = computed(() => route.name === "merge" || Boolean(pairId.value));
    const pair = computed(() => pairs.value.find((each) => each.id === pairId.value) || null);
    const problem = computed(() => failure.value
      && (failure.value.status === 404 ? t("customer.notFound") : t("merge.failed", { reason: reason(failure.value) })));

    async function loadPairs(cursor) {
      loading.value = true;
      failure.value = null;
      try {
        const page = await api.duplicates({ cursor });
        pairs.value = cursor ? [...pairs.value, ...page.items] : page.items;
        nextCursor.value = page.next_cursor;
      } catch (error) {
        if (!error.sessionEnded) failure.value = error;
      } finally {
        loading.value = false;
      }
    }

    async function loadBoth(leftId, rightId) {
      left.value = right.value = null;
      failure.value = null;
      try {
        [left.value, right.value] = await Promise.all([api.customer(leftId), api.customer(rightId)]);
      } catch (error) {
        if (!error.sessionEnded) failure.value = error;
      }
    }

    async function refresh() {
      if (!manager.value) return;
      why.value = "";
      actionFailure.value = "";
      if (route.name === "merge") {
        if (route.query.keep && route.query.merge) await loadBoth(route.query.keep, route.query.merge);
        return;
      }
      if (!pairs.value.length || !pairId.value) await loadPairs(null);
      if (pairId.value) {
        const chosen = pair.value;
        if (chosen) await loadBoth(chosen.customer.id, chosen.other.id);
        else failure.value = { status: 404 };
      }
    }
    watch(() => [route.name, route.query.pair, route.query.keep, route.query.merge], refresh, { immediate: true });

    const phonesOf = (c) => (c.phones || []).map((phone) => customerPhone(phone, t("customer.extension")));
    const rows = computed(() => {
      if (!left.value || !right.value) return [];
      const line = (name, of) => {
        const a = of(left.value) || "", b = of(right.value) || "";
        return { name, left: a, right: b, differs: a !== b };
      };
      const list = (values) => (values || []).join("\n");
      return [
        line(t("form.name"), (c) => c.name),
        line(t("form.phones"), (c) => list(phonesOf(c))),
        line(t("form.emails"), (c) => list(c.emails)),
        line(t("form.wechat"), (c) => c.wechat_id),
        line(t("form.city"), (c) => c.city),
        line(t("customer.lifecycle"), (c) => label("lifecycle", c.lifecycle)),
        line(t("form.tags"), (c) => (c.tags || []).join("、")),
        line(t("customer.store"), (c) => store(c.store_code)?.name || c.store_code),
        line(t("form.brands"), (c) => (c.preferences?.brands || []).join("、")),
        line(t("form.models"), (c) => (c.preferences?.models || []).join("、")),
        line(t("customer.leads"), (c) => String(c.leads?.length || 0)),
        line(t("customer.created"), (c) => date(c.created_at, c.store_code)),
      ];
    });

    async function merge(keep, gone) {
      if (!why.value.trim()) {
        actionFailure.value = t("merge.reasonNeeded");
        return;
      }
      busy.value = true;
      actionFailure.value = "";
      try {
        await api.mergeCustomers(keep.id, gone.id, why.value.trim());
        router.push({ name: "customer", params: { id: keep.id }, query: { merged: "1" } });
      } catch (error) {
        if (!error.sessionEnded) actionFailure.value = t("merge.failed", { reason: reason(error) });
      } finally {
        busy.value = false;
      }
    }

    async function dismiss() {
      busy.value = true;
      actionFailure.value = "";
      try {
        await api.dismissDuplicate(pairId.value);
        pairs.value = pairs.value.filter((each) => each.id !== pairId.value);
        notice.value = t("merge.dismissed");
        router.replace({ name: "duplicates" });
      } catch (error) {
        if (!error.sessionEnded) actionFailure.value = t("merge.failed", { reason: reason(error) });
      } finally {
        busy.value = false;
      }
    }

    const phonesLine = (c) => phonesOf(c).join(" · ");
    return { pairs, nextCursor, loading, problem, left, right, why, busy, notice, actionFailure, manager,
             comparing, pairId, pair, rows, merge, dismiss, phonesLine, loadPairs,
             when: (iso) => dateTime(iso),
             title: computed(() => (comparing.value ? t("merge.compare") : t("merge.title"))),
             back: computed(() => (comparing.value && pairId.value ? { name: "duplicates" } : { name: "customers" })) };
  },
  template: `
    <AppBar :title="title" :back="back" />
    <main class="page" id="main">
      <section v-if="!manager" class="panel">
        <p>{{ $t('merge.managersOnly') }}</p>
      </section>
      <template v-else>
        <p class="problem" role="alert">{{ problem }}</p>
        <p class="notice" role="status">{{ notice }}</p>
        <template v-if="!comparing">
          <p v-if="loading && !pairs.length" class="note">{{ $t('customers.loading') }}</p>
          <p v-else-if="!pairs.length && !problem" class="note">{{ $t('merge.none') }}</p>
          <ul class="cards">
            <li v-for="each in pairs" :key="each.id">
              <router-link :to="{ name: 'duplicates', query: { pair: each.id } }" class="card">
                <span class="card__line card__line--first">
                  <span class="card__name">{{ each.customer.name || $t('customer.noName') }} ⇄ {{ each.other.name || $t('customer.noName') }}</span>
                </span>
                <span class="card__line">{{ phonesLine(each.customer) || '—' }} ⇄ {{ phonesLine(each.other) || '—' }}</span>
                <span class="card__line card__line--muted">{{ each.reason }} · {{ when(each.found_at) }}</span>
              </router-link>
            </li>
          </ul>
          <button v-if="nextCursor" type="button" class="button more" @click="loadPairs(nextCursor)">{{ $t('customers.more') }}</button>
        </template>
        <template v-else>
          <p v-if="pair" class="note">{{ $t('merge.why', { reason: pair.reason }) }}</p>
          <div v-if="left && right" class="compare">
            <table class="compare__table">
              <caption class="visually-hidden">{{ $t('merge.compare') }}</caption>
              <thead>
                <tr>
                  <th scope="col"><span class="visually-hidden">{{ $t('merge.field') }}</span></th>
                  <th scope="col"><router-link :to="{ name: 'customer', params: { id: left.id } }">{{ $t('merge.left') }}</router-link></th>
                  <th scope="col"><router-link :to="{ name: 'customer', params: { id: right.id } }">{{ $t('merge.right') }}</router-link></th>
                </tr>
              </thead>
              <tbody>
                <tr v-for="row in rows" :key="row.name" :class="{ 'compare__row--differs': row.differs }">
                  <th scope="row">{{ row.name }}</th>
                  <td class="compare__left">{{ row.left || '—' }}</td>
                  <td class="compare__right">{{ row.right || '—' }}</td>
                </tr>
              </tbody>
            </table>
            <form class="form" @submit.prevent>
              <div class="field">
                <label for="merge-reason">{{ $t('merge.reason') }}</label>
                <textarea id="merge-reason" v-model="why" rows="2" :placeholder="$t('merge.reasonHint')"></textarea>
              </div>
              <p class="problem" role="alert">{{ actionFailure }}</p>
              <p class="muted">{{ $t('merge.explain') }}</p>
              <div class="actions">
                <button type="button" class="button button--primary" :disabled="busy" @click="merge(left, right)">
                  {{ $t('merge.intoLeft') }}</button>
                <button type="button" class="button button--primary" :disabled="busy" @click="merge(right, left)">
                  {{ $t('merge.intoRight') }}</button>
                <button v-if="pairId" type="button" class="button" :disabled="busy" @click="dismiss">
                  {{ $t('merge.notSame') }}</button>
              </div>
            </form>
          </div>
        </template>
      </template>
    </main>`,
};
