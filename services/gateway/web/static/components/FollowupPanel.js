// Follow-ups on the lead's page: log one in a few taps (channel and
// outcome chips, notes, the next step, when next: the store's cadence,
// tomorrow 10:00 or a time picked), with a script from the picker (the
// hint first) sent as script_id; the lead's open tasks (done, snooze) and
// its records, newest first, with their photos and recordings. Photos,
// voice notes and call recordings chosen in the form are sent once the
// record is saved (one at a time, each with its progress; a refused file is
// said at the file, the record stays). Emits `logged` after a record (the
// lead's state changes: contacted, its clock stopped).
import { computed, ref, watch } from "vue";
import { useI18n } from "vue-i18n";
import * as api from "../api.js";
import { label } from "../i18n.js";
import { dateTime } from "../format.js";
import { followupProblem, fromInput, LOGGABLE, scriptTitle as titleOf, RECORD_CHANNELS, RECORD_OUTCOMES, TASK_KINDS, tomorrowMorning } from "./followups.js";
import AttachmentList from "./AttachmentList.js";
import AttachmentPicker from "./AttachmentPicker.js";
import { uploadProblem } from "./attachments.js";
import ScriptPicker from "./ScriptPicker.js";
import TaskItem from "./TaskItem.js";

function blank() {
  return { channel: "call", inbound: false, outcome: "", notes: "", nextStep: "", when: "cadence", at: "", kind: "" };
}

