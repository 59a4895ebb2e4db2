// Customers: one search box with instant results (name, pinyin initials,
// phone fragment, email), lifecycle and store chips, cards, and more as the
// list is scrolled. Search and filters are kept in the URL.
import { computed, onMounted, onUnmounted, ref, watch } from "vue";
import { useI18n } from "vue-i18n";
import { useRoute, useRouter } from "vue-router";
import * as api from "../api.js";
import AppBar from "../components/AppBar.js";
import CustomerCard from "../components/CustomerCard.js";
import { usePagedList, useQueryFilters } from "../components/pagedList.js";
import { LIFECYCLES, isManager, reason } from "../components/customers.js";

const TYPING_PAUSE = 250;  // ms after the last key before searching

export default {
  name: "Customers",
  components: { AppBar, CustomerCard },
  setup() {
    const { t } = useI18n();
    const route = useRoute();
    const router = useRouter();
    const sentinel = ref(null);

    const stores = computed(() => api.session.user?.stores || []);
    const filters = () => ({ q: route.query.q, lifecycle: route.query.lifecycle, store_code: route.query.store });
    const { items, nextCursor, loading, loadingMore, failure, load, more } = usePagedList(api.customers, filters);
    const { search, setFilter, stop } = useQueryFilters(route, router, TYPING_PAUSE);
    const problem = computed(() => failure.value && t("customers.failed", { reason: reason(failure.value) }));
    const searching = computed(() => Boolean(route.query.q || route.query.lifecycle || route.query.store));

    function toggle(name, value) {
      setFilter(name, route.query[name] === value ? "" : value);
    }

    watch(() => [route.query.q, route.query.lifecycle, route.query.store], (now, before) => {
      if (route.name === "customers" && String(now) !== String(before)) load();
    });

    let observer = null;
    onMounted(() => {
      load();
      if ("IntersectionObserver" in window) {  // the next page when the end of the list comes into view
        observer = new IntersectionObserver((entries) => {
          if (entries.some((entry) => entry.isIntersecting)) more();
        }, { rootMargin: "200px" });
        watch(sentinel, (element, old) => {
          if (old) observer.unobserve(old);
          if (element) observer.observe(element);
        }, { immediate: true });
      }
    });
    onUnmounted(() => {
      stop();
      observer?.disconnect();
    });

    return { items, nextCursor, loading, loadingMore, problem, search, sentinel, stores, searching,
             LIFECYCLES, manager: computed(isManager), query: computed(() => route.query),
             toggle, more };
  },
  template: `
    <AppBar :title="$t('customers.title')" />
    <main class="page" id="main">
      <div class="actions">
        <router-link :to="{ name: 'customerNew' }" class="button button--primary">{{ $t('customers.new') }}</router-link>
        <router-link v-if="manager" :to="{ name: 'duplicates' }" class="button">{{ $t('customers.duplicates') }}</router-link>
        <router-link v-if="manager" :to="{ name: 'customerImport' }" class="button">{{ $t('customers.import') }}</router-link>
      </div>
      <form class="filters" role="search" :aria-label="$t('customers.filters')" @submit.prevent>
        <div class="field field--grow">
          <label for="customer-search">{{ $t('customers.search') }}</label>
          <input id="customer-search" v-model="search" type="search" :placeholder="$t('customers.searchHint')"
                 autocomplete="off" enterkeyhint="search">
        </div>
        <div class="chips" role="group" :aria-label="$t('customers.lifecycle')">
          <button v-for="value in LIFECYCLES" :key="value" type="button" class="chip-button"
                  :aria-pressed="query.lifecycle === value ? 'true' : 'false'"
                  @click="toggle('lifecycle', value)">{{ $t('lifecycle.' + value) }}</button>
          <template v-if="stores.length === 1">
            <button type="button" class="chip-button" :aria-pressed="query.store === stores[0].code ? 'true' : 'false'"
                    @click="toggle('store', stores[0].code)">{{ $t('customers.myStore') }}</button>
          </template>
          <template v-else>
            <button v-for="store in stores" :key="store.code" type="button" class="chip-button"
                    :aria-pressed="query.store === store.code ? 'true' : 'false'"
                    @click="toggle('store', store.code)">{{ store.name }}</button>
          </template>
        </div>
      </form>
      <p v-if="query.erased" class="notice" role="status">{{ $t('customers.erased') }}</p>
      <p class="problem" role="alert">{{ problem }}</p>
      <p class="visually-hidden" role="status">{{ loading ? '' : $t('customers.found', { count: items.length }) }}</p>
      <p v-if="loading && !items.length" class="note">{{ $t('customers.loading') }}</p>
      <p v-else-if="!items.length && !problem" class="note">
        {{ searching ? $t('customers.noMatch') : $t('customers.empty') }}
      </p>
      <ul class="cards" :aria-busy="loading">
        <li v-for="customer in items" :key="customer.id">
          <CustomerCard :customer="customer" />
        </li>
      </ul>
      <div v-if="nextCursor" ref="sentinel">
        <button type="button" class="button more" :disabled="loadingMore" @click="more">
          {{ loadingMore ? $t('customers.loading') : $t('customers.more') }}
        </button>
      </div>
    </main>`,
};
