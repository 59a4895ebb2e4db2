// The import wizard (managers): 1 upload a spreadsheet for a store, 2 say
// which column is which (the API's suggestion first), 3 a dry run with its
// progress and report (rejected rows and why, matched rows and whom), 4 the
// import itself, its progress, and what it did.
import { computed, onUnmounted, ref } from "vue";
import { useI18n } from "vue-i18n";
import * as api from "../api.js";
import { label } from "../i18n.js";
import AppBar from "../components/AppBar.js";
import { isManager, messagesAt, reason } from "../components/customers.js";

const POLL = 1000;  // ms between progress checks
const RUNNING = ["checking", "importing"];

export default {
  name: "CustomerImport",
  components: { AppBar },
  setup() {
    const { t } = useI18n();
    const step = ref(1);
    const stores = computed(() => api.session.user?.stores || []);
    const storeCode = ref(stores.value[0]?.code || "");
    const file = ref(null);
    const job = ref(null);          // the import as the API last showed it
    const mapping = ref({});        // column index (text) -> field, "" for ignore
    const skipRejected = ref(false);  // a conscious choice: rejected rows are left out
    const busy = ref(false);
    const problem = ref("");
    let timer = null;
    let stopped = false;

    const say = (error) => {
      if (error.sessionEnded) return;
      const details = messagesAt(error.errors).join(" ");
      problem.value = t("import.failed", { reason: [reason(error), details].filter(Boolean).join(" ") });
    };

    function chosen(event) {
      file.value = event.target.files?.[0] || null;
      job.value = null;
      problem.value = "";
    }

    async function upload() {
      if (!file.value) {
        problem.value = t("import.chooseFile");
        return;
      }
      busy.value = true;
      problem.value = "";
      try {
        job.value = await api.uploadImport(storeCode.value, file.value);
        if (job.value.status === "reading") await watchProgress(["uploaded"]);  // the header row is found in the background
        if (job.value.status !== "uploaded") return;
        const suggested = job.value.mapping || {};
        mapping.value = Object.fromEntries((job.value.headers || []).map((_, index) =>
          [String(index), suggested[String(index)] || ""]));
        step.value = 2;
      } catch (error) {
        say(error);
      } finally {
        busy.value = false;
      }
    }

    function watchProgress(until) {
      clearTimeout(timer);
      return new Promise((resolve) => {
        const check = async () => {
          if (stopped) return;
          try {
            job.value = await api.customerImport(job.value.id);
          } catch (error) {
            say(error);
            if (error.sessionEnded) return;
          }
          if (until.includes(job.value.status) || job.value.status === "failed") resolve(job.value);
          else timer = setTimeout(check, POLL);
        };
        timer = setTimeout(check, POLL);
      });
    }

    async function dryRun() {
      busy.value = true;
      problem.value = "";
      const settled = Object.fromEntries(Object.entries(mapping.value)
        .map(([column, field]) => [column, field || null]));
      try {
        job.value = await api.checkImport(job.value.id, settled);
        step.value = 3;
        if (job.value.status !== "checked") await watchProgress(["checked"]);
      } catch (error) {
        say(error);
      } finally {
        busy.value = false;
      }
    }

    async function commit() {
      busy.value = true;
      problem.value = "";
      try {
        job.value = await api.commitImport(job.value.id, job.value.rejected > 0 && skipRejected.value);
        step.value = 4;
        if (job.value.status !== "done") await watchProgress(["done"]);
      } catch (error) {
        say(error);
      } finally {
        busy.value = false;
      }
    }

    function again() {
      step.value = 1;
      job.value = null;
      file.value = null;
      problem.value = "";
    }

    onUnmounted(() => {
      stopped = true;
      clearTimeout(timer);
    });

    const running = computed(() => job.value && RUNNING.includes(job.value.status) && step.value >= 3);
    const percent = computed(() => {
      const j = job.value;
      return j?.total ? Math.round((100 * (j.processed || 0)) / j.total) : 0;
    });
    const rejectedRows = computed(() => (job.value?.rows || []).filter((row) => row.outcome === "reject"));
    const matchedRows = computed(() => (job.value?.rows || []).filter((row) => row.outcome === "match"));
    const rowReasons = (row) => Object.entries(row.errors || {})
      .map(([field, messages]) => `${label("importField", field)}: ${messagesAt(messages).join(" ")}`).join("; ");
    const matchedBy = (value) => {
      const earlier = /^row (\d+)$/.exec(value || "");
      return earlier ? t("import.sameFile", { row: earlier[1] }) : label("matchedBy", value);
    };
    const sample = computed(() => (job.value?.sample || []).slice(0, 3));
    const fieldChoices = computed(() => job.value?.fields || []);
    const checked = computed(() => step.value === 3 && job.value?.status === "checked");
    const done = computed(() => step.value === 4 && job.value?.status === "done");
    const failed = computed(() => job.value?.status === "failed");

    return { step, stores, storeCode, file, job, mapping, skipRejected, busy, problem, running, percent,
             rejectedRows, matchedRows, rowReasons, matchedBy, sample, fieldChoices, checked, done, failed, label,
             manager: computed(isManager), chosen, upload, dryRun, commit, again,
             steps: computed(() => [t("import.step1"), t("import.step2"), t("import.step3"), t("import.step4")]) };
  },
  template: `
    <AppBar :title="$t('import.title')" :back="{ name: 'customers' }" />
    <main class="page page--form" id="main">
      <section v-if="!manager" class="panel">
        <p>{{ $t('import.managersOnly') }}</p>
      </section>
      <template v-else>
        <ol class="steps" :aria-label="$t('import.steps')">
          <li v-for="(name, n) in steps" :key="n" class="steps__step" :class="{ 'steps__step--on': step === n + 1 }"
              :aria-current="step === n + 1 ? 'step' : null">{{ n + 1 }}. {{ name }}</li>
        </ol>
        <p class="problem" role="alert">{{ problem }}</p>

        <form v-if="step === 1" class="panel form" @submit.prevent="upload">
          <h2 class="panel__title">{{ $t('import.step1') }}</h2>
          <p class="muted">{{ $t('import.fileHint') }}</p>
          <div class="field">
            <label for="import-store">{{ $t('import.store') }}</label>
            <select id="import-store" v-model="storeCode">
              <option v-for="s in stores" :key="s.code" :value="s.code">{{ s.name }}</option>
            </select>
          </div>
          <div class="field">
            <label for="import-file">{{ $t('import.file') }}</label>
            <input id="import-file" type="file" class="file"
                   accept=".xlsx,.csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,text/csv"
                   @change="chosen">
          </div>
          <p v-if="failed" class="problem">{{ $t('import.unreadable', { reason: job.error || '' }) }}</p>
          <button type="submit" class="button button--primary" :disabled="busy || !file">
            {{ busy ? $t('import.uploading') : $t('import.upload') }}</button>
        </form>

        <form v-else-if="step === 2" class="panel form" @submit.prevent="dryRun">
          <h2 class="panel__title">{{ $t('import.step2') }}</h2>
          <p class="muted">{{ $t('import.mapHint', { file: job.filename }) }}</p>
          <div v-for="(header, index) in job.headers" :key="index" class="field map-row">
            <label :for="'map-' + index">{{ header || $t('import.column', { n: index + 1 }) }}</label>
            <select :id="'map-' + index" v-model="mapping[String(index)]">
              <option value="">{{ $t('import.ignore') }}</option>
              <option v-for="field in fieldChoices" :key="field" :value="field">{{ label('importField', field) }}</option>
            </select>
            <span class="muted map-row__sample">{{ sample.map((row) => row[index]).filter((v) => v !== null && v !== '').join(' · ') }}</span>
          </div>
          <div class="actions">
            <button type="button" class="button" @click="again">{{ $t('import.startOver') }}</button>
            <button type="submit" class="button button--primary" :disabled="busy">{{ $t('import.check') }}</button>
          </div>
        </form>

        <section v-else class="panel">
          <h2 class="panel__title">{{ step === 3 ? $t('import.step3') : $t('import.step4') }}</h2>
          <div v-if="running || busy" class="progress-box">
            <p>{{ step === 3 ? $t('import.checking') : $t('import.importing') }}</p>
            <progress class="progress" :max="job?.total || 1" :value="job?.processed || 0"
                      :aria-label="$t('import.progress')"></progress>
            <p class="muted" role="status">{{ $t('import.processed', { processed: job?.processed || 0, total: job?.total ?? '…' }) }}</p>
          </div>
          <p v-if="failed" class="problem">{{ $t('import.jobFailed', { reason: job.error || '' }) }}</p>
          <template v-if="checked || done">
            <p v-if="done" class="notice" role="status">{{ $t('import.done') }}</p>
            <dl class="counts">
              <div class="counts__item counts__item--created"><dt>{{ done ? $t('import.created') : $t('import.toCreate') }}</dt><dd>{{ job.created }}</dd></div>
              <div class="counts__item counts__item--matched"><dt>{{ $t('import.matched') }}</dt><dd>{{ job.matched }}</dd></div>
              <div class="counts__item counts__item--rejected"><dt>{{ done ? $t('import.skipped') : $t('import.rejected') }}</dt><dd>{{ job.rejected }}</dd></div>
            </dl>
          </template>
          <template v-if="checked">
            <div v-if="rejectedRows.length" class="table-wrap">
              <table class="report report--rejected">
                <caption>{{ $t('import.rejectedRows') }}</caption>
                <thead><tr><th scope="col">{{ $t('import.row') }}</th><th scope="col">{{ $t('import.why') }}</th></tr></thead>
                <tbody>
                  <tr v-for="row in rejectedRows" :key="row.row"><td>{{ row.row }}</td><td>{{ rowReasons(row) }}</td></tr>
                </tbody>
              </table>
            </div>
            <div v-if="matchedRows.length" class="table-wrap">
              <table class="report report--matched">
                <caption>{{ $t('import.matchedRows') }}</caption>
                <thead><tr><th scope="col">{{ $t('import.row') }}</th><th scope="col">{{ $t('import.matchedBy') }}</th><th scope="col">{{ $t('import.customer') }}</th></tr></thead>
                <tbody>
                  <tr v-for="row in matchedRows" :key="row.row">
                    <td>{{ row.row }}</td>
                    <td>{{ matchedBy(row.matched_by) }}</td>
                    <td class="report__link"><router-link v-if="row.customer_id" :to="{ name: 'customer', params: { id: row.customer_id } }" class="link-row">
                      {{ $t('import.openCustomer') }}</router-link></td>
                  </tr>
                </tbody>
              </table>
            </div>
            <form class="form" @submit.prevent="commit">
              <label v-if="job.rejected > 0" class="check">
                <input id="import-skip" v-model="skipRejected" type="checkbox"> {{ $t('import.skipRejected', { count: job.rejected }) }}
              </label>
              <div class="actions">
                <button type="button" class="button" @click="again">{{ $t('import.startOver') }}</button>
                <button type="submit" class="button button--primary" :disabled="busy || (job.rejected > 0 && !skipRejected)">
                  {{ $t('import.commit', { count: job.created }) }}</button>
              </div>
            </form>
          </template>
          <div v-if="done" class="actions">
            <router-link :to="{ name: 'customers' }" class="button button--primary">{{ $t('import.toCustomers') }}</router-link>
            <button type="button" class="button" @click="again">{{ $t('import.another') }}</button>
          </div>
        </section>
      </template>
    </main>`,
};
