// A store's notification channels (managers; group admins for any store):
// each robot, SMTP server and webhook with its state in words (working,
// resting after failures until a time, trying again), the last answer it
// gave and its rate limit; add, change or delete one
// (components/ChannelForm.js); "send a test message" shows what the
// channel really answered (a robot's errcode, an SMTP reply, a webhook's
// status), as it said it. Whether escalations and SLA warnings break
// through people's quiet hours in this store. Below, the store's dead
// letters with resend (components/DeadLetters.js). The store is kept in
// the URL (?store=).
import { computed, ref, watch } from "vue";
import { useI18n } from "vue-i18n";
import { useRoute, useRouter } from "vue-router";
import * as api from "../api.js";
import { label } from "../i18n.js";
import { shortDateTime } from "../format.js";
import AppBar from "../components/AppBar.js";
import ChannelForm from "../components/ChannelForm.js";
import DeadLetters from "../components/DeadLetters.js";
import { actionProblem, isManager } from "../components/leads.js";

export default {
  name: "Channels",
  components: { AppBar, ChannelForm, DeadLetters },
  setup() {
    const { t } = useI18n();
    const route = useRoute();
    const router = useRouter();
    const stores = computed(() => api.session.user?.stores || []);
    const storeCode = computed(() => route.query.store || stores.value[0]?.code || "");
    const channels = ref(null);
    const problem = ref("");
    const editing = ref(null);     // a channel's id, "new", or null
    const deleting = ref(null);
    const tests = ref({});         // channel id -> {busy} | {ok, outcome, answer} | {problem}

    const urgent = ref(null);       // the store's urgent_breaks_quiet
    const urgentDone = ref("");
    const urgentProblem = ref("");

    async function load() {
      problem.value = urgentDone.value = urgentProblem.value = "";
      channels.value = urgent.value = null;
      try {
        const [found, settings] = await Promise.all([api.storeChannels(storeCode.value),
                                                     api.storeNotificationSettings(storeCode.value)]);
        channels.value = found;
        urgent.value = settings.urgent_breaks_quiet;
      } catch (error) {
        problem.value = actionProblem(error);
      }
    }
    async function saveUrgent(value) {
      urgentDone.value = urgentProblem.value = "";
      try {
        urgent.value = (await api.saveStoreNotificationSettings(storeCode.value, value)).urgent_breaks_quiet;
        urgentDone.value = t("channels.urgentSaved");
      } catch (error) {
        urgentProblem.value = actionProblem(error);
      }
    }
    watch(storeCode, (code) => {
      editing.value = deleting.value = null;
      tests.value = {};
      if (code && isManager()) load();
    }, { immediate: true });
    const chooseStore = (code) => router.replace({ query: { store: code } });

    function saved(channel) {
      const list = channels.value || [];
      channels.value = list.some((each) => each.id === channel.id)
        ? list.map((each) => (each.id === channel.id ? channel : each)) : [...list, channel];
      editing.value = null;
    }
    async function remove(channel) {
      problem.value = "";
      try {
        await api.deleteChannel(channel.id);
        channels.value = channels.value.filter((each) => each.id !== channel.id);
        deleting.value = null;
      } catch (error) {
        problem.value = actionProblem(error);
      }
    }
    async function test(channel) {
      tests.value = { ...tests.value, [channel.id]: { busy: true } };
      let result;
      try {
        result = await api.testChannel(channel.id);
      } catch (error) {
        result = { problem: actionProblem(error) };
      }
      tests.value = { ...tests.value, [channel.id]: result };
      if (!result.problem) channels.value = await api.storeChannels(storeCode.value).catch(() => channels.value);
    }

    /** A channel's state in words: never colour alone. */
    function state(channel) {
      if (!channel.enabled) return t("channels.off");
      const circuit = channel.circuit || { state: "closed" };
      if (circuit.state === "open") {
        return t("channels.resting", { n: circuit.failures, at: shortDateTime(circuit.open_until, channel.store_code) });
      }
      if (circuit.state === "half_open") return t("channels.trying");
      return t("channels.working");
    }

    return { stores, storeCode, chooseStore, channels, problem, editing, deleting, tests, saved, remove, test, state,
             urgent, urgentDone, urgentProblem, saveUrgent,
             label, manager: computed(isManager) };
  },
  template: `
    <AppBar :title="$t('channels.title')" :back="{ name: 'manage', query: { store: storeCode } }" />
    <main class="page" id="main">
      <p v-if="!manager" class="note">{{ $t('manage.managersOnly') }}</p>
      <template v-else>
        <div class="field field--store">
          <label for="channels-store">{{ $t('manage.store') }}</label>
          <select id="channels-store" :value="storeCode" @change="chooseStore($event.target.value)">
            <option v-for="s in stores" :key="s.code" :value="s.code">{{ s.name }}</option>
          </select>
        </div>
        <p class="muted">{{ $t('channels.hint') }}</p>
        <p class="problem" role="alert">{{ problem }}</p>
        <div class="sections">
          <section class="panel panel--wide" :aria-label="$t('channels.list')">
            <h2 class="panel__title">{{ $t('channels.list') }}</h2>
            <p v-if="channels === null && !problem" class="note">{{ $t('channels.loading') }}</p>
            <p v-else-if="channels && !channels.length" class="note">{{ $t('channels.none') }}</p>
            <ul v-if="channels && channels.length" class="cards">
              <li v-for="channel in channels" :key="channel.id" class="card channel" :data-channel="channel.id">
                <span class="card__line card__line--first">
                  <span class="card__name">{{ channel.name }}</span>
                  <span class="tag">{{ label('channelType', channel.type) }}</span>
                </span>
                <span :class="['channel__state', 'channel__state--' + (channel.enabled ? (channel.circuit?.state || 'closed') : 'off')]"
                      data-state>{{ state(channel) }}</span>
                <span v-if="channel.url" class="card__line card__line--muted">{{ channel.url }}</span>
                <span v-if="channel.rate_per_minute" class="card__line card__line--muted">{{ $t('channels.rate', { n: channel.rate_per_minute }) }}</span>
                <span v-if="channel.last_answer && !tests[channel.id]" class="answer">{{ $t('channels.lastAnswer') }} <samp>{{ channel.last_answer }}</samp></span>
                <div class="actions">
                  <button type="button" class="button" :disabled="tests[channel.id]?.busy" @click="test(channel)">
                    {{ tests[channel.id]?.busy ? $t('channels.testing') : $t('channels.test') }}</button>
                  <button type="button" class="button" :aria-label="$t('channels.editNamed', { name: channel.name })"
                          @click="editing = channel.id">{{ $t('channels.edit') }}</button>
                  <button v-if="deleting !== channel.id" type="button" class="button button--danger"
                          :aria-label="$t('channels.deleteNamed', { name: channel.name })" @click="deleting = channel.id">{{ $t('channels.delete') }}</button>
                  <button v-else type="button" class="button button--danger-solid" @click="remove(channel)">{{ $t('channels.deleteSure') }}</button>
                </div>
                <div class="test-result" role="status" data-test-result>
                  <template v-if="tests[channel.id] && !tests[channel.id].busy">
                    <p v-if="tests[channel.id].problem" class="problem">{{ tests[channel.id].problem }}</p>
                    <template v-else>
                      <strong :class="tests[channel.id].ok ? 'test-result--ok' : 'test-result--failed'">{{ tests[channel.id].ok ? $t('channels.testOk') : $t('channels.testFailed', { outcome: label('sendOutcome', tests[channel.id].outcome) }) }}</strong>
                      <span>{{ $t('channels.answer') }} <samp data-answer>{{ tests[channel.id].answer }}</samp></span>
                    </template>
                  </template>
                </div>
                <ChannelForm v-if="editing === channel.id" :store-code="storeCode" :channel="channel"
                             @saved="saved" @cancel="editing = null" />
              </li>
            </ul>
            <ChannelForm v-if="editing === 'new'" :key="storeCode" :store-code="storeCode" @saved="saved" @cancel="editing = null" />
            <button v-else type="button" class="button button--primary" @click="editing = 'new'">{{ $t('channels.add') }}</button>
          </section>
          <section v-if="urgent !== null" class="panel" :aria-label="$t('channels.quiet')">
            <h2 class="panel__title">{{ $t('channels.quiet') }}</h2>
            <label class="check"><input type="checkbox" :checked="urgent" @change="saveUrgent($event.target.checked)">
              {{ $t('channels.urgentBreaks') }}</label>
            <p class="muted">{{ $t('channels.urgentHint') }}</p>
            <p class="notice" role="status">{{ urgentDone }}</p>
            <p class="problem" role="alert">{{ urgentProblem }}</p>
          </section>
          <DeadLetters v-if="storeCode" :store-code="storeCode" />
        </div>
      </template>
    </main>`,
};
