// The inbox (消息): the caller's messages, newest first, unread ones marked
// in words and weight (not colour alone), all or only unread (kept in the
// URL as ?unread=1), the next page at the list's end. Tapping a message
// marks it read and opens what it is about (its link, else its lead);
// "mark all read" clears the badge. New messages arrive live from the
// stream (`notification`); the badge follows every change.
import { computed, onMounted, onUnmounted, ref, watch } from "vue";
import { useRoute, useRouter } from "vue-router";
import * as api from "../api.js";
import { shortDateTime } from "../format.js";
import AppBar from "../components/AppBar.js";
import { usePagedList } from "../components/pagedList.js";
import { actionProblem, isManager } from "../components/leads.js";
import { inbox, kindLabel, messageTarget } from "../components/notifications.js";

export default {
  name: "Inbox",
  components: { AppBar },
  setup() {
    const route = useRoute();
    const router = useRouter();
    const onlyUnread = computed(() => route.query.unread === "1");
    const filters = () => ({ unread: onlyUnread.value ? "true" : undefined, limit: 30 });
    const fetchPage = async (query) => {
      const page = await api.notifications(query);
      inbox.unread = page.unread;
      return page;
    };
    const { items, nextCursor, loading, loadingMore, failure, load, more } = usePagedList(fetchPage, filters);
    const problem = ref("");
    const busy = ref(false);

    watch(onlyUnread, () => { if (route.name === "inbox") load(); });
    const showUnread = (value) => router.replace({ query: value ? { unread: "1" } : {} });

    /** Mark read here and on the server; the badge takes the server's count. */
    async function markRead(ids) {
      const now = new Date().toISOString();
      for (const message of items.value) {
        if (!ids || ids.includes(message.id)) message.read_at ||= now;
      }
      inbox.unread = (await api.markRead(ids)).unread;
    }

    async function open(message) {
      problem.value = "";
      const target = messageTarget(message);
      try {
        if (!message.read_at) await markRead([message.id]);
      } catch (error) {
        if (!target) problem.value = actionProblem(error);  // going on anyway: reading it matters more
      }
      if (target) router.push(target);
    }

    async function markAll() {
      problem.value = "";
      busy.value = true;
      try {
        await markRead(null);
        if (onlyUnread.value) load();
      } catch (error) {
        problem.value = actionProblem(error);
      } finally {
        busy.value = false;
      }
    }

    let stream = null;
    onMounted(() => {
      load();
      stream = api.openStream({ notification: () => load({ keep: true }) });
    });
    onUnmounted(() => stream?.close());

    return { items, nextCursor, loading, loadingMore, more, failure, problem, busy, onlyUnread, showUnread,
             open, markAll, inbox, kindLabel, messageTarget, manager: computed(isManager),
             loadProblem: computed(() => (failure.value ? actionProblem(failure.value) : "")),
             when: (iso) => shortDateTime(iso) };
  },
  template: `
    <AppBar :title="$t('inbox.title')" />
    <main class="page inbox" id="main">
      <div class="actions">
        <div class="chips" role="group" :aria-label="$t('inbox.show')">
          <button type="button" class="chip-button" :aria-pressed="onlyUnread ? 'false' : 'true'" @click="showUnread(false)">{{ $t('inbox.all') }}</button>
          <button type="button" class="chip-button" :aria-pressed="onlyUnread ? 'true' : 'false'" @click="showUnread(true)">{{ $t('inbox.unreadOnly') }}</button>
        </div>
        <button type="button" class="button" :disabled="busy || !inbox.unread" @click="markAll">{{ $t('inbox.markAll') }}</button>
      </div>
      <p class="muted" role="status" data-unread-count>{{ inbox.unread === null ? '' : $t('inbox.unreadCount', { n: inbox.unread }) }}</p>
      <p class="problem" role="alert">{{ problem || loadProblem }}</p>
      <p v-if="loading && !items.length" class="note">{{ $t('inbox.loading') }}</p>
      <p v-else-if="!items.length && !loadProblem" class="note">{{ onlyUnread ? $t('inbox.noneUnread') : $t('inbox.empty') }}</p>
      <ul class="cards" :aria-busy="loading">
        <li v-for="message in items" :key="message.id">
          <a :href="messageTarget(message) || '#'" :class="['card', 'message', { 'message--unread': !message.read_at }]"
             :data-message="message.id" @click.prevent="open(message)">
            <span class="card__line card__line--first">
              <span v-if="!message.read_at" class="chip chip--new" data-unread-mark>{{ $t('inbox.unread') }}</span>
              <span class="card__name">{{ message.title }}</span>
            </span>
            <span v-if="message.body" class="message__body">{{ message.body }}</span>
            <span class="card__line card__line--muted">{{ kindLabel(message.kind) }} · {{ when(message.created_at) }}</span>
          </a>
        </li>
      </ul>
      <button v-if="nextCursor" type="button" class="button more" :disabled="loadingMore" @click="more">
        {{ loadingMore ? $t('inbox.loading') : $t('inbox.more') }}
      </button>
      <div class="links">
        <router-link :to="{ name: 'notificationSettings' }" class="link-row">{{ $t('inbox.settings') }}</router-link>
        <router-link v-if="manager" :to="{ name: 'channels' }" class="link-row">{{ $t('inbox.channels') }}</router-link>
      </div>
    </main>`,
};
