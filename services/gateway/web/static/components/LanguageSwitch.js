// Switches to the other language; its name is shown in that language.
import { computed } from "vue";
import { LANGUAGES, language, setLanguage } from "../i18n.js";

export default {
  name: "LanguageSwitch",
  setup() {
    const other = computed(() => Object.keys(LANGUAGES).find((tag) => tag !== language()));
    return { other, LANGUAGES, setLanguage };
  },
  template: `
    <button type="button" class="bar__action" :lang="other" :title="$t('bar.language')"
            @click="setLanguage(other)">{{ LANGUAGES[other] }}</button>`,
};
