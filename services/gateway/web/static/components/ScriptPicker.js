// The scripts (话术) for a lead: the next-step hint first (what to do,
// when, and why), then the scripts for the lead's stage, the hinted one
// and its alternatives first, each with its filled text (what could not be
// filled, 【name】, highlighted and listed), a copy button and "use"
// (v-model:chosen, the script id the record is sent with), and a link to
// the store's script library (pages/ScriptLibrary.js). In the app's
// language; loads again when it changes, and only the latest load's answer
// is shown (an answer in the old language may arrive after the new one).
import { computed, ref, watch } from "vue";
import { useI18n } from "vue-i18n";
import * as api from "../api.js";
import { label, language } from "../i18n.js";
import { apiLanguage, followupProblem, scriptTitle } from "./followups.js";

const GAP = /(【[^】]*】)/;
const HAN = /[\u3400-\u9fff]/;
const FIRST = 3;   // scripts shown before "show all"

/** A script's text as pieces, the unfilled placeholders marked (rendered as text, never as HTML). */
export function pieces(text) {
  return (text || "").split(GAP).filter(Boolean).map((part) => ({ text: part, gap: GAP.test(part) }));
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {  // no clipboard API (not a secure context, or refused): the old way
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.append(area);
    area.select();
    const done = document.execCommand("copy");
    area.remove();
    return done;
  }
}

export default {
  name: "ScriptPicker",
  props: {
    leadId: { type: String, required: true },
    stage: { type: String, default: "" },    // loads again when the lead's stage changes
    storeCode: { type: String, default: "" },  // the lead's store: a link to its script library
    chosen: { type: String, default: "" },
  },
  emits: ["update:chosen", "loaded"],
  setup(props, { emit }) {
    const { t } = useI18n();
    const hint = ref(null);
    const scripts = ref([]);
    const problem = ref("");
    const copied = ref("");
    const all = ref(false);      // every script, not only the first few
    const loading = ref(false);
    let latest = 0;              // the load whose answer is shown

    async function load() {
      const mine = ++latest;
      loading.value = true;
      problem.value = "";
      const lang = apiLanguage();
      try {
        const [found, next] = await Promise.all([
          api.scripts(props.leadId, lang),
          api.followupHint(props.leadId, lang).catch(() => null),  // the scripts are enough without it
        ]);
        if (mine !== latest) return;
        scripts.value = found;
        hint.value = next;
        emit("loaded", found);
      } catch (error) {
        if (mine === latest) problem.value = followupProblem(error);
      } finally {
        if (mine === latest) loading.value = false;
      }
    }
    watch(() => [props.leadId, props.stage, language()], load, { immediate: true });

    const ordered = computed(() => {
      const first = [hint.value?.script_id, ...(hint.value?.alternatives || [])].filter(Boolean);
      const rank = (script) => (first.includes(script.id) ? first.indexOf(script.id) : first.length);
      return [...scripts.value].sort((a, b) => rank(a) - rank(b));
    });
    const shown = computed(() => (all.value ? ordered.value : ordered.value.slice(0, FIRST)));
    const hintedTitle = computed(() => {
      const script = scripts.value.find((each) => each.id === hint.value?.script_id);
      return script ? scriptTitle(script) : "";
    });
    const when = (days) => (days === 0 ? t("script.today") : days === 1 ? t("script.tomorrow") : t("script.inDays", { n: days }));
    const langOf = (text) => (HAN.test(text) ? "zh-CN" : "en");

    function use(script) {
      emit("update:chosen", props.chosen === script.id ? "" : script.id);
    }
    async function copy(script) {
      copied.value = (await copyText(script.text)) ? script.id : "";
      if (!copied.value) problem.value = t("script.copyFailed");
    }

    return { hint, ordered, shown, all, hintedTitle, problem, copied, loading, when, langOf, use, copy, pieces, label, scriptTitle };
  },
  template: `
    <div class="scripts" :aria-busy="loading ? 'true' : 'false'">
      <div v-if="hint" class="hint-box" data-hint>
        <p class="hint-box__next"><strong>{{ $t('script.next', { action: label('task', hint.action), when: when(hint.in_days) }) }}</strong></p>
        <p v-if="hintedTitle" class="muted">{{ $t('script.suggested', { title: hintedTitle }) }}</p>
        <span class="field__name">{{ $t('script.why') }}</span>
        <ul class="plain hint-box__why">
          <li v-for="(reason, n) in hint.why" :key="n" :lang="langOf(reason)">{{ reason }}</li>
        </ul>
      </div>
      <p v-if="loading && !ordered.length" class="muted">{{ $t('script.loading') }}</p>
      <p v-else-if="!ordered.length && !problem" class="muted">{{ $t('script.none') }}</p>
      <ul class="script-list">
        <li v-for="script in shown" :key="script.id" :class="['script', { 'script--chosen': chosen === script.id }]" :data-script="script.id">
          <p class="script__head">
            <strong>{{ scriptTitle(script) }}</strong>
            <span class="tag">{{ label('situation', script.situation) }}</span>
            <span v-if="hint && script.id === hint.script_id" class="tag tag--suggested">{{ $t('script.hinted') }}</span>
          </p>
          <p class="script__text"><template v-for="(piece, n) in pieces(script.text)" :key="n"><mark v-if="piece.gap" class="script__gap">{{ piece.text }}</mark><template v-else>{{ piece.text }}</template></template></p>
          <p v-if="script.missing?.length" class="script__missing">{{ $t('script.missing', { names: script.missing.map((name) => label('placeholder', name)).join('、') }) }}</p>
          <div class="actions">
            <button type="button" class="button" :aria-pressed="chosen === script.id ? 'true' : 'false'"
                    :aria-label="$t('script.useNamed', { title: scriptTitle(script) })"
                    @click="use(script)">{{ chosen === script.id ? $t('script.using') : $t('script.use') }}</button>
            <button type="button" class="button" :aria-label="$t('script.copyNamed', { title: scriptTitle(script) })"
                    @click="copy(script)">{{ copied === script.id ? $t('script.copied') : $t('script.copy') }}</button>
          </div>
        </li>
      </ul>
      <div v-if="storeCode || (!all && ordered.length > shown.length)" class="actions">
        <button v-if="!all && ordered.length > shown.length" type="button" class="button button--quiet" @click="all = true">{{ $t('script.showAll', { n: ordered.length }) }}</button>
        <router-link v-if="storeCode" :to="{ name: 'scripts', query: { store: storeCode, lead: leadId } }" class="button button--quiet"
                     data-library>{{ $t('script.library') }}</router-link>
      </div>
      <p class="problem" role="alert">{{ problem }}</p>
    </div>`,
};
