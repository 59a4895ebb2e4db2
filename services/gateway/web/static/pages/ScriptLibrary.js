// The script library (话术库) of a store: every script its consultants may
// be offered (the group's, with the store's own wording over them, and the
// store's own), the hidden ones too, grouped by situation and filtered by
// situation and stage chips (kept in the URL with ?store=). Each shows its
// title and text in the app's language (else the other, marked with its
// lang), where it comes from, how often it was used and how often the lead
// moved on after it, and its placeholders in words. Managers edit the
// store's wording, add a store-only script (components/ScriptForm.js), hide
// or show a group script and go back to the group's; the library is read
// again after each change. Consultants read it.
import { computed, ref, watch } from "vue";
import { useI18n } from "vue-i18n";
import { useRoute, useRouter } from "vue-router";
import * as api from "../api.js";
import { label, language } from "../i18n.js";
import AppBar from "../components/AppBar.js";
import ScriptForm from "../components/ScriptForm.js";
import { actionProblem, isManager, STAGES } from "../components/leads.js";
import { inLanguage, origin, placeholdersIn, textPieces } from "../components/scriptLibrary.js";

export default {
  name: "ScriptLibrary",
  components: { AppBar, ScriptForm },
  setup() {
    const { t } = useI18n();
    const route = useRoute();
    const router = useRouter();
    const stores = computed(() => api.session.user?.stores || []);
    const storeCode = computed(() => route.query.store || stores.value[0]?.code || "");
    const situation = computed(() => route.query.situation || "");
    const stage = computed(() => route.query.stage || "");
    const manager = computed(isManager);

    const library = ref(null);
    const problem = ref("");
    const done = ref("");
    const editing = ref(null);      // a script's id, "new", or null
    const confirming = ref("");     // "<action>:<id>" waiting for a second tap
    const busy = ref("");           // the id being changed
    const actionProblemOf = ref({}); // id -> the sentence of a failed hide, show or revert

    let latest = 0;
    async function load() {
      const mine = ++latest;
      problem.value = "";
      try {
        const found = await api.scriptLibrary(storeCode.value);
        if (mine === latest) library.value = found;
      } catch (error) {
        if (mine === latest) problem.value = actionProblem(error);
      }
    }
    watch(storeCode, (code) => {
      library.value = null;
      editing.value = null;
      confirming.value = done.value = "";
      if (code) load();
    }, { immediate: true });

    const filter = (change) => router.replace({ query: { ...route.query, ...change } });
    const chooseStore = (code) => router.replace({ query: { ...route.query, store: code } });

    const situations = computed(() => [...new Set((library.value || []).map((script) => script.situation))]);
    const shown = computed(() => (library.value || []).filter((script) =>
      (!situation.value || script.situation === situation.value) && (!stage.value || script.stages.includes(stage.value))));
    const groups = computed(() => {
      const bySituation = new Map();
      for (const script of shown.value) {
        if (!bySituation.has(script.situation)) bySituation.set(script.situation, []);
        bySituation.get(script.situation).push(script);
      }
      return [...bySituation].map(([name, scripts]) => ({ name, scripts }));
    });

    const titleOf = (script) => inLanguage(script.title) || { text: label("situation", script.situation), lang: null };
    const textOf = (script) => inLanguage(script.texts) || { text: "", lang: null };
    function usage(script) {
      if (!script.used) return t("library.notUsed");
      const rate = Math.round((script.forward_rate ?? script.moved_forward / script.used) * 100);
      return t(script.used === 1 ? "library.usedOnce" : "library.used", { n: script.used, moved: script.moved_forward, rate });
    }
    const originText = (script) => t("library.origin." + origin(script));

    async function change(script, action) {
      busy.value = script.id;
      done.value = "";
      actionProblemOf.value = { ...actionProblemOf.value, [script.id]: "" };
      try {
        if (action === "hide") await api.saveStoreScript(storeCode.value, script.id, { hidden: true });
        else await api.revertStoreScript(storeCode.value, script.id);  // show, revert, delete: the group's again
        confirming.value = "";
        done.value = t("library.done." + action, { title: titleOf(script).text });
        await load();
      } catch (error) {
        actionProblemOf.value = { ...actionProblemOf.value, [script.id]: actionProblem(error) };
      } finally {
        busy.value = "";
      }
    }
    /** Hide (a group script), show it again, go back to the group's, or delete the store's own: the last two (and hiding the store's wording) ask once more. */
    function ask(script, action) {
      const sure = action === "revert" || action === "delete" || (action === "hide" && script.changed_by_store);
      if (sure && confirming.value !== `${action}:${script.id}`) {
        confirming.value = `${action}:${script.id}`;
        return;
      }
      change(script, action);
    }
    async function saved(id) {
      const wasNew = editing.value === "new";
      editing.value = null;
      done.value = t(wasNew ? "library.added" : "library.saved");
      await load();
      if (wasNew) filter({ situation: undefined, stage: undefined });
      requestAnimationFrame(() => document.querySelector(`[data-script="${CSS.escape(id)}"]`)?.scrollIntoView({ block: "nearest" }));
    }

    const back = computed(() => {
      if (route.query.lead) return { name: "lead", params: { id: route.query.lead } };
      return manager.value ? { name: "manage", query: { store: storeCode.value } } : { name: "leads" };
    });

    return { stores, storeCode, chooseStore, situation, stage, filter, manager, library, problem, done, editing,
             confirming, busy, actionProblemOf, situations, shown, groups, titleOf, textOf, usage, originText, ask, saved,
             back, origin, appLang: computed(language), textPieces, placeholdersIn, label, STAGES,
             ids: computed(() => (library.value || []).map((script) => script.id)) };
  },
  template: `
    <AppBar :title="$t('library.title')" :back="back" />
    <main class="page library" id="main">
      <div v-if="stores.length > 1" class="field field--store">
        <label for="library-store">{{ $t('manage.store') }}</label>
        <select id="library-store" :value="storeCode" @change="chooseStore($event.target.value)">
          <option v-for="s in stores" :key="s.code" :value="s.code">{{ s.name }}</option>
        </select>
      </div>
      <p class="muted">{{ manager ? $t('library.hintManager') : $t('library.hint') }}</p>
      <p class="problem" role="alert">{{ problem }}</p>
      <p class="notice" role="status">{{ done }}</p>

      <template v-if="manager">
        <ScriptForm v-if="editing === 'new'" :key="'new-' + storeCode" class="panel" :store-code="storeCode" :taken="ids"
                    :situations="situations" @saved="saved" @cancel="editing = null" />
        <button v-else type="button" class="button button--primary library__add" @click="editing = 'new'">{{ $t('library.addOwn') }}</button>
      </template>

      <div class="filters library__filters">
        <div class="chip-group" role="group" :aria-label="$t('library.bySituation')">
          <span class="chip-group__name" aria-hidden="true">{{ $t('library.bySituation') }}</span>
          <div class="chips">
            <button type="button" class="chip-button" :aria-pressed="!situation ? 'true' : 'false'"
                    @click="filter({ situation: undefined })">{{ $t('library.all') }}</button>
            <button v-for="name in situations" :key="name" type="button" class="chip-button" :data-situation="name"
                    :aria-pressed="situation === name ? 'true' : 'false'"
                    @click="filter({ situation: situation === name ? undefined : name })">{{ label('situation', name) }}</button>
          </div>
        </div>
        <div class="chip-group" role="group" :aria-label="$t('library.byStage')">
          <span class="chip-group__name" aria-hidden="true">{{ $t('library.byStage') }}</span>
          <div class="chips">
            <button type="button" class="chip-button" :aria-pressed="!stage ? 'true' : 'false'"
                    @click="filter({ stage: undefined })">{{ $t('library.allStages') }}</button>
            <button v-for="name in STAGES" :key="name" type="button" class="chip-button" :data-stage="name"
                    :aria-pressed="stage === name ? 'true' : 'false'"
                    @click="filter({ stage: stage === name ? undefined : name })">{{ label('stage', name) }}</button>
          </div>
        </div>
      </div>

      <p v-if="library === null && !problem" class="note">{{ $t('library.loading') }}</p>
      <template v-else-if="library">
        <p class="muted" role="status">{{ $t('library.count', { n: shown.length, all: library.length }) }}</p>
        <p v-if="!shown.length" class="note">{{ $t('library.none') }}</p>
        <section v-for="group in groups" :key="group.name" class="library__group" :aria-label="label('situation', group.name)">
          <h2 class="library__situation">{{ label('situation', group.name) }}</h2>
          <ul class="script-list">
            <li v-for="script in group.scripts" :key="script.id" :data-script="script.id"
                :class="['script', 'library-script', 'library-script--' + origin(script), { 'library-script--hidden': script.hidden }]">
              <p class="script__head">
                <strong :lang="titleOf(script).lang">{{ titleOf(script).text }}</strong>
                <span class="tag" data-origin>{{ originText(script) }}</span>
                <span v-if="script.hidden" class="tag tag--hidden" data-hidden>{{ $t('library.hidden') }}</span>
              </p>
              <p class="library-script__stages muted">{{ script.stages.map((s) => label('stage', s)).join(' · ') }}</p>
              <p v-if="script.channels?.length" class="library-script__stages muted">{{ $t('library.channelsUsed',
                { channels: script.channels.map((c) => label('recordChannel', c)).join(appLang === 'en' ? ', ' : '、') }) }}</p>
              <p class="script__text" :lang="textOf(script).lang"><template v-for="(piece, n) in textPieces(textOf(script).text)" :key="n"><mark
                v-if="piece.name" class="library-script__slot" :lang="appLang" :title="piece.text">【{{ label('placeholder', piece.name) }}】</mark><template
                v-else>{{ piece.text }}</template></template></p>
              <dl v-if="placeholdersIn(textOf(script).text).length" class="placeholders__list placeholders__list--script">
                <template v-for="name in placeholdersIn(textOf(script).text)" :key="name">
                  <dt>【{{ label('placeholder', name) }}】</dt>
                  <dd>{{ $t('library.explain.' + name) }}</dd>
                </template>
              </dl>
              <p class="library-script__usage" data-usage>{{ usage(script) }}</p>
              <div v-if="manager" class="actions">
                <button type="button" class="button" :aria-label="$t('library.editNamed', { title: titleOf(script).text })"
                        @click="editing = editing === script.id ? null : script.id">{{ $t('library.edit') }}</button>
                <template v-if="script.origin === 'group'">
                  <button v-if="script.hidden" type="button" class="button" :disabled="busy === script.id"
                          :aria-label="$t('library.showNamed', { title: titleOf(script).text })" @click="ask(script, 'show')">{{ $t('library.show') }}</button>
                  <button v-else type="button" class="button" :disabled="busy === script.id"
                          :aria-label="confirming === 'hide:' + script.id ? null : $t('library.hideNamed', { title: titleOf(script).text })" @click="ask(script, 'hide')">{{
                    confirming === 'hide:' + script.id ? $t('library.hideSure') : $t('library.hide') }}</button>
                  <button v-if="script.changed_by_store" type="button"
                          :class="['button', confirming === 'revert:' + script.id ? 'button--danger-solid' : 'button--danger']" :disabled="busy === script.id"
                          :aria-label="confirming === 'revert:' + script.id ? null : $t('library.revertNamed', { title: titleOf(script).text })" @click="ask(script, 'revert')">{{
                    confirming === 'revert:' + script.id ? $t('library.revertSure') : $t('library.revert') }}</button>
                </template>
                <button v-else type="button" :class="['button', confirming === 'delete:' + script.id ? 'button--danger-solid' : 'button--danger']"
                        :disabled="busy === script.id" :aria-label="confirming === 'delete:' + script.id ? null : $t('library.deleteNamed', { title: titleOf(script).text })"
                        @click="ask(script, 'delete')">{{ confirming === 'delete:' + script.id ? $t('library.deleteSure') : $t('library.delete') }}</button>
              </div>
              <p class="problem" role="alert">{{ actionProblemOf[script.id] }}</p>
              <ScriptForm v-if="manager && editing === script.id" :store-code="storeCode" :script="script" :taken="ids"
                          :situations="situations" @saved="saved" @cancel="editing = null" />
            </li>
          </ul>
        </section>
      </template>
    </main>`,
};
