// A store's dead letters (managers): deliveries that failed for good, each
// with its channel, recipient, message, attempts and the last answer it
// got, ticked to be sent again (their attempts start over). Read again
// after a resend and with "refresh".
import { computed, ref, watch } from "vue";
import { useI18n } from "vue-i18n";
import * as api from "../api.js";
import { label } from "../i18n.js";
import { shortDateTime } from "../format.js";
import { actionProblem } from "./leads.js";
import { kindLabel } from "./notifications.js";

export default {
  name: "DeadLetters",
  props: {
    storeCode: { type: String, required: true },
  },
  setup(props) {
    const { t } = useI18n();
    const letters = ref(null);
    const chosen = ref(new Set());
    const busy = ref(false);
    const done = ref("");
    const problem = ref("");

    async function load() {
      problem.value = "";
      try {
        letters.value = await api.deadLetters(props.storeCode);
        chosen.value = new Set([...chosen.value].filter((id) => letters.value.some((letter) => letter.id === id)));
      } catch (error) {
        problem.value = actionProblem(error);
      }
    }
    watch(() => props.storeCode, () => {
      done.value = "";
      chosen.value = new Set();
      load();
    }, { immediate: true });

    function pick(id) {
      if (chosen.value.has(id)) chosen.value.delete(id);
      else chosen.value.add(id);
    }
    const allChosen = computed(() => Boolean(letters.value?.length) && chosen.value.size === letters.value.length);
    function pickAll() {
      chosen.value = allChosen.value ? new Set() : new Set(letters.value.map((letter) => letter.id));
    }
    async function resend() {
      done.value = problem.value = "";
      busy.value = true;
      try {
        const { resent } = await api.resendDeliveries([...chosen.value]);
        done.value = t("dead.resent", { n: resent });
        chosen.value = new Set();
        await load();
      } catch (error) {
        problem.value = actionProblem(error);
      } finally {
        busy.value = false;
      }
    }

    return { letters, chosen, busy, done, problem, load, pick, pickAll, allChosen, resend, label, kindLabel,
             when: (iso) => shortDateTime(iso, props.storeCode) };
  },
  template: `
    <section class="panel panel--wide" :aria-label="$t('dead.title')" data-dead-letters>
      <h2 class="panel__title">{{ $t('dead.title') }}</h2>
      <p class="muted">{{ $t('dead.hint') }}</p>
      <p v-if="letters && !letters.length" class="note">{{ $t('dead.none') }}</p>
      <template v-if="letters && letters.length">
        <label class="check"><input type="checkbox" :checked="allChosen" @change="pickAll"> {{ $t('dead.all', { n: letters.length }) }}</label>
        <ul class="cards">
          <li v-for="letter in letters" :key="letter.id" class="card dead" :data-delivery="letter.id">
            <label class="check">
              <input type="checkbox" :checked="chosen.has(letter.id)" @change="pick(letter.id)">
              <strong>{{ letter.title }}</strong>
            </label>
            <span class="card__line">{{ label('channelType', letter.channel) }}<template v-if="letter.channel_name"> · {{ letter.channel_name }}</template><template v-if="letter.recipient"> → {{ letter.recipient }}</template></span>
            <span class="card__line card__line--muted">{{ kindLabel(letter.kind) }} · {{ when(letter.created_at) }} · {{ $t('dead.attempts', { n: letter.attempts }) }}</span>
            <span v-if="letter.last_answer" class="answer">{{ $t('channels.lastAnswer') }} <samp>{{ letter.last_answer }}</samp></span>
          </li>
        </ul>
      </template>
      <div class="actions">
        <button type="button" class="button button--primary" :disabled="busy || !chosen.size" @click="resend">{{ $t('dead.resend', { n: chosen.size }) }}</button>
        <button type="button" class="button" @click="load">{{ $t('dead.refresh') }}</button>
      </div>
      <p class="notice" role="status">{{ done }}</p>
      <p class="problem" role="alert">{{ problem }}</p>
    </section>`,
};
