// The top bar of every page: back, the page's title, language, sign-out;
// on the top-level pages (no back link) the tabs between them: leads,
// today's follow-ups, test drives, customers, and for managers the store's lead management.
import { computed } from "vue";
import { useRouter } from "vue-router";
import * as api from "../api.js";
import LanguageSwitch from "./LanguageSwitch.js";

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
    return { session: api.session, signOut, manager };
  },
  template: `
    <header class="bar">
      <router-link v-if="back" :to="back" class="bar__back" :aria-label="$t('bar.back')">
        <span aria-hidden="true">‹</span>
      </router-link>
      <h1 class="bar__title">{{ title }}</h1>
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
    </nav>`,
};
