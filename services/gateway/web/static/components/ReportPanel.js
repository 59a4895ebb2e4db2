// One panel of the analytics dashboard (pages/Analytics.js): its title, what
// went wrong, "loading" while its first answer is on the way, and the report
// (the default slot) once it came; `controls` go between the title and the rest.
export default {
  name: "ReportPanel",
  props: {
    name: { type: String, required: true },     // data-panel, and the title's id
    title: { type: String, required: true },
    report: { type: Object, required: true },   // { loading, problem, data } of the page's reports
    wide: { type: Boolean, default: false },    // spans the desktop grid
  },
  template: `
    <section :class="['panel', { 'panel--wide': wide }]" :data-panel="name" :aria-labelledby="name + '-title'"
             :aria-busy="report.loading ? 'true' : 'false'">
      <h2 :id="name + '-title'" class="panel__title">{{ title }}</h2>
      <slot name="controls" />
      <p class="problem" role="alert">{{ report.problem }}</p>
      <p v-if="report.loading && !report.data" class="muted">{{ $t('analytics.loading') }}</p>
      <slot v-if="report.data" />
    </section>`,
};
