// Languages: zh-CN and English, one translation file each (i18n/). The
// language comes from the browser until the user picks one, which is
// remembered on this device.
import { createI18n } from "vue-i18n";
import en from "./i18n/en.js";
import zhCN from "./i18n/zh-CN.js";

const CHOSEN = "dealerflow.language";  // localStorage

/** Each language by its own name (shown as such, marked with its `lang`). */
export const LANGUAGES = { "zh-CN": "中文", en: "English" };

function fromBrowser() {
  for (const tag of navigator.languages || [navigator.language]) {
    if (/^zh\b/i.test(tag)) return "zh-CN";
    if (/^en\b/i.test(tag)) return "en";
  }
  return "zh-CN";
}

const chosen = localStorage.getItem(CHOSEN);

export const i18n = createI18n({
  legacy: false,
  locale: chosen in LANGUAGES ? chosen : fromBrowser(),
  fallbackLocale: "zh-CN",
  messages: { "zh-CN": zhCN, en },
});

export function language() {
  return i18n.global.locale.value;
}

function show(tag) {
  document.documentElement.lang = tag;
  document.title = `${i18n.global.t("app.name")} · ${i18n.global.t("app.tagline")}`;
}

export function setLanguage(tag) {
  i18n.global.locale.value = tag;
  localStorage.setItem(CHOSEN, tag);
  show(tag);
}

show(language());

/** The label of an API value (`label("status", "assigned")`); the value itself when there is none. */
export function label(group, value) {
  const key = `${group}.${value}`;
  return value && i18n.global.te(key) ? i18n.global.t(key) : value || "";
}
