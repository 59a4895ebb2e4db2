// "导出 CSV / Excel" for one analytics table: the file is read through
// api.js (`GET /v1/analytics/export`, with the token) with the dashboard's
// filters and the app's language for its headers, then saved.
import { ref } from "vue";
import { analyticsProblem, EXPORT_FORMATS, exportTable } from "./analytics.js";

export default {
  name: "ExportButtons",
  props: {
    table: { type: String, required: true },     // funnel, rates, lost_reasons, sources, demand, consultants, response_times
    title: { type: String, required: true },     // the table's name, for the buttons' labels
    filters: { type: Object, required: true },   // the report's query (demand: with `by`)
  },
  setup(props) {
    const busy = ref("");
    const problem = ref("");
    async function save(format) {
      busy.value = format;
      problem.value = "";
      try {
        await exportTable(props.table, format, props.filters);
      } catch (error) {
        problem.value = analyticsProblem(error);
      } finally {
        busy.value = "";
      }
    }
    return { busy, problem, save, EXPORT_FORMATS };
  },
  template: `
    <div class="export">
      <button v-for="format in EXPORT_FORMATS" :key="format" type="button" class="button button--quiet"
              :data-export="table + ':' + format" :disabled="busy !== ''" :aria-busy="busy === format ? 'true' : 'false'"
              :aria-label="$t('analytics.exportNamed.' + format, { table: title })" @click="save(format)">
        {{ $t('analytics.export.' + format) }}
      </button>
      <p class="problem" role="alert">{{ problem }}</p>
    </div>`,
};
