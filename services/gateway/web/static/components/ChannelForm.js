// A store channel's form (managers), new or changed: the type (WeCom,
// DingTalk or Feishu group robot, the store's SMTP server, a signed
// webhook), its name, address, secret, SMTP settings, the kinds of message
// it carries and whether it is on. Secrets are write-only: a saved one is
// never shown ("saved; type to replace") and is sent only when typed. A
// robot's address holds its key, so the API answers it masked: on a change
// it too is sent only when typed. A 422's errors show at their fields.
import { computed, ref } from "vue";
import { useI18n } from "vue-i18n";
import * as api from "../api.js";
import { label } from "../i18n.js";
import { messagesAt } from "./customers.js";
import { actionProblem } from "./leads.js";
import { KINDS, STORE_CHANNEL_TYPES } from "./notifications.js";

const SECURITY = ["starttls", "ssl", "none"];   // how the SMTP connection is protected

/** The form's fields of a channel (or of a new one of `type`). */
function fieldsOf(channel, type = "wecom") {
  const settings = channel?.settings || {};
  return {
    type: channel?.type || type, name: channel?.name || "", url: "", secret: "",
    host: settings.host || "", port: settings.port ? String(settings.port) : "", username: settings.username || "",
    sender: settings.sender || "",
    security: settings.ssl ? "ssl" : settings.starttls === false ? "none" : "starttls",
    kinds: new Set(channel?.kinds || KINDS), enabled: channel ? channel.enabled !== false : true,
  };
}

