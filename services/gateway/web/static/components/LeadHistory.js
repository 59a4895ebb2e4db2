// The lead's history as one timeline, newest first: every change (grade,
// stage, won, lost and its approval, reopened, first contact, pool, SLA)
// and every assignment with its reason, each with who, when and why.
import { computed } from "vue";
import { useI18n } from "vue-i18n";
import { label } from "../i18n.js";
import { dateTime, money } from "../format.js";

export default {
  name: "LeadHistory",
  props: {
    lead: { type: Object, required: true },
  },
  setup(props) {
    const { t } = useI18n();
    const why = (text) => (text || "").split(", ").map((part) => label("why", part)).join(", ");

    function sentence(entry) {
      const d = entry.details || {};
      switch (entry.change) {
        case "graded": return d.from ? t("history.regraded", { from: d.from, to: d.to }) : t("history.graded", { to: d.to });
        case "stage_changed": return t("history.stage", { from: label("stage", d.from), to: label("stage", d.to) });
        case "won": return d.deal_value ? t("history.wonValue", { value: money(d.deal_value, d.currency || "CNY") })
          : t("history.won");
        case "loss_requested": return t("history.lossRequested", { reason: label("lostReason", d.lost_reason) });
        case "lost": return d.approved ? t("history.lossApproved", { reason: label("lostReason", d.lost_reason) })
          : t("history.lost", { reason: label("lostReason", d.lost_reason) });
        case "loss_refused": return t("history.lossRefused");
        case "first_contact": return d.minutes !== null && d.minutes !== undefined
          ? t("history.firstContactIn", { minutes: d.minutes }) : t("history.firstContact");
        default: return label("change", entry.change);
      }
    }

    const entries = computed(() => {
      const changes = (props.lead.history || []).map((entry, n) => ({
        key: `h${n}`, at: entry.at, kind: label("change", entry.change), text: sentence(entry),
        who: entry.actor?.display_name || t("history.system"), why: why(entry.reason),
      }));
      const hops = (props.lead.assignments || []).map((entry, n) => ({
        key: `a${n}`, at: entry.assigned_at, kind: t("history.assignment"),
        text: t("history.assigned", { name: entry.consultant?.display_name || "—",
                                      reason: label("assignReason", entry.reason) }),
        who: entry.actor?.display_name || t("history.system"), why: entry.note || "",
      }));
      return [...changes, ...hops].sort((a, b) => Date.parse(b.at) - Date.parse(a.at)
        || b.key.localeCompare(a.key));
    });
    return { entries, when: (iso) => dateTime(iso, props.lead.store_code) };
  },
  template: `
    <section class="panel">
      <h2 class="panel__title">{{ $t('history.title') }}</h2>
      <ol v-if="entries.length" class="timeline lead-history">
        <li v-for="entry in entries" :key="entry.key" class="timeline__entry">
          <span class="timeline__kind">{{ entry.kind }}</span>
          <span>{{ entry.text }}</span>
          <span class="timeline__when muted">{{ $t('history.byWhen', { who: entry.who, time: when(entry.at) }) }}</span>
          <span v-if="entry.why" class="timeline__why">{{ $t('history.why', { why: entry.why }) }}</span>
        </li>
      </ol>
      <p v-else class="muted">{{ $t('history.empty') }}</p>
    </section>`,
};
