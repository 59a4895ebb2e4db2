// Test drives (试驾): a store's test-drive vehicles, the chosen one's week
// (its free 30-minute slots and what is booked, day by day, in the store's
// time zone) and, for a lead (`?lead=`, from the lead's page), booking a
// free slot: how long, a specialist (optional), the driving licence
// number, the customer's email and language for the invitation. A 409
// (someone booked it first) says so and reads the week again. The week's
// bookings and the lead's: check in, cancel, the invitation. Managers add
// vehicles and change their status.
import { computed, onMounted, onUnmounted, ref, watch } from "vue";
import { useI18n } from "vue-i18n";
import { useRoute, useRouter } from "vue-router";
import * as api from "../api.js";
import { dateTime, store as storeOf, timeOfDay } from "../format.js";
import { language } from "../i18n.js";
import AppBar from "../components/AppBar.js";
import TestDriveItem from "../components/TestDriveItem.js";
import VehicleAdmin from "../components/VehicleAdmin.js";
import { isManager } from "../components/leads.js";
import { bookingProblem, dayName, daySlots, label, lengthsFrom, vehicleName, weekDays, weekRange, WEEKS_AHEAD } from "../components/testDrives.js";

function blankBooking() {
  return { minutes: 30, specialist: "", licence: "", email: "", language: language() === "en" ? "en" : "zh", note: "" };
}

