// The lead's discussion: the thread (mentions shown as names) and a
// composer with an @ picker of colleagues of the lead's store
// (/v1/me/colleagues; while that cannot be read, the people the lead
// names: its owners, whoever acted or wrote on it).
// Emits `changed(lead)`.
import { computed, ref } from "vue";
import { useI18n } from "vue-i18n";
import * as api from "../api.js";
import { dateTime } from "../format.js";
import { actionProblem } from "./leads.js";
import { colleagues } from "./LeadAssign.js";

/** Everyone the lead itself names: its consultants, actors, authors and those mentioned. */
function namedOnLead(lead) {
  const people = new Map();
  const add = (person) => { if (person?.id && person.display_name) people.set(person.id, person); };
  add(lead.consultant);
  for (const entry of lead.assignments || []) { add(entry.consultant); add(entry.actor); }
  for (const entry of lead.history || []) add(entry.actor);
  for (const note of lead.discussion || []) { add(note.author); (note.mentions || []).forEach(add); }
  return [...people.values()];
}

export default {
  name: "Discussion",
  props: {
    lead: { type: Object, required: true },
  },
  emits: ["changed"],
  setup(props, { emit }) {
    const { t } = useI18n();
    const body = ref("");
    const mentions = ref([]);   // [{id, display_name}]
    const picking = ref(false);
    const staff = ref(null);    // the store's staff (managers), once loaded
    const busy = ref(false);
    const problem = ref("");

    const me = computed(() => api.session.user?.id);
    const candidates = computed(() => {
      const people = staff.value || namedOnLead(props.lead);
      return people.filter((person) => person.id !== me.value)
        .sort((a, b) => (a.display_name || "").localeCompare(b.display_name || ""));
    });

    async function openPicker() {
      picking.value = !picking.value;
      if (picking.value && staff.value === null) {
        try {
          staff.value = (await colleagues(props.lead.store_code))
            .map((user) => ({ id: user.id, display_name: user.display_name }));
        } catch {
          staff.value = null;  // the people on the lead will do
        }
      }
    }
    function typed(event) {
      if (event.data === "@" || event.data === "＠") openPicker();
    }
    function toggle(person) {
      const chosen = mentions.value.some((each) => each.id === person.id);
      mentions.value = chosen ? mentions.value.filter((each) => each.id !== person.id) : [...mentions.value, person];
      if (!chosen) {
        const text = body.value.endsWith("@") ? body.value.slice(0, -1) : body.value;
        body.value = `${text}${text && !text.endsWith(" ") ? " " : ""}@${person.display_name} `;
      }
    }
    async function send() {
      problem.value = "";
      if (!body.value.trim()) {
        problem.value = t("discussion.empty");
        return;
      }
      busy.value = true;
      try {
        const lead = await api.commentLead(props.lead.id, body.value.trim(), mentions.value.map((each) => each.id));
        emit("changed", lead);
        body.value = "";
        mentions.value = [];
        picking.value = false;
      } catch (error) {
        problem.value = actionProblem(error);
      } finally {
        busy.value = false;
      }
    }
    return { body, mentions, picking, candidates, openPicker, typed, toggle, send, busy, problem,
             chosen: (person) => mentions.value.some((each) => each.id === person.id),
             when: (iso) => dateTime(iso, props.lead.store_code) };
  },
  template: `
    <section class="panel">
      <h2 class="panel__title">{{ $t('discussion.title') }}</h2>
      <ol v-if="lead.discussion?.length" class="thread">
        <li v-for="note in lead.discussion" :key="note.id" class="thread__note">
          <span class="thread__head"><strong>{{ note.author?.display_name || $t('history.someone') }}</strong>
            <span class="muted"> · {{ when(note.created_at) }}</span></span>
          <span class="thread__body">{{ note.body }}</span>
          <span v-if="note.mentions?.length" class="thread__mentions">
            <span class="visually-hidden">{{ $t('discussion.mentioned') }}</span>
            <span v-for="person in note.mentions" :key="person.id" class="mention">@{{ person.display_name || '—' }}</span>
          </span>
        </li>
      </ol>
      <p v-else class="muted">{{ $t('discussion.none') }}</p>
      <form class="form" @submit.prevent="send">
        <div class="field">
          <label for="comment-body">{{ $t('discussion.write') }}</label>
          <textarea id="comment-body" v-model="body" maxlength="4000" :placeholder="$t('discussion.hint')"
                    @input="typed"></textarea>
        </div>
        <ul v-if="mentions.length" class="chips" :aria-label="$t('discussion.mentioning')">
          <li v-for="person in mentions" :key="person.id">
            <button type="button" class="chip-button" :aria-label="$t('discussion.unmention', { name: person.display_name })"
                    @click="toggle(person)">@{{ person.display_name }} <span aria-hidden="true">×</span></button>
          </li>
        </ul>
        <div v-if="picking" class="picker" role="group" :aria-label="$t('discussion.pick')">
          <p v-if="!candidates.length" class="muted">{{ $t('discussion.nobody') }}</p>
          <ul v-else class="chips">
            <li v-for="person in candidates" :key="person.id">
              <button type="button" class="chip-button" :aria-pressed="chosen(person) ? 'true' : 'false'"
                      @click="toggle(person)">{{ person.display_name }}</button>
            </li>
          </ul>
        </div>
        <div class="actions">
          <button type="button" class="button" :aria-expanded="picking ? 'true' : 'false'" @click="openPicker">{{ $t('discussion.mention') }}</button>
          <button type="submit" class="button button--primary" :disabled="busy">{{ $t('discussion.send') }}</button>
        </div>
        <p class="problem" role="alert">{{ problem }}</p>
      </form>
    </section>`,
};
