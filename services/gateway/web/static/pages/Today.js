// Today (今天): the caller's open follow-up tasks (a manager's: the
// stores'), in three lists: overdue, due today (the store's day, in its
// time zone) and upcoming. Each shows the customer (read from the lead:
// a task carries only its lead's id), the kind and when it is due, with
// done and snooze. Reads again on lead events from the stream, when the
// page is shown again, and on "refresh".
import { computed, onMounted, onUnmounted, reactive, ref } from "vue";
import { useI18n } from "vue-i18n";
import * as api from "../api.js";
import AppBar from "../components/AppBar.js";
import TaskItem from "../components/TaskItem.js";
import { bucket, followupProblem } from "../components/followups.js";
import { isManager } from "../components/leads.js";

const BUCKETS = ["overdue", "today", "upcoming"];
const AT_ONCE = 4;        // lead reads in flight
const TICK = 60 * 1000;   // tasks move from "today" to "overdue" as time passes
const SETTLE = 500;       // ms after the last lead event before reading the tasks again

export default {
  name: "Today",
  components: { AppBar, TaskItem },
  setup() {
    const { t } = useI18n();
    const tasks = ref(null);
    const leads = reactive({});   // lead id -> the lead (null: could not be read)
    const problem = ref("");
    const now = ref(Date.now());

    async function readLeads(ids) {
      const queue = ids.filter((id) => !(id in leads));
      async function worker() {
        while (queue.length) {
          const id = queue.shift();
          try {
            leads[id] = await api.lead(id);
          } catch {
            leads[id] = null;   // the link still works
          }
        }
      }
      await Promise.all(Array.from({ length: AT_ONCE }, worker));
    }

    async function load() {
      try {
        const found = await api.followups({ status: "open" });
        tasks.value = found;
        now.value = Date.now();
        problem.value = "";
        readLeads([...new Set(found.map((task) => task.lead_id))]);
      } catch (error) {
        if (!error.sessionEnded) problem.value = followupProblem(error);
      }
    }

    const groups = computed(() => {
      const out = Object.fromEntries(BUCKETS.map((name) => [name, []]));
      for (const task of tasks.value || []) out[bucket(task, now.value)].push(task);
      return BUCKETS.map((name) => ({ name, tasks: out[name] }));
    });
    const nameOf = (task) => leads[task.lead_id]?.customer?.name || "";
    const vehicleOf = (task) => {
      const i = leads[task.lead_id]?.interest || {};
      return [i.brand, i.model].filter(Boolean).join(" ");
    };
    const ownerOf = (task) => (isManager() ? leads[task.lead_id]?.consultant?.display_name || "" : "");

    function changed(task) {
      delete leads[task.lead_id];   // its state may have changed too
      load();
    }

    let stream = null;
    let timer = null;
    let pending = null;
    const shown = () => { if (document.visibilityState === "visible") load(); };
    onMounted(() => {
      load();
      const touched = (event) => {   // a burst of events: one read
        if (event.lead_id) delete leads[event.lead_id];
        clearTimeout(pending);
        pending = setTimeout(load, SETTLE);
      };
      stream = api.openStream({ lead_assigned: touched, lead_changed: touched });
      timer = setInterval(() => { now.value = Date.now(); }, TICK);
      document.addEventListener("visibilitychange", shown);
    });
    onUnmounted(() => {
      stream?.close();
      clearInterval(timer);
      clearTimeout(pending);
      document.removeEventListener("visibilitychange", shown);
    });

    return { tasks, groups, problem, load, changed, nameOf, vehicleOf, ownerOf,
             count: computed(() => (tasks.value || []).length), t };
  },
  template: `
    <AppBar :title="$t('today.title')" />
    <main class="page" id="main">
      <div class="today-head">
        <p class="muted" role="status">{{ tasks === null ? $t('today.loading') : $t('today.count', { n: count }) }}</p>
        <button type="button" class="button" @click="load">{{ $t('today.refresh') }}</button>
      </div>
      <p class="problem" role="alert">{{ problem }}</p>
      <template v-if="tasks">
        <p v-if="!tasks.length" class="note">{{ $t('today.empty') }}</p>
        <section v-for="group in groups" :key="group.name" :class="['today-group', 'today-group--' + group.name]"
                 :aria-labelledby="'today-' + group.name" :data-group="group.name">
          <h2 :id="'today-' + group.name" class="today-group__title">{{ $t('today.' + group.name) }}
            <span class="tag">{{ group.tasks.length }}</span></h2>
          <ul v-if="group.tasks.length" class="task-list">
            <TaskItem v-for="task in group.tasks" :key="task.id + task.due_at" :task="task" :who="nameOf(task)" @changed="changed">
              <router-link :to="{ name: 'lead', params: { id: task.lead_id } }" class="task__lead">
                <strong>{{ nameOf(task) || $t('today.customer') }}</strong>
                <span v-if="vehicleOf(task)" class="muted"> · {{ vehicleOf(task) }}</span>
                <span v-if="ownerOf(task)" class="muted"> · {{ ownerOf(task) }}</span>
              </router-link>
            </TaskItem>
          </ul>
          <p v-else class="muted">{{ $t('today.none') }}</p>
        </section>
      </template>
    </main>`,
};
