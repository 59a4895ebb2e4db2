// Sign in: username and password; says why it failed (wrong password,
// locked and for how long, no connection).
import { computed, reactive, ref } from "vue";
import { useI18n } from "vue-i18n";
import { useRoute, useRouter } from "vue-router";
import * as api from "../api.js";
import AppBar from "../components/AppBar.js";

/** Only a path of this app (never another site) is followed after sign-in. */
function nextPage(next) {
  return typeof next === "string" && next.startsWith("/") && !next.startsWith("//") ? next : { name: "leads" };
}

export default {
  name: "SignIn",
  components: { AppBar },
  setup() {
    const { t } = useI18n();
    const route = useRoute();
    const router = useRouter();
    const form = reactive({ username: "", password: "" });
    const busy = ref(false);
    const failure = ref(null);
    const password = ref(null);

    const problem = computed(() => {
      const error = failure.value;
      if (!error) return "";
      if (error.status === 401) return t("signin.wrong");
      if (error.status === 429) {
        return t("signin.locked", { minutes: Math.max(1, Math.ceil((error.retryAfter || 60) / 60)) });
      }
      if (error.unreachable) return t("signin.offline");
      return t("signin.failed", { reason: error.description || error.title || error.status });
    });

    async function submit() {
      busy.value = true;
      failure.value = null;
      try {
        await api.signIn(form.username.trim(), form.password);
        router.replace(nextPage(route.query.next));
      } catch (error) {
        failure.value = error;
        if (error.status === 401) {
          form.password = "";
          password.value?.focus();
        }
      } finally {
        busy.value = false;
      }
    }

    return { form, busy, failure, problem, password, submit, signedOut: computed(() => route.query.signedOut) };
  },
  template: `
    <AppBar :title="$t('app.name')" />
    <main class="page page--narrow" id="main">
      <form class="panel signin" @submit.prevent="submit" novalidate>
        <h2 class="panel__title">{{ $t('signin.title') }}</h2>
        <p v-if="signedOut && !failure" class="note" role="status">{{ $t('signin.signedOut') }}</p>
        <div class="field">
          <label for="username">{{ $t('signin.username') }}</label>
          <input id="username" v-model="form.username" name="username" autocomplete="username"
                 autocapitalize="none" spellcheck="false" required :aria-invalid="!!failure"
                 aria-describedby="signin-problem">
        </div>
        <div class="field">
          <label for="password">{{ $t('signin.password') }}</label>
          <input id="password" ref="password" v-model="form.password" type="password" name="password"
                 autocomplete="current-password" required :aria-invalid="!!failure"
                 aria-describedby="signin-problem">
        </div>
        <p id="signin-problem" class="problem" role="alert">{{ problem }}</p>
        <button type="submit" class="button button--primary" :disabled="busy">
          {{ busy ? $t('signin.submitting') : $t('signin.submit') }}
        </button>
      </form>
    </main>`,
};