export default {
  name: "FollowupPanel",
  components: { AttachmentList, AttachmentPicker, ScriptPicker, TaskItem },
  props: {
    lead: { type: Object, required: true },
  },
  emits: ["logged"],
  setup(props, { emit }) {
    const { t } = useI18n();
    const form = ref(blank());
    const scriptId = ref("");
    const scripts = ref([]);
    const records = ref([]);
    const tasks = ref([]);
    const busy = ref(false);
    const problem = ref("");
    const notice = ref("");
    const listProblem = ref("");
    const showScripts = ref(true);
    const files = ref([]);      // photos and recordings to send with the next record
    const store = computed(() => props.lead.store_code);
    const loggable = computed(() => LOGGABLE.includes(props.lead.status));

    async function loadLists() {
      try {
        const [found, open] = await Promise.all([
          api.followupRecords(props.lead.id), api.followups({ lead_id: props.lead.id, status: "open" }),
        ]);
        records.value = found;
        tasks.value = open;
        listProblem.value = "";
      } catch (error) {
        listProblem.value = followupProblem(error);
      }
    }
    // the lead changes (on the stream, or after an action): its tasks may have too
    watch(() => [props.lead.id, props.lead.status, props.lead.stage, props.lead.grade, props.lead.updated_at],
          loadLists, { immediate: true });

    async function send() {
      problem.value = notice.value = "";
      const f = form.value;
      if (!f.outcome) {
        problem.value = t("followup.pickOutcome");
        return;
      }
      let next = null;
      if (f.when === "tomorrow") next = tomorrowMorning(store.value);
      if (f.when === "pick") {
        next = fromInput(f.at, store.value);
        if (!next) {
          problem.value = t("followup.badTime");
          return;
        }
      }
      busy.value = true;
      files.value = files.value.filter((item) => item.state === "ready");  // last time's refusals go
      let record;
      try {
        record = await api.logFollowup({
          lead_id: props.lead.id, channel: f.channel,  // the API completes the lead's earliest open task
          direction: f.inbound ? "inbound" : "outbound", outcome: f.outcome, notes: f.notes.trim() || null,
          next_step: f.nextStep.trim() || null, next_due_at: next || undefined,
          next_kind: next && f.kind ? f.kind : undefined, script_id: scriptId.value || undefined,
        });
        form.value = blank();
        scriptId.value = "";
        const refused = await sendFiles(record.id);
        await loadLists();
        const upcoming = tasks.value[0];
        notice.value = upcoming
          ? t("followup.loggedNext", { kind: label("task", upcoming.kind), time: dateTime(upcoming.due_at, store.value) })
          : t("followup.logged");
        if (refused) notice.value += ` ${t("attach.someRefused", { n: refused })}`;
        emit("logged");
      } catch (error) {
        problem.value = followupProblem(error);
      } finally {
        busy.value = false;
      }
    }

    /** Send the chosen files to the saved record, one at a time; the number refused. */
    async function sendFiles(recordId) {
      let refused = 0;
      for (const item of files.value.filter((each) => each.state === "ready")) {
        item.state = "sending";
        item.sent = 0;
        try {
          await api.attachToRecord(recordId, item.file, item.filename, (sent, total) => {
            item.sent = sent;
            item.total = total;
          });
          item.state = "sent";
        } catch (error) {
          item.state = "failed";
          item.problem = uploadProblem(error, item.kind) || t("attach.failed");
          refused++;
        }
      }
      files.value = files.value.filter((each) => each.state !== "sent");
      return refused;
    }
    function addFile(item) {
      files.value.push(item);
    }
    function removeFile(key) {
      files.value = files.value.filter((each) => each.key !== key);
    }

    const chosenTitle = computed(() => {
      const script = scripts.value.find((each) => each.id === scriptId.value);
      return script ? titleOf(script) : "";
    });
    const scriptTitle = (id) => {
      const script = scripts.value.find((each) => each.id === id);
      return script ? titleOf(script) : "";
    };
    function taskChanged() {
      loadLists();
      emit("logged");
    }

    return { form, scriptId, scripts, records, tasks, busy, problem, notice, listProblem, loggable, showScripts,
             files, addFile, removeFile,
             send, chosenTitle, scriptTitle, taskChanged, label, RECORD_CHANNELS, RECORD_OUTCOMES, TASK_KINDS,
             when: (iso) => dateTime(iso, store.value), who: computed(() => props.lead.customer?.name || "") };
  },
  template: `
    <section v-if="loggable" class="panel panel--wide followup" :aria-label="$t('followup.log')">
      <h2 class="panel__title">{{ $t('followup.log') }}</h2>
      <form class="form" novalidate @submit.prevent="send">
        <div class="field">
          <span class="field__name" id="record-channel">{{ $t('followup.channel') }}</span>
          <ul class="chips" role="group" aria-labelledby="record-channel">
            <li v-for="code in RECORD_CHANNELS" :key="code">
              <button type="button" class="chip-button" :data-record-channel="code" :aria-pressed="form.channel === code ? 'true' : 'false'"
                      @click="form.channel = code">{{ label('recordChannel', code) }}</button>
            </li>
          </ul>
          <label class="check"><input type="checkbox" v-model="form.inbound"> {{ $t('followup.inbound') }}</label>
        </div>
        <div class="field">
          <span class="field__name" id="record-outcome">{{ $t('followup.outcome') }}</span>
          <ul class="chips" role="group" aria-labelledby="record-outcome">
            <li v-for="code in RECORD_OUTCOMES" :key="code">
              <button type="button" class="chip-button" :data-outcome="code" :aria-pressed="form.outcome === code ? 'true' : 'false'"
                      @click="form.outcome = code">{{ label('outcome', code) }}</button>
            </li>
          </ul>
        </div>
        <div class="field">
          <label for="record-notes">{{ $t('followup.notes') }}</label>
          <textarea id="record-notes" v-model="form.notes" maxlength="4000" :placeholder="$t('followup.notesHint')"></textarea>
        </div>
        <div class="field">
          <label for="record-next-step">{{ $t('followup.nextStep') }}</label>
          <input id="record-next-step" v-model="form.nextStep" maxlength="500" autocomplete="off" :placeholder="$t('followup.nextStepHint')">
        </div>
        <div class="field">
          <span class="field__name" id="record-when">{{ $t('followup.nextAt') }}</span>
          <ul class="chips" role="group" aria-labelledby="record-when">
            <li><button type="button" class="chip-button" data-when="cadence" :aria-pressed="form.when === 'cadence' ? 'true' : 'false'" @click="form.when = 'cadence'">{{ $t('followup.byCadence') }}</button></li>
            <li><button type="button" class="chip-button" data-when="tomorrow" :aria-pressed="form.when === 'tomorrow' ? 'true' : 'false'" @click="form.when = 'tomorrow'">{{ $t('followup.tomorrowMorning') }}</button></li>
            <li><button type="button" class="chip-button" data-when="pick" :aria-pressed="form.when === 'pick' ? 'true' : 'false'" @click="form.when = 'pick'">{{ $t('followup.pickTime') }}</button></li>
          </ul>
        </div>
        <div v-if="form.when !== 'cadence'" class="pair">
          <div v-if="form.when === 'pick'" class="field">
            <label for="record-next-at">{{ $t('followup.pickTime') }}</label>
            <input id="record-next-at" v-model="form.at" type="datetime-local">
          </div>
          <div class="field">
            <label for="record-next-kind">{{ $t('followup.nextKind') }}</label>
            <select id="record-next-kind" v-model="form.kind">
              <option value="">{{ $t('followup.byCadence') }}</option>
              <option v-for="kind in TASK_KINDS" :key="kind" :value="kind">{{ label('task', kind) }}</option>
            </select>
          </div>
        </div>
        <AttachmentPicker :items="files" :disabled="busy" @add="addFile" @remove="removeFile" />
        <p class="muted" data-chosen-script>{{ chosenTitle ? $t('followup.withScript', { title: chosenTitle }) : $t('followup.noScript') }}</p>
        <button type="submit" class="button button--primary" :disabled="busy">{{ $t('followup.save') }}</button>
      </form>
      <p class="notice" role="status">{{ notice }}</p>
      <p class="problem" role="alert">{{ problem }}</p>
    </section>

    <section v-if="loggable" class="panel panel--wide" :aria-label="$t('script.title')">
      <h2 class="panel__title">{{ $t('script.title') }}</h2>
      <ScriptPicker :lead-id="lead.id" :stage="lead.stage" :store-code="lead.store_code" v-model:chosen="scriptId" @loaded="scripts = $event" />
    </section>

    <section class="panel" :aria-label="$t('followup.openTasks')">
      <h2 class="panel__title">{{ $t('followup.openTasks') }}</h2>
      <ul v-if="tasks.length" class="task-list">
        <TaskItem v-for="task in tasks" :key="task.id + task.due_at" :task="task" :who="who" @changed="taskChanged" />
      </ul>
      <p v-else class="muted">{{ $t('followup.noOpenTasks') }}</p>
      <p class="problem" role="alert">{{ listProblem }}</p>
    </section>

    <section class="panel" :aria-label="$t('followup.records')">
      <h2 class="panel__title">{{ $t('followup.records') }}</h2>
      <ol v-if="records.length" class="timeline records">
        <li v-for="record in records" :key="record.id" class="timeline__entry record" :data-record="record.id">
          <span class="timeline__kind">{{ label('recordChannel', record.channel) }} · {{ label('direction', record.direction) }}</span>
          <strong>{{ label('outcome', record.outcome) }}</strong>
          <span v-if="record.notes" class="record__notes">{{ record.notes }}</span>
          <span v-if="record.next_step">{{ $t('followup.nextStepIs', { step: record.next_step }) }}</span>
          <span v-if="record.script_id" class="muted">{{ $t('followup.usedScript', { title: scriptTitle(record.script_id) || record.script_id }) }}</span>
          <AttachmentList v-if="record.attachments?.length" :attachments="record.attachments" />
          <span class="timeline__when muted">{{ when(record.created_at) }}</span>
        </li>
      </ol>
      <p v-else class="muted">{{ $t('followup.noRecords') }}</p>
    </section>`,
};
