// A store's wording of a script, or a new script only the store has
// (managers): the titles and texts in Chinese and English, the situation,
// the stages and channels it fits as chips; a new one gets an id made from
// its title until one is typed. Saved with PUT /v1/admin/scripts/{store}/{id}
// (the group's script stays, to go back to); a 422 names its field
// ("texts.zh", "stages", "id"): shown there (the API's words, in English). Emits "saved" (the page reads
// the library again) or "cancel".
import { computed, ref, watch } from "vue";
import { useI18n } from "vue-i18n";
import * as api from "../api.js";
import { label } from "../i18n.js";
import { messagesAt } from "./customers.js";
import { RECORD_CHANNELS } from "./followups.js";
import { actionProblem, STAGES } from "./leads.js";
import { PLACEHOLDERS, SITUATIONS, slugFor } from "./scriptLibrary.js";

const LANGS = ["zh", "en"];
const PLACED = /^(id|situation|stages|texts|title|channels)(\.(zh|en)|\[\d+\])?$/;

export default {
  name: "ScriptForm",
  props: {
    storeCode: { type: String, required: true },
    script: { type: Object, default: null },           // a library entry; none: a new script
    taken: { type: Array, default: () => [] },         // the library's ids (a new one must differ)
    situations: { type: Array, default: () => [] },    // situations the library has beyond the built-in ones
  },
  emits: ["saved", "cancel"],
  setup(props, { emit }) {
    const { t } = useI18n();
    const uid = props.script?.id || "new";
    const from = props.script || {};
    const form = ref({
      id: "",
      situation: from.situation || "first_contact",
      stages: new Set(from.stages || []),
      channels: new Set(from.channels || []),
      texts: { zh: from.texts?.zh || "", en: from.texts?.en || "" },
      title: { zh: from.title?.zh || "", en: from.title?.en || "" },
    });
    const idTyped = ref(false);
    const busy = ref(false);
    const problem = ref("");
    const errors = ref(null);
    const idProblem = ref("");

    const suggestedId = computed(() => slugFor(form.value.title.en, form.value.situation, props.taken));
    if (!props.script) {
      watch(suggestedId, (id) => { if (!idTyped.value) form.value.id = id; }, { immediate: true });
    }
    const situationChoices = computed(() => [...new Set([...SITUATIONS, ...props.situations, form.value.situation])]);

    function toggle(set, value) {
      if (set.has(value)) set.delete(value);
      else set.add(value);
    }
    function typedId(value) {
      idTyped.value = true;
      form.value.id = value.trim();
    }

    /** The messages at a field: "texts.zh" exactly; "stages" with its items ("stages[1]"). */
    function errorAt(field, items = false) {
      const found = errors.value || {};
      const keys = Object.keys(found).filter((name) => name === field || (items && name.startsWith(field + "[")));
      return keys.flatMap((name) => messagesAt(found, name)).join(" ");
    }

    async function save() {
      problem.value = idProblem.value = "";
      errors.value = null;
      const id = props.script ? props.script.id : form.value.id;
      if (!props.script && (!id || props.taken.includes(id))) {
        idProblem.value = t(id ? "library.idTaken" : "library.idNeeded");
        problem.value = t("library.invalid");
        return;
      }
      const pick = (pair) => Object.fromEntries(LANGS.map((lang) => [lang, pair[lang].trim()]).filter(([, text]) => text));
      const title = pick(form.value.title);
      const body = {
        situation: form.value.situation,
        stages: STAGES.filter((stage) => form.value.stages.has(stage)),
        texts: pick(form.value.texts),
        title: Object.keys(title).length ? title : null,
        addresses: from.addresses || [],
        channels: RECORD_CHANNELS.filter((channel) => form.value.channels.has(channel)),
        hidden: false,
      };
      busy.value = true;
      try {
        await api.saveStoreScript(props.storeCode, id, body);
        emit("saved", id);
      } catch (error) {
        if (error.status === 422 && error.errors) {
          errors.value = error.errors;
          const elsewhere = Object.keys(error.errors).filter((name) => !PLACED.test(name))
            .flatMap((name) => messagesAt(error.errors, name));
          problem.value = [t("library.invalid"), ...elsewhere].join(" ");
        } else {
          problem.value = actionProblem(error);
        }
      } finally {
        busy.value = false;
      }
    }

    return { uid, form, busy, problem, idProblem, save, toggle, typedId, errorAt, label, situationChoices,
             STAGES, RECORD_CHANNELS, PLACEHOLDERS, LANGS, isNew: !props.script,
             fromGroup: props.script?.origin === "group" };
  },
  template: `
    <form class="form script-form" novalidate @submit.prevent="save"
          :aria-label="isNew ? $t('library.addTitle') : $t('library.editTitle')">
      <p v-if="fromGroup" class="hint">{{ $t('library.groupKept') }}</p>
      <div class="pair">
        <div v-for="lang in LANGS" :key="'title-' + lang" class="field">
          <label :for="'script-' + uid + '-title-' + lang">{{ $t('library.titleIn.' + lang) }}</label>
          <input :id="'script-' + uid + '-title-' + lang" v-model="form.title[lang]" maxlength="80" autocomplete="off"
                 :lang="lang === 'zh' ? 'zh-CN' : 'en'"
                 :aria-invalid="errorAt('title.' + lang) ? 'true' : 'false'" :aria-describedby="'script-' + uid + '-title-' + lang + '-error'">
          <span :id="'script-' + uid + '-title-' + lang + '-error'" class="field__error" lang="en">{{ errorAt('title.' + lang) }}</span>
        </div>
      </div>
      <span class="field__error" lang="en">{{ errorAt('title') }}</span>
      <div v-if="isNew" class="field">
        <label :for="'script-' + uid + '-id'">{{ $t('library.id') }}</label>
        <input :id="'script-' + uid + '-id'" :value="form.id" @input="typedId($event.target.value)" maxlength="64"
               autocomplete="off" autocapitalize="none" spellcheck="false" inputmode="url" lang="en"
               :aria-invalid="idProblem || errorAt('id') ? 'true' : 'false'" :aria-describedby="'script-' + uid + '-id-hint script-' + uid + '-id-error'">
        <span :id="'script-' + uid + '-id-hint'" class="muted">{{ $t('library.idHint') }}</span>
        <span :id="'script-' + uid + '-id-error'" class="field__error" :lang="idProblem ? null : 'en'">{{ idProblem || errorAt('id') }}</span>
      </div>
      <div class="field">
        <label :for="'script-' + uid + '-situation'">{{ $t('library.situation') }}</label>
        <select :id="'script-' + uid + '-situation'" v-model="form.situation"
                :aria-invalid="errorAt('situation') ? 'true' : 'false'" :aria-describedby="'script-' + uid + '-situation-error'">
          <option v-for="situation in situationChoices" :key="situation" :value="situation">{{ label('situation', situation) }}</option>
        </select>
        <span :id="'script-' + uid + '-situation-error'" class="field__error" lang="en">{{ errorAt('situation') }}</span>
      </div>
      <fieldset class="field" :aria-describedby="'script-' + uid + '-stages-error'">
        <legend>{{ $t('library.stages') }}</legend>
        <div class="chips">
          <button v-for="stage in STAGES" :key="stage" type="button" class="chip-button" :data-stage="stage"
                  :aria-pressed="form.stages.has(stage) ? 'true' : 'false'" @click="toggle(form.stages, stage)">{{ label('stage', stage) }}</button>
        </div>
        <span :id="'script-' + uid + '-stages-error'" class="field__error" data-error="stages" lang="en">{{ errorAt('stages', true) }}</span>
      </fieldset>
      <div v-for="lang in LANGS" :key="'text-' + lang" class="field">
        <label :for="'script-' + uid + '-text-' + lang">{{ $t('library.textIn.' + lang) }}</label>
        <textarea :id="'script-' + uid + '-text-' + lang" v-model="form.texts[lang]" rows="6" maxlength="2000"
                  :lang="lang === 'zh' ? 'zh-CN' : 'en'"
                  :aria-invalid="errorAt('texts.' + lang) ? 'true' : 'false'" :aria-describedby="'script-' + uid + '-text-' + lang + '-error'"></textarea>
        <span :id="'script-' + uid + '-text-' + lang + '-error'" class="field__error" lang="en">{{ errorAt('texts.' + lang) }}</span>
      </div>
      <span class="field__error" data-error="texts" lang="en">{{ errorAt('texts') }}</span>
      <details class="placeholders">
        <summary>{{ $t('library.placeholdersHow') }}</summary>
        <p class="muted">{{ $t('library.placeholdersHint') }}</p>
        <dl class="placeholders__list">
          <template v-for="name in PLACEHOLDERS" :key="name">
            <dt><code lang="en">{{ '{' + name + '}' }}</code></dt>
            <dd>{{ $t('library.explain.' + name) }}</dd>
          </template>
        </dl>
      </details>
      <fieldset class="field">
        <legend>{{ $t('library.channels') }}</legend>
        <div class="chips">
          <button v-for="channel in RECORD_CHANNELS" :key="channel" type="button" class="chip-button"
                  :aria-pressed="form.channels.has(channel) ? 'true' : 'false'" @click="toggle(form.channels, channel)">{{ label('recordChannel', channel) }}</button>
        </div>
        <span class="field__error" lang="en">{{ errorAt('channels', true) }}</span>
      </fieldset>
      <p class="problem" role="alert">{{ problem }}</p>
      <div class="actions">
        <button type="submit" class="button button--primary" :disabled="busy">{{ isNew ? $t('library.add') : $t('library.save') }}</button>
        <button type="button" class="button" @click="$emit('cancel')">{{ $t('library.cancel') }}</button>
      </div>
    </form>`,
};