export default {
  name: "ChannelForm",
  props: {
    storeCode: { type: String, required: true },
    channel: { type: Object, default: null },   // null: a new channel
  },
  emits: ["saved", "cancel"],
  setup(props, { emit }) {
    const { t } = useI18n();
    const form = ref(fieldsOf(props.channel));
    const busy = ref(false);
    const problem = ref("");
    const errors = ref(null);
    const editing = computed(() => Boolean(props.channel));
    const isEmail = computed(() => form.value.type === "email");
    const hasSecret = computed(() => form.value.type !== "wecom");  // WeCom's key is in its address

    function settings() {
      const f = form.value;
      const port = f.port.trim();
      return { host: f.host.trim(), port: /^\d+$/.test(port) ? Number(port) : port || undefined,
               username: f.username.trim() || undefined, sender: f.sender.trim(),
               starttls: f.security === "starttls", ssl: f.security === "ssl" };
    }
    function body() {
      const f = form.value;
      const out = { name: f.name.trim(), kinds: KINDS.filter((kind) => f.kinds.has(kind)), enabled: f.enabled };
      if (!editing.value) out.type = f.type;
      if (isEmail.value) out.settings = settings();
      else if (f.url.trim() || !editing.value) out.url = f.url.trim();
      if (hasSecret.value && f.secret) out.secret = f.secret;
      return out;
    }
    async function save() {
      problem.value = "";
      errors.value = null;
      busy.value = true;
      try {
        const saved = editing.value ? await api.changeChannel(props.channel.id, body())
          : await api.addChannel(props.storeCode, body());
        emit("saved", saved);
      } catch (error) {
        if (error.status === 422 && error.errors) {
          errors.value = error.errors;
          problem.value = t("channels.invalid");
        } else {
          problem.value = actionProblem(error);
        }
      } finally {
        busy.value = false;
      }
    }
    function toggleKind(kind) {
      if (form.value.kinds.has(kind)) form.value.kinds.delete(kind);
      else form.value.kinds.add(kind);
    }
    const errorAt = (...path) => messagesAt(errors.value, ...path).join(" ");
    // the settings as a whole (a list), or a field of them: each shown once, where it belongs
    const settingsError = computed(() => (Array.isArray(errors.value?.settings) ? errorAt("settings")
      : errorAt("settings", "_schema")));
    const secretLabel = computed(() => t("channels.secretFor." + form.value.type));
    const urlHint = computed(() => t("channels.urlFor." + form.value.type));

    return { form, busy, problem, save, editing, isEmail, hasSecret, toggleKind, errorAt, settingsError, secretLabel, urlHint,
             label, KINDS, STORE_CHANNEL_TYPES, SECURITY, id: props.channel?.id || "new" };
  },
  template: `
    <form class="form channel-form" novalidate @submit.prevent="save" :aria-label="editing ? $t('channels.editTitle') : $t('channels.addTitle')">
      <fieldset v-if="!editing" class="field">
        <legend>{{ $t('channels.type') }}</legend>
        <div class="chips">
          <button v-for="type in STORE_CHANNEL_TYPES" :key="type" type="button" class="chip-button" :data-type="type"
                  :aria-pressed="form.type === type ? 'true' : 'false'" @click="form.type = type">{{ label('channelType', type) }}</button>
        </div>
      </fieldset>
      <p v-else class="muted">{{ label('channelType', form.type) }}</p>
      <div class="field">
        <label :for="'channel-name-' + id">{{ $t('channels.name') }}</label>
        <input :id="'channel-name-' + id" v-model="form.name" maxlength="80" autocomplete="off" :placeholder="$t('channels.nameHint')"
               :aria-invalid="errorAt('name') ? 'true' : 'false'" :aria-describedby="'channel-name-error-' + id">
        <span :id="'channel-name-error-' + id" class="field__error">{{ errorAt('name') }}</span>
      </div>
      <div v-if="!isEmail" class="field">
        <label :for="'channel-url-' + id">{{ $t('channels.url') }}</label>
        <input :id="'channel-url-' + id" v-model="form.url" type="url" inputmode="url" maxlength="1000" autocomplete="off"
               :placeholder="editing && channel.url ? $t('channels.urlSaved', { url: channel.url }) : urlHint"
               :aria-invalid="errorAt('url') ? 'true' : 'false'" :aria-describedby="'channel-url-error-' + id">
        <span :id="'channel-url-error-' + id" class="field__error">{{ errorAt('url') }}</span>
      </div>
      <template v-if="isEmail">
        <div class="pair">
          <div class="field">
            <label :for="'smtp-host-' + id">{{ $t('channels.host') }}</label>
            <input :id="'smtp-host-' + id" v-model="form.host" autocomplete="off" placeholder="smtp.exmail.qq.com"
                   :aria-invalid="errorAt('settings', 'host') ? 'true' : 'false'">
            <span class="field__error">{{ errorAt('settings', 'host') }}</span>
          </div>
          <div class="field">
            <label :for="'smtp-port-' + id">{{ $t('channels.port') }}</label>
            <input :id="'smtp-port-' + id" v-model="form.port" inputmode="numeric" placeholder="465"
                   :aria-invalid="errorAt('settings', 'port') ? 'true' : 'false'">
            <span class="field__error">{{ errorAt('settings', 'port') }}</span>
          </div>
          <div class="field">
            <label :for="'smtp-user-' + id">{{ $t('channels.username') }}</label>
            <input :id="'smtp-user-' + id" v-model="form.username" autocomplete="off">
          </div>
          <div class="field">
            <label :for="'smtp-sender-' + id">{{ $t('channels.sender') }}</label>
            <input :id="'smtp-sender-' + id" v-model="form.sender" type="email" autocomplete="off" placeholder="crm@dealer.example"
                   :aria-invalid="errorAt('settings', 'sender') ? 'true' : 'false'">
            <span class="field__error">{{ errorAt('settings', 'sender') }}</span>
          </div>
        </div>
        <fieldset class="field">
          <legend>{{ $t('channels.security') }}</legend>
          <div class="chips">
            <button v-for="way in SECURITY" :key="way" type="button" class="chip-button"
                    :aria-pressed="form.security === way ? 'true' : 'false'" @click="form.security = way">{{ $t('channels.securityWay.' + way) }}</button>
          </div>
        </fieldset>
        <span class="field__error">{{ settingsError }}</span>
      </template>
      <div v-if="hasSecret" class="field">
        <label :for="'channel-secret-' + id">{{ secretLabel }}</label>
        <input :id="'channel-secret-' + id" v-model="form.secret" type="password" autocomplete="new-password" maxlength="500"
               :placeholder="editing && channel.has_secret ? $t('channels.secretSaved') : ''"
               :aria-invalid="errorAt('secret') ? 'true' : 'false'" :aria-describedby="'channel-secret-error-' + id">
        <span :id="'channel-secret-error-' + id" class="field__error">{{ errorAt('secret') }}</span>
      </div>
      <fieldset class="field">
        <legend>{{ $t('channels.kinds') }}</legend>
        <div class="chips">
          <button v-for="kind in KINDS" :key="kind" type="button" class="chip-button"
                  :aria-pressed="form.kinds.has(kind) ? 'true' : 'false'" @click="toggleKind(kind)">{{ label('notificationKind', kind) }}</button>
        </div>
        <span class="field__error">{{ errorAt('kinds') }}</span>
      </fieldset>
      <label class="check"><input type="checkbox" v-model="form.enabled"> {{ $t('channels.enabled') }}</label>
      <p class="problem" role="alert">{{ problem }}</p>
      <div class="actions">
        <button type="submit" class="button button--primary" :disabled="busy">{{ $t('channels.save') }}</button>
        <button type="button" class="button" @click="$emit('cancel')">{{ $t('channels.cancel') }}</button>
      </div>
    </form>`,
};
