// The first-contact clock: "剩 04:12" counting down to the deadline, then
// "超时 3 分钟". Words and colour both say it (never colour alone).
import { computed, ref } from "vue";
import { useI18n } from "vue-i18n";

const WARN_WITHIN = 5 * 60 * 1000;  // ms left when the clock turns amber

// One ticking clock for every card on the page.
const now = ref(Date.now());
setInterval(() => { now.value = Date.now(); }, 1000);

function remaining(ms) {
  const seconds = Math.floor(ms / 1000);
  const two = (n) => String(n).padStart(2, "0");
  const hours = Math.floor(seconds / 3600);
  const clock = `${two(Math.floor(seconds / 60) % 60)}:${two(seconds % 60)}`;
  return hours ? `${hours}:${clock}` : clock;
}

export default {
  name: "ResponseClock",
  props: {
    due: { type: String, default: null },        // first_contact_due_at
    contacted: { type: String, default: null },  // first_contact_at
  },
  setup(props) {
    const { t } = useI18n();
    const state = computed(() => {
      if (props.contacted) return { kind: "done", text: t("clock.contacted") };
      if (!props.due) return null;
      const left = Date.parse(props.due) - now.value;
      if (left >= 0) {
        return { kind: left <= WARN_WITHIN ? "warn" : "ok", text: t("clock.left", { time: remaining(left) }) };
      }
      const minutes = Math.max(1, Math.floor(-left / 60000));
      return minutes < 60
        ? { kind: "late", text: t("clock.overdue", { minutes }) }
        : { kind: "late", text: t("clock.overdueHours", { hours: Math.floor(minutes / 60) }) };
    });
    return { state };
  },
  template: `<span v-if="state" :class="['clock', 'clock--' + state.kind]">{{ state.text }}</span>`,
};
