// The dashboard's ECharts options, one function per panel, from the API's
// answers. Each series' `data` is the API's numbers as they came (plain
// numbers, in the answer's order), so what a chart draws is what its table
// says; colours come from the design tokens.
import { i18n, label } from "../i18n.js";
import { bucketText, demandKeyText, stageText, token } from "./analytics.js";

const t = (...args) => i18n.global.t(...args);

function base() {
  return {
    animationDuration: 300,
    textStyle: { fontFamily: token("--font-family"), color: token("--color-text") },
    grid: { left: 16, right: 32, top: 40, bottom: 8, containLabel: true },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true },
    legend: { top: 0, type: "scroll", textStyle: { color: token("--color-text") } },
    aria: { enabled: false },  // the panel's table says the same in words
  };
}

const valueAxis = () => ({ type: "value", minInterval: 1, axisLabel: { color: token("--color-muted") },
                           splitLine: { lineStyle: { color: token("--color-divider") } } });
const categoryAxis = (names, extra = {}) => ({
  type: "category", data: names,
  axisLabel: { color: token("--color-text"), width: 180, overflow: "truncate", ...extra.axisLabel },
  axisTick: { alignWithLabel: true }, ...extra, axisLine: { lineStyle: { color: token("--color-border") } },
});
const barLabel = (position) => ({ show: true, position, color: token("--color-text") });

/** The funnel: how many leads reached each stage, top to bottom. */
export function funnelOption(funnel) {
  const stages = funnel.stages || [];
  return {
    ...base(),
    legend: { show: false },
    grid: { left: 16, right: 40, top: 8, bottom: 8, containLabel: true },
    yAxis: categoryAxis(stages.map((stage) => stageText(stage.stage)), { inverse: true }),
    xAxis: valueAxis(),
    series: [{
      type: "bar", name: t("analytics.funnel.reached"), data: stages.map((stage) => stage.reached),
      label: barLabel("right"), itemStyle: { color: token("--color-primary") }, barMaxWidth: 36, cursor: "pointer",
    }],
  };
}

/** Sources: leads and wins of each source (and channel). */
export function sourcesOption(rows) {
  return {
    ...base(),
    yAxis: categoryAxis(rows.map((row) => `${row.source} · ${label("channel", row.channel)}`), { inverse: true }),
    xAxis: valueAxis(),
    series: [
      { type: "bar", name: t("analytics.col.leads"), data: rows.map((row) => row.leads),
        label: barLabel("right"), itemStyle: { color: token("--color-primary") }, barMaxWidth: 24 },
      { type: "bar", name: t("analytics.col.won"), data: rows.map((row) => row.won),
        label: barLabel("right"), itemStyle: { color: token("--color-ok") }, barMaxWidth: 24 },
    ],
  };
}

/** Demand: a stacked bar per period, a series per key (the 10 most asked, then other). */
export function demandOption(demand) {
  return {
    ...base(),
    grid: { left: 8, right: 16, top: 56, bottom: 8, containLabel: true },
    xAxis: categoryAxis(demand.periods || []),
    yAxis: valueAxis(),
    series: (demand.series || []).map((series) => ({
      type: "bar", stack: "demand", name: demandKeyText(demand.by, series.key), data: series.counts,
      emphasis: { focus: "series" },
    })),
  };
}

/** Consultants: wins and follow-ups done, in the order of their rank. */
export function consultantsOption(rows) {
  return {
    ...base(),
    yAxis: categoryAxis(rows.map((row) => row.name || t("analytics.someone")), { inverse: true }),
    xAxis: valueAxis(),
    series: [
      { type: "bar", name: t("analytics.col.wins"), data: rows.map((row) => row.wins),
        label: barLabel("right"), itemStyle: { color: token("--color-ok") }, barMaxWidth: 24 },
      { type: "bar", name: t("analytics.col.followupsDone"), data: rows.map((row) => row.followups_done),
        label: barLabel("right"), itemStyle: { color: token("--color-primary") }, barMaxWidth: 24, cursor: "default" },
    ],
  };
}

/** Response times: leads per first-response bucket; under 5 minutes green, under an hour amber, else red. */
export function responseOption(answer) {
  const buckets = answer.buckets || [];
  const colour = (bucket) => (bucket.to_minutes !== null && bucket.to_minutes <= 5 ? token("--color-ok")
    : bucket.to_minutes !== null && bucket.to_minutes <= 60 ? token("--color-warn") : token("--color-late"));
  const colours = buckets.map(colour);
  return {
    ...base(),
    legend: { show: false },
    grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },
    xAxis: categoryAxis(buckets.map((bucket) => bucketText(bucket.from_minutes, bucket.to_minutes)),
                        { axisLabel: { interval: 0, rotate: buckets.length > 5 ? 40 : 0 } }),
    yAxis: valueAxis(),
    series: [{
      type: "bar", name: t("analytics.response.leads"), data: buckets.map((bucket) => bucket.count),
      label: barLabel("top"), itemStyle: { color: (item) => colours[item.dataIndex] }, barMaxWidth: 40,
    }],
  };
}
