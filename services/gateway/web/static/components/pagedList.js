// What every list page does: a keyset-paged list that follows the page's
// filters (kept in the URL), and a search box that sets `q` a short pause
// after the last key. Answers to an older question are dropped, so old
// results never show under new filters.
import { ref, watch } from "vue";

/** `fetchPage(filters)` answers `{items, next_cursor}`; `filters()` reads the page's filters. */
export function usePagedList(fetchPage, filters) {
  const items = ref([]);
  const nextCursor = ref(null);
  const loading = ref(false);
  const loadingMore = ref(false);
  const failure = ref(null);
  let generation = 0;

  /** The first page; `keep` keeps the items already shown below it (a live arrival). */
  async function load({ keep = false } = {}) {
    const asked = ++generation;
    loading.value = !keep;
    failure.value = null;
    try {
      const page = await fetchPage(filters());
      if (asked !== generation) return;
      const ids = new Set(page.items.map((item) => item.id));
      items.value = keep ? [...page.items, ...items.value.filter((item) => !ids.has(item.id))] : page.items;
      if (!keep) nextCursor.value = page.next_cursor;
    } catch (error) {
      if (asked !== generation || error.sessionEnded) return;
      failure.value = error;
      if (!keep) {
        items.value = [];
        nextCursor.value = null;
      }
    } finally {
      if (asked === generation) loading.value = false;
    }
  }

  async function more() {
    if (!nextCursor.value || loadingMore.value) return;
    const asked = generation;
    loadingMore.value = true;
    try {
      const page = await fetchPage({ ...filters(), cursor: nextCursor.value });
      if (asked !== generation) return;
      items.value = [...items.value, ...page.items];
      nextCursor.value = page.next_cursor;
    } catch (error) {
      if (!error.sessionEnded) failure.value = error;
    } finally {
      loadingMore.value = false;
    }
  }

  return { items, nextCursor, loading, loadingMore, failure, load, more };
}

/** The URL's filters: `setFilter(name, value)`, and `search`, which sets `q`
 * `pause` ms after the last key; call `stop()` when the page goes. */
export function useQueryFilters(route, router, pause) {
  const search = ref(route.query.q || "");
  function setFilter(name, value) {
    router.replace({ query: { ...route.query, [name]: value || undefined } });
  }
  let typing = null;
  watch(search, (value) => {
    clearTimeout(typing);
    typing = setTimeout(() => setFilter("q", value.trim()), pause);
  });
  return { search, setFilter, stop: () => clearTimeout(typing) };
}
