// One ECharts chart: the library is loaded when the first chart mounts (the
// dashboard only: `import("echarts")` through the import map), the chart
// follows its box's size (ResizeObserver), its option (drawn again whenever
// the page gives a new one), and the app's language (ECharts has no way to
// change its locale: the chart is made again); it is disposed of when the
// component goes. A click on a bar or point emits `pick` with ECharts'
// event ({seriesIndex, dataIndex, name, value, data}).
//
// The chart element carries the instance as `__chart` and `data-drawn` (how
// many times an option was drawn): tests read the drawn option from it.
// The chart is an image to assistive technology (`role="img"`, its label);
// every panel shows the same numbers in a table next to it.
import { onBeforeUnmount, onMounted, ref, watch } from "vue";
import { useI18n } from "vue-i18n";
import { language } from "../i18n.js";

let library = null;  // the echarts module, once loaded

export default {
  name: "Chart",
  props: {
    option: { type: Object, required: true },
    name: { type: String, required: true },      // data-chart: which chart (for tests and styles)
    label: { type: String, required: true },     // what it shows, in words
    height: { type: Number, default: 280 },      // px; the width is the box's
  },
  emits: ["pick"],
  setup(props, { emit }) {
    const { t } = useI18n();
    const box = ref(null);
    const problem = ref("");
    let chart = null;
    let observer = null;
    let drawn = 0;
    let gone = false;

    function draw() {
      if (!chart) return;
      chart.setOption(props.option, { notMerge: true });
      box.value.dataset.drawn = String(++drawn);
    }

    async function make() {
      try {
        library ??= await import("echarts");
      } catch {
        problem.value = t("analytics.chartFailed");
        return;
      }
      if (gone) return;
      chart?.dispose();
      chart = library.init(box.value, null, { locale: language() === "en" ? "EN" : "ZH" });
      box.value.__chart = chart;
      chart.on("click", (event) => emit("pick", event));
      draw();
    }

    onMounted(() => {
      make();
      observer = new ResizeObserver(() => chart?.resize());
      observer.observe(box.value);
    });
    watch(() => props.option, draw);
    watch(() => props.height, () => chart?.resize());
    watch(language, make);
    onBeforeUnmount(() => {
      gone = true;
      observer?.disconnect();
      chart?.dispose();
      chart = null;
      if (box.value) delete box.value.__chart;
    });
    return { box, problem };
  },
  template: `
    <div class="chart-box">
      <div ref="box" class="chart" role="img" :aria-label="label" :data-chart="name" :style="{ height: height + 'px' }"></div>
      <p class="problem" role="alert">{{ problem }}</p>
    </div>`,
};
