// Notification settings (通知设置), the caller's own: the messages'
// language, for each kind of message the channels that carry it (chips;
// the inbox always does), quiet hours (both ends or none; urgent kinds may
// break through where the store allows), how the store's robots mention
// them, and Web Push on this device (components/webPush.js), which says
// plainly when the browser has no push, blocks it or its push service
// refuses. A 422's errors show at their fields.
import { computed, onMounted, ref } from "vue";
import { useI18n } from "vue-i18n";
import * as api from "../api.js";
import { label } from "../i18n.js";
import AppBar from "../components/AppBar.js";
import { messagesAt } from "../components/customers.js";
import { actionProblem } from "../components/leads.js";
import { KINDS, USER_CHANNELS } from "../components/notifications.js";
import { currentSubscription, disablePush, enablePush, pushSupported } from "../components/webPush.js";

const LANGUAGES = ["zh", "en"];

export default {
  name: "NotificationSettings",
  components: { AppBar },
  setup() {
    const { t } = useI18n();
    const loaded = ref(null);         // the preferences as the API answered
    const form = ref(null);
    const busy = ref(false);
    const done = ref("");
    const problem = ref("");
    const errors = ref(null);

    function show(found) {
      loaded.value = found;
      const channels = Object.fromEntries(KINDS.map((kind) => [kind, new Set(["inapp", ...(found.channels?.[kind] || [])])]));
      form.value = { language: found.language || "zh", channels, quietStart: found.quiet_start || "",
                     quietEnd: found.quiet_end || "", mention: found.mention || "" };
    }
    async function load() {
      problem.value = "";
      try {
        show(await api.notificationPreferences());
      } catch (error) {
        problem.value = actionProblem(error);
      }
    }

    const carries = (kind, channel) => form.value.channels[kind].has(channel);
    function toggle(kind, channel) {
      if (channel === "inapp") return;  // the inbox always carries everything
      const chosen = form.value.channels[kind];
      if (chosen.has(channel)) chosen.delete(channel);
      else chosen.add(channel);
    }

    async function save() {
      done.value = problem.value = "";
      errors.value = null;
      const f = form.value;
      if (Boolean(f.quietStart) !== Boolean(f.quietEnd)) {
        errors.value = { quiet_end: [t("notify.quietBoth")] };
        problem.value = t("notify.invalid");
        return;
      }
      busy.value = true;
      try {
        show(await api.saveNotificationPreferences({
          language: f.language,
          channels: Object.fromEntries(KINDS.map((kind) => [kind, USER_CHANNELS.filter((c) => f.channels[kind].has(c))])),
          quiet_start: f.quietStart || null,
          quiet_end: f.quietEnd || null,
          mention: f.mention.trim() || null,
        }));
        done.value = t("notify.saved");
      } catch (error) {
        if (error.status === 422 && error.errors) {
          errors.value = error.errors;
          problem.value = t("notify.invalid");
        } else {
          problem.value = actionProblem(error);
        }
      } finally {
        busy.value = false;
      }
    }
    const errorAt = (name) => messagesAt(errors.value, name).join(" ");

    // -- Web Push on this device ---------------------------------------------------
    const supported = pushSupported();
    const subscribed = ref(false);
    const pushBusy = ref(false);
    const pushDone = ref("");
    const pushProblem = ref("");
    function pushFailure(error) {
      if (error.reason === "unsupported") return t("push.unsupported");
      if (error.reason === "denied") return t("push.denied");
      if (error.reason === "refused") return t("push.refused", { reason: error.detail });
      return actionProblem(error);
    }
    async function setPush(on) {
      pushDone.value = pushProblem.value = "";
      pushBusy.value = true;
      try {
        const answer = on ? await enablePush() : await disablePush();
        subscribed.value = on;
        if (answer && loaded.value) loaded.value = { ...loaded.value, push_devices: answer.push_devices };
        pushDone.value = on ? t("push.on") : t("push.off");
      } catch (error) {
        pushProblem.value = pushFailure(error);
      } finally {
        pushBusy.value = false;
      }
    }

    onMounted(async () => {
      load();
      subscribed.value = Boolean(await currentSubscription());
    });

    return { loaded, form, busy, done, problem, save, errorAt, carries, toggle, KINDS, USER_CHANNELS, LANGUAGES, label,
             supported, subscribed, pushBusy, pushDone, pushProblem, setPush,
             devices: computed(() => loaded.value?.push_devices ?? 0) };
  },
  template: `
    <AppBar :title="$t('notify.title')" :back="{ name: 'inbox' }" />
    <main class="page page--form" id="main">
      <p class="problem" role="alert">{{ problem }}</p>
      <form v-if="form" class="form panel" novalidate @submit.prevent="save">
        <fieldset class="field">
          <legend>{{ $t('notify.language') }}</legend>
          <div class="chips">
            <button v-for="code in LANGUAGES" :key="code" type="button" class="chip-button" :data-language="code"
                    :aria-pressed="form.language === code ? 'true' : 'false'" @click="form.language = code">{{ $t('notify.lang.' + code) }}</button>
          </div>
          <span class="field__error">{{ errorAt('language') }}</span>
        </fieldset>

        <fieldset class="field">
          <legend>{{ $t('notify.channels') }}</legend>
          <p class="hint">{{ $t('notify.channelsHint') }}</p>
          <ul class="plain hint">
            <li v-for="channel in USER_CHANNELS" :key="channel"><strong>{{ label('userChannelShort', channel) }}</strong>: {{ label('userChannel', channel) }}</li>
          </ul>
          <div v-for="kind in KINDS" :key="kind" class="chip-group" role="group" :aria-labelledby="'kind-' + kind" :data-kind="kind">
            <span :id="'kind-' + kind" class="chip-group__name">{{ label('notificationKind', kind) }}</span>
            <div class="chips">
              <button v-for="channel in USER_CHANNELS" :key="channel" type="button" class="chip-button" :data-channel="channel"
                      :aria-pressed="carries(kind, channel) ? 'true' : 'false'" :disabled="channel === 'inapp'"
                      @click="toggle(kind, channel)">{{ label('userChannelShort', channel) }}</button>
            </div>
          </div>
          <span class="field__error">{{ errorAt('channels') }}</span>
        </fieldset>

        <fieldset class="field">
          <legend>{{ $t('notify.quiet') }}</legend>
          <p class="hint">{{ $t('notify.quietHint') }}</p>
          <div class="pair">
            <div class="field">
              <label for="quiet-start">{{ $t('notify.quietStart') }}</label>
              <input id="quiet-start" v-model="form.quietStart" type="time"
                     :aria-invalid="errorAt('quiet_start') ? 'true' : 'false'" aria-describedby="quiet-start-error">
              <span id="quiet-start-error" class="field__error">{{ errorAt('quiet_start') }}</span>
            </div>
            <div class="field">
              <label for="quiet-end">{{ $t('notify.quietEnd') }}</label>
              <input id="quiet-end" v-model="form.quietEnd" type="time"
                     :aria-invalid="errorAt('quiet_end') ? 'true' : 'false'" aria-describedby="quiet-end-error">
              <span id="quiet-end-error" class="field__error">{{ errorAt('quiet_end') }}</span>
            </div>
          </div>
          <button v-if="form.quietStart || form.quietEnd" type="button" class="button button--quiet"
                  @click="form.quietStart = form.quietEnd = ''">{{ $t('notify.noQuiet') }}</button>
        </fieldset>

        <div class="field">
          <label for="mention">{{ $t('notify.mention') }}</label>
          <input id="mention" v-model="form.mention" maxlength="64" autocomplete="off" inputmode="text"
                 :aria-invalid="errorAt('mention') ? 'true' : 'false'" aria-describedby="mention-hint mention-error">
          <span id="mention-hint" class="hint">{{ $t('notify.mentionHint') }}</span>
          <span id="mention-error" class="field__error">{{ errorAt('mention') }}</span>
        </div>

        <p class="muted">{{ loaded.email ? $t('notify.emailTo', { email: loaded.email }) : $t('notify.noEmail') }}</p>
        <button type="submit" class="button button--primary" :disabled="busy">{{ $t('notify.save') }}</button>
        <p class="notice" role="status">{{ done }}</p>
      </form>

      <section class="panel" :aria-label="$t('push.title')">
        <h2 class="panel__title">{{ $t('push.title') }}</h2>
        <p class="muted">{{ $t('push.hint') }}</p>
        <p v-if="!supported" class="note">{{ $t('push.unsupported') }}</p>
        <template v-else>
          <p class="muted" data-push-devices>{{ $t('push.devices', { n: devices }) }}</p>
          <button v-if="!subscribed" type="button" class="button button--primary" :disabled="pushBusy" @click="setPush(true)">{{ $t('push.enable') }}</button>
          <button v-else type="button" class="button" :disabled="pushBusy" @click="setPush(false)">{{ $t('push.disable') }}</button>
        </template>
        <p class="notice" role="status">{{ pushDone }}</p>
        <p class="problem" role="alert">{{ pushProblem }}</p>
      </section>
    </main>`,
};
