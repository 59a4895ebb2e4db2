// A customer's timeline, newest first, a page at a time: each kind of entry
// (lead, assigned, task, behaviour, created, edited, merged, imported,
// trait) as a sentence in the app's language.
import { ref, watch } from "vue";
import { useI18n } from "vue-i18n";
import * as api from "../api.js";
import { label } from "../i18n.js";
import { dateTime } from "../format.js";
import { reason } from "./customers.js";

export default {
  name: "Timeline",
  props: {
    customerId: { type: String, required: true },
    storeCode: { type: String, default: null },
    people: { type: Object, default: () => ({}) },  // consultant id -> display name
  },
  setup(props) {
    const { t } = useI18n();
    const items = ref([]);
    const nextCursor = ref(null);
    const loading = ref(false);
    const problem = ref("");

    async function load(cursor) {
      loading.value = true;
      problem.value = "";
      try {
        const page = await api.customerTimeline(props.customerId, cursor);
        items.value = cursor ? [...items.value, ...page.items] : page.items;
        nextCursor.value = page.next_cursor;
      } catch (error) {
        if (!error.sessionEnded) problem.value = t("timeline.failed", { reason: reason(error) });
      } finally {
        loading.value = false;
      }
    }
    watch(() => props.customerId, () => load(null), { immediate: true });

    const vehicle = (data) => [data?.brand, data?.model].filter(Boolean).join(" ");
    const who = (id) => (id && id === api.session.user?.id ? t("timeline.you")
      : props.people[id] || t("timeline.someone"));

    /** One entry as a sentence. */
    function describe(entry) {
      const d = entry.data || {};
      switch (entry.kind) {
        case "lead": {
          const model = vehicle(d.interest);
          return model ? t("timeline.leadModel", { source: d.source || "", model })
            : t("timeline.lead", { source: d.source || "" });
        }
        case "assigned":
          return t("timeline.assigned", { who: d.consultant_name || who(d.consultant_id) });
        case "behaviour": {
          const what = label("behaviour", d.kind || d.behaviour);
          const model = vehicle(d.details || d);
          return model ? t("timeline.behaviourModel", { what, model }) : t("timeline.behaviour", { what });
        }
        case "created":
          return t(d.by === "import" ? "timeline.createdImport" : "timeline.created", { who: who(entry.actor_id) });
        case "edited":
          return (d.fields || []).length
            ? t("timeline.editedFields", { who: who(entry.actor_id),
                                           fields: d.fields.map((field) => label("field", field)).join("、") })
            : t("timeline.edited", { who: who(entry.actor_id) });
        case "merged":
          return d.reason ? t("timeline.mergedWhy", { who: who(entry.actor_id), reason: d.reason })
            : t("timeline.merged", { who: who(entry.actor_id) });
        case "imported":
          return t("timeline.imported", { file: d.filename || "", row: d.row ?? "" });
        default:
          return label("timelineKind", entry.kind);
      }
    }

    return { items, nextCursor, loading, problem, describe, label,
             when: (iso) => dateTime(iso, props.storeCode), more: () => load(nextCursor.value) };
  },
  template: `
    <div>
      <p class="problem" role="alert">{{ problem }}</p>
      <ol v-if="items.length" class="timeline">
        <li v-for="entry in items" :key="entry.id" class="timeline__entry" :class="'timeline__entry--' + entry.kind">
          <span class="timeline__kind">{{ label('timelineKind', entry.kind) }}</span>
          <span>{{ describe(entry) }}</span>
          <span class="muted timeline__when">{{ when(entry.occurred_at) }}</span>
          <router-link v-if="entry.lead_id" :to="{ name: 'lead', params: { id: entry.lead_id } }" class="timeline__link">
            {{ $t('timeline.openLead') }}</router-link>
        </li>
      </ol>
      <p v-else-if="loading" class="muted">{{ $t('customers.loading') }}</p>
      <p v-else-if="!problem" class="muted">{{ $t('timeline.empty') }}</p>
      <button v-if="nextCursor" type="button" class="button more" :disabled="loading" @click="more">
        {{ $t('timeline.more') }}</button>
    </div>`,
};