export default {
  name: "TestDrives",
  components: { AppBar, TestDriveItem, VehicleAdmin },
  setup() {
    const { t } = useI18n();
    const route = useRoute();
    const router = useRouter();
    const leadId = computed(() => route.query.lead || "");
    const lead = ref(null);
    const storeCode = ref("");
    const vehicles = ref(null);
    const vehicleId = ref("");
    const week = ref(0);
    const day = ref("");
    const calendar = ref(null);
    const leadBookings = ref([]);
    const colleagues = ref([]);
    const slot = ref(null);
    const booking = ref(blankBooking());
    const busy = ref(false);
    const problem = ref("");
    const notice = ref("");
    const calendarProblem = ref("");

    const stores = computed(() => api.session.user?.stores || []);
    const vehicle = computed(() => vehicles.value?.find((each) => each.id === vehicleId.value) || null);
    const days = computed(() => (storeCode.value ? weekDays(storeCode.value, week.value) : []));
    const slots = computed(() => (calendar.value && day.value ? daySlots(calendar.value, day.value, storeCode.value) : []));
    const lengths = computed(() => (slot.value && calendar.value ? lengthsFrom(calendar.value, slot.value) : []));
    const vehicleOf = (id) => vehicles.value?.find((each) => each.id === id) || null;

    async function loadLead() {
      lead.value = null;
      if (!leadId.value) return;
      try {
        lead.value = await api.lead(leadId.value);
        storeCode.value = lead.value.store_code;
      } catch (error) {
        if (!error.sessionEnded) problem.value = bookingProblem(error);
      }
      await loadLeadBookings();
    }

    async function loadLeadBookings() {
      if (!leadId.value) return;
      try {
        leadBookings.value = await api.leadTestDrives(leadId.value);
      } catch (error) {
        if (!error.sessionEnded) calendarProblem.value = bookingProblem(error);
      }
    }

    async function loadVehicles() {
      if (!storeCode.value) return;
      try {
        vehicles.value = await api.vehicles(storeCode.value);
        const wanted = route.query.vehicle;
        if (!vehicleOf(vehicleId.value)) {
          vehicleId.value = (vehicleOf(wanted) || vehicles.value.find((each) => each.status === "available") || vehicles.value[0])?.id || "";
        }
      } catch (error) {
        vehicles.value = [];
        if (!error.sessionEnded) calendarProblem.value = bookingProblem(error);
      }
      api.storeStaff(storeCode.value).then((answer) => { colleagues.value = answer.items || []; }).catch(() => {});
    }

    async function loadCalendar({ keepDay = true } = {}) {
      if (!vehicleId.value || !days.value.length) {
        calendar.value = null;
        return;
      }
      const { from, to } = weekRange(days.value, storeCode.value);
      try {
        const answer = await api.vehicleCalendar(vehicleId.value, from, to);
        calendar.value = answer;
        calendarProblem.value = "";
        if (!keepDay || !days.value.includes(day.value)) {
          day.value = days.value.find((each) => daySlots(answer, each, storeCode.value).some((s) => s.free)) || days.value[0];
        }
        if (slot.value && !answer.free.some((free) => free.starts_at === slot.value.starts_at)) slot.value = null;
      } catch (error) {
        if (!error.sessionEnded) calendarProblem.value = bookingProblem(error);
      }
    }

    onMounted(async () => {
      storeCode.value = route.query.store || stores.value[0]?.code || "";
      await loadLead();
      await loadVehicles();
    });
    watch(storeCode, (next, before) => {
      if (before && next !== before) {
        vehicleId.value = "";
        loadVehicles();
      }
    });
    watch([vehicleId, week], () => {
      slot.value = null;
      loadCalendar({ keepDay: false });
      if (vehicleId.value && vehicleId.value !== route.query.vehicle) {
        router.replace({ query: { ...route.query, vehicle: vehicleId.value } });
      }
    });

    // back to the page: what others booked meanwhile
    const seen = () => { if (document.visibilityState === "visible") loadCalendar(); };
    onMounted(() => document.addEventListener("visibilitychange", seen));
    onUnmounted(() => document.removeEventListener("visibilitychange", seen));

    function pick(each) {
      slot.value = each;
      problem.value = notice.value = "";
      if (!lengthsFrom(calendar.value, each).includes(booking.value.minutes)) booking.value.minutes = 30;
    }

    async function book() {
      problem.value = notice.value = "";
      const chosen = slot.value;
      if (!chosen || !lead.value) return;
      const b = booking.value;
      busy.value = true;
      try {
        const made = await api.bookTestDrive({
          lead_id: lead.value.id, vehicle_id: vehicleId.value, starts_at: chosen.starts_at,
          ends_at: new Date(Date.parse(chosen.starts_at) + b.minutes * 60 * 1000).toISOString(),
          specialist_id: b.specialist || undefined, licence_number: b.licence.trim() || undefined,
          customer_email: b.email.trim() || undefined, language: b.language, note: b.note.trim() || undefined,
        });
        booking.value = blankBooking();
        slot.value = null;
        notice.value = t("testDrive.booked", { time: dateTime(made.starts_at, storeCode.value), vehicle: vehicleName(vehicle.value, false) });
      } catch (error) {
        problem.value = bookingProblem(error);
        if (error.status === 409) slot.value = null;
      } finally {
        busy.value = false;
      }
      await Promise.all([loadCalendar(), loadLeadBookings()]);
    }

    function changed() {
      loadCalendar();
      loadLeadBookings();
    }
    async function vehiclesChanged(added) {
      if (added?.id) vehicleId.value = added.id;
      await loadVehicles();
      loadCalendar();
    }

    const who = computed(() => lead.value?.customer?.name || "");
    const range = (each) => `${timeOfDay(each.starts_at, storeCode.value)}–${timeOfDay(each.ends_at, storeCode.value)}`;
    return {
      lead, leadId, storeCode, stores, vehicles, vehicleId, vehicle, week, day, days, calendar, slots, slot, lengths,
      booking, colleagues, busy, problem, notice, calendarProblem, leadBookings, who, range, pick, book, changed,
      vehiclesChanged, vehicleOf, vehicleName, label, WEEKS_AHEAD,
      manager: computed(isManager),
      storeName: (code) => storeOf(code)?.name || code,
      dayLabel: (each) => dayName(each, storeCode.value),
      chosenAt: computed(() => (slot.value ? `${dateTime(slot.value.starts_at, storeCode.value)}` : "")),
      weekBookings: computed(() => calendar.value?.bookings || []),
      back: computed(() => (leadId.value ? { name: "lead", params: { id: leadId.value } } : null)),
    };
  },
  template: `
    <AppBar :title="$t('testDrive.title')" :back="back" />
    <main class="page test-drives" id="main">
      <p v-if="lead" class="note test-drives__for">{{ $t('testDrive.forLead', { name: who || $t('testDrive.theLead') }) }}</p>
      <p v-else-if="!leadId" class="note">{{ $t('testDrive.fromLead') }}</p>
      <div v-if="!lead && stores.length > 1" class="field">
        <label for="drive-store">{{ $t('testDrive.store') }}</label>
        <select id="drive-store" v-model="storeCode">
          <option v-for="each in stores" :key="each.code" :value="each.code">{{ each.name || each.code }}</option>
        </select>
      </div>

      <section class="panel" :aria-label="$t('testDrive.vehicles')">
        <h2 class="panel__title">{{ $t('testDrive.vehicles') }}</h2>
        <p v-if="vehicles && !vehicles.length" class="muted">{{ $t('testDrive.noVehicles') }}</p>
        <ul v-if="vehicles?.length" class="chips" role="group" :aria-label="$t('testDrive.vehicles')">
          <li v-for="each in vehicles" :key="each.id">
            <button type="button" class="chip-button" :data-vehicle="each.id" :aria-pressed="vehicleId === each.id ? 'true' : 'false'"
                    @click="vehicleId = each.id">
              {{ vehicleName(each, false) }}<span v-if="each.status !== 'available'" class="muted"> · {{ label('vehicleStatus', each.status) }}</span>
            </button>
          </li>
        </ul>
        <p v-if="vehicle" class="muted">{{ vehicleName(vehicle) }} · {{ label('fuel', vehicle.fuel_type) }}</p>
        <p v-if="vehicle && vehicle.status !== 'available'" class="note">{{ $t('testDrive.notAvailable', { status: label('vehicleStatus', vehicle.status) }) }}</p>
      </section>

      <section v-if="vehicle" class="panel calendar" :aria-label="$t('testDrive.week')">
        <div class="calendar__head">
          <h2 class="panel__title">{{ $t('testDrive.week') }}</h2>
          <div class="actions">
            <button type="button" class="button button--quiet" :disabled="week === 0" @click="week--">{{ $t('testDrive.earlier') }}</button>
            <button type="button" class="button button--quiet" :disabled="week >= WEEKS_AHEAD" @click="week++">{{ $t('testDrive.later') }}</button>
          </div>
        </div>
        <ul class="chips days" role="group" :aria-label="$t('testDrive.days')">
          <li v-for="each in days" :key="each">
            <button type="button" class="chip-button" :data-day="each" :aria-pressed="day === each ? 'true' : 'false'" @click="day = each">
              {{ dayLabel(each) }}</button>
          </li>
        </ul>
        <p class="problem" role="alert">{{ calendarProblem }}</p>
        <p v-if="calendar && !slots.length" class="muted">{{ $t('testDrive.closed') }}</p>
        <ul v-if="slots.length" class="slots" :aria-label="$t('testDrive.slotsOf', { day: dayLabel(day) })">
          <li v-for="each in slots" :key="each.starts_at + each.free">
            <button v-if="each.free" type="button" class="slot" :data-slot="each.starts_at" :disabled="!lead"
                    :aria-pressed="slot?.starts_at === each.starts_at ? 'true' : 'false'"
                    :aria-label="$t('testDrive.freeAt', { time: range(each) })" @click="pick(each)">{{ range(each).split('–')[0] }}</button>
            <span v-else class="slot slot--busy" :data-busy="each.starts_at">
              {{ range(each).split('–')[0] }} <span class="slot__word">{{ $t('testDrive.busy') }}</span></span>
          </li>
        </ul>
      </section>

      <section v-if="vehicle && lead" class="panel book" :aria-label="$t('testDrive.book')">
        <h2 class="panel__title">{{ $t('testDrive.book') }}</h2>
        <p v-if="!slot" class="muted">{{ $t('testDrive.pickSlot') }}</p>
        <form v-else class="form" novalidate @submit.prevent="book">
          <p class="book__slot" data-chosen-slot><strong>{{ chosenAt }}</strong> · {{ vehicleName(vehicle, false) }}</p>
          <div class="field">
            <span class="field__name" id="drive-length">{{ $t('testDrive.length') }}</span>
            <ul class="chips" role="group" aria-labelledby="drive-length">
              <li v-for="minutes in lengths" :key="minutes">
                <button type="button" class="chip-button" :aria-pressed="booking.minutes === minutes ? 'true' : 'false'"
                        @click="booking.minutes = minutes">{{ $t('testDrive.minutes', { n: minutes }) }}</button>
              </li>
            </ul>
          </div>
          <div class="field">
            <label for="drive-specialist">{{ $t('testDrive.specialist') }}</label>
            <select id="drive-specialist" v-model="booking.specialist">
              <option value="">{{ $t('testDrive.noSpecialist') }}</option>
              <option v-for="person in colleagues" :key="person.id" :value="person.id">{{ person.display_name }} · {{ label('role', person.role) }}</option>
            </select>
          </div>
          <div class="field">
            <label for="drive-licence">{{ $t('testDrive.licence') }}</label>
            <input id="drive-licence" v-model="booking.licence" maxlength="32" autocomplete="off" autocapitalize="characters"
                   :placeholder="$t('testDrive.licenceHint')">
          </div>
          <div class="pair">
            <div class="field">
              <label for="drive-email">{{ $t('testDrive.email') }}</label>
              <input id="drive-email" v-model="booking.email" type="email" maxlength="254" autocomplete="off">
            </div>
            <div class="field">
              <label for="drive-language">{{ $t('testDrive.language') }}</label>
              <select id="drive-language" v-model="booking.language">
                <option value="zh">中文</option>
                <option value="en">English</option>
              </select>
            </div>
          </div>
          <div class="field">
            <label for="drive-note">{{ $t('testDrive.note') }}</label>
            <input id="drive-note" v-model="booking.note" maxlength="1000" autocomplete="off">
          </div>
          <button type="submit" class="button button--primary" :disabled="busy">{{ $t('testDrive.confirm') }}</button>
        </form>
        <p class="notice" role="status">{{ notice }}</p>
        <p class="problem" role="alert">{{ problem }}</p>
      </section>

      <section v-if="lead" class="panel" :aria-label="$t('testDrive.leadBookings')">
        <h2 class="panel__title">{{ $t('testDrive.leadBookings') }}</h2>
        <ul v-if="leadBookings.length" class="bookings">
          <TestDriveItem v-for="each in leadBookings" :key="each.id + each.status" :booking="each" :vehicle="vehicleOf(each.vehicle_id)"
                         :who="who" @changed="changed" />
        </ul>
        <p v-else class="muted">{{ $t('testDrive.noneForLead') }}</p>
      </section>

      <section v-if="vehicle && !lead" class="panel" :aria-label="$t('testDrive.weekBookings')">
        <h2 class="panel__title">{{ $t('testDrive.weekBookings') }}</h2>
        <ul v-if="weekBookings.length" class="bookings">
          <TestDriveItem v-for="each in weekBookings" :key="each.id + each.status" :booking="each" :vehicle="vehicle" @changed="changed" />
        </ul>
        <p v-else class="muted">{{ $t('testDrive.noneThisWeek') }}</p>
      </section>

      <VehicleAdmin v-if="manager && storeCode && vehicles" :store="storeCode" :vehicles="vehicles" @changed="vehiclesChanged" />
    </main>`,
};
