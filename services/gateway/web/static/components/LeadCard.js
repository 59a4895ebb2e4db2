// A lead in a list, in three lines: who, grade, score and the clock;
// phone, vehicle and channel; status, stage, whose (for managers) or which
// store, and when it came in. The whole card opens the lead.
import { computed } from "vue";
import { session } from "../api.js";
import { label } from "../i18n.js";
import { maskedPhone, shortDateTime, store } from "../format.js";
import LeadBadges from "./LeadBadges.js";
import ResponseClock from "./ResponseClock.js";

export default {
  name: "LeadCard",
  components: { LeadBadges, ResponseClock },
  props: {
    lead: { type: Object, required: true },
    fresh: { type: Boolean, default: false },  // arrived while the page was open
  },
  setup(props) {
    const joined = (...parts) => parts.filter(Boolean).join(" · ");
    const vehicle = (interest) => [interest?.brand, interest?.model].filter(Boolean).join(" ");
    const second = computed(() => joined(
      maskedPhone(props.lead.customer?.phone),
      vehicle(props.lead.interest),
      label("channel", props.lead.channel),
    ));
    const third = computed(() => {
      const role = session.user?.role;
      const owner = role === "consultant" ? null : props.lead.consultant?.display_name;
      const place = role === "group_admin" || (session.user?.stores?.length || 0) > 1
        ? store(props.lead.store_code)?.name || props.lead.store_code : null;
      return joined(
        label("status", props.lead.status),
        label("stage", props.lead.stage),
        owner, place,
        shortDateTime(props.lead.received_at || props.lead.created_at, props.lead.store_code),
      );
    });
    return { second, third };
  },
  template: `
    <router-link :to="{ name: 'lead', params: { id: lead.id } }" class="card">
      <span class="card__line card__line--first">
        <span class="card__name">{{ lead.customer?.name || '—' }}</span>
        <span v-if="fresh" class="chip chip--new">{{ $t('leads.new') }}</span>
        <LeadBadges :lead="lead" />
        <ResponseClock :due="lead.status === 'assigned' ? lead.first_contact_due_at : null"
                       :contacted="lead.first_contact_at" />
      </span>
      <span class="card__line">{{ second }}</span>
      <span class="card__line card__line--muted">{{ third }}</span>
    </router-link>`,
};
