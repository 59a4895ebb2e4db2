// The top bar of every page: back, the page's title, the inbox with its
// unread count (live: a `notification` on the stream reads the count again;
// no sound, the chime is for new leads), language, sign-out; on the
// top-level pages (no back link) the tabs between them: leads, today's
// follow-ups, test drives, customers, and for managers the store's lead
// management and the analytics dashboard.
import { computed, onMounted, onUnmounted } from "vue";
import { useRouter } from "vue-router";
import * as api from "../api.js";
import LanguageSwitch from "./LanguageSwitch.js";
import { inbox, refreshUnread } from "./notifications.js";

export default {
  name: "AppBar",
  components: { LanguageSwitch },
  props: {
    title: { type: String, required: true },
    back: { type: [String, Object], default: null },  // a route: shows the back link
  },
  setup() {
    const router = useRouter();
    async function signOut() {
      await api.signOut();
      router.replace({ name: "signin", query: { signedOut: "1" } });
    }
    const manager = computed(() => ["manager", "group_admin"].includes(api.session.user?.role));
    let stream = null;
    onMounted(() => {
      // on a narrow phone the tabs may scroll sideways: the page's own tab is shown
      document.querySelector(".tabs__tab--on")?.scrollIntoView({ block: "nearest", inline: "nearest" });
      if (!api.signedIn()) return;
      refreshUnread();
      stream = api.openStream({ notification: refreshUnread });
    });
    onUnmounted(() => stream?.close());
    return { session: api.session, signOut, manager, inbox };
  },
  template: `
    <header class="bar">
      <router-link v-if="back" :to="back" class="bar__back" :aria-label="$t('bar.back')">
        <span aria-hidden="true">‹</span>
      </router-link>
      <h1 class="bar__title">{{ title }}</h1>
      <router-link v-if="session.user" :to="{ name: 'inbox' }" class="bar__action bar__inbox" data-inbox
                   :data-unread-known="inbox.unread === null ? null : ''"
                   :aria-label="inbox.unread ? $t('bar.inboxUnread', { n: inbox.unread }) : $t('bar.inbox')">
        <svg class="bar__bell" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
          <path d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z"/>
        </svg>
        <span v-if="inbox.unread" class="bar__count" data-unread aria-hidden="true">{{ inbox.unread > 99 ? '99+' : inbox.unread }}</span>
      </router-link>
      <LanguageSwitch />
      <button v-if="session.user" type="button" class="bar__action" @click="signOut">
        {{ $t('bar.signOut') }}
      </button>
    </header>
    <nav v-if="!back && session.user" class="tabs" :aria-label="$t('bar.sections')">
      <router-link :to="{ name: 'leads' }" class="tabs__tab" exact-active-class="tabs__tab--on">{{ $t('bar.leads') }}</router-link>
      <router-link :to="{ name: 'today' }" class="tabs__tab" active-class="tabs__tab--on">{{ $t('bar.today') }}</router-link>
      <router-link :to="{ name: 'testDrives' }" class="tabs__tab" active-class="tabs__tab--on">{{ $t('bar.testDrives') }}</router-link>
      <router-link :to="{ name: 'customers' }" class="tabs__tab" active-class="tabs__tab--on">{{ $t('bar.customers') }}</router-link>
      <router-link v-if="manager" :to="{ name: 'manage' }" class="tabs__tab" active-class="tabs__tab--on">{{ $t('bar.manage') }}</router-link>
      <router-link v-if="manager" :to="{ name: 'analytics' }" class="tabs__tab" active-class="tabs__tab--on">{{ $t('bar.analytics') }}</router-link>
    </nav>`,
};
