// One test drive: when, which vehicle, its status, the lead (a link), the
// licence as recorded (masked); check in (the customer came: the licence
// number may be given now), cancel (with a reason), and the invitation
// (.ics) to download. Emits `changed` with the booking's answer.
import { computed, ref } from "vue";
import { useI18n } from "vue-i18n";
import * as api from "../api.js";
import { dateTime, timeOfDay } from "../format.js";
import { bookingProblem, download, label, vehicleName } from "./testDrives.js";

export default {
  name: "TestDriveItem",
  props: {
    booking: { type: Object, required: true },
    vehicle: { type: Object, default: null },
    who: { type: String, default: "" },         // the customer's name, when known
  },
  emits: ["changed"],
  setup(props, { emit }) {
    const { t } = useI18n();
    const open = ref("");                         // "", "checkIn" or "cancel"
    const licence = ref("");
    const reason = ref("");
    const busy = ref(false);
    const problem = ref("");
    const notice = ref("");
    const store = computed(() => props.booking.store_code);

    async function act(action) {
      busy.value = true;
      problem.value = notice.value = "";
      try {
        const answer = action === "checkIn"
          ? await api.checkInTestDrive(props.booking.id, licence.value.trim())
          : await api.cancelTestDrive(props.booking.id, reason.value.trim());
        open.value = "";
        notice.value = t(action === "checkIn" ? "testDrive.checkedIn" : "testDrive.cancelled");
        emit("changed", answer);
      } catch (error) {
        problem.value = bookingProblem(error);
      } finally {
        busy.value = false;
      }
    }

    async function invitation() {
      problem.value = "";
      try {
        download(await api.testDriveInvitation(props.booking.id), `test-drive-${props.booking.id}.ics`);
      } catch (error) {
        problem.value = bookingProblem(error);
      }
    }

    return { open, licence, reason, busy, problem, notice, act, invitation, label, vehicleName,
             title: computed(() => props.who || t("testDrive.theLead")),
             when: computed(() => `${dateTime(props.booking.starts_at, store.value)}–${timeOfDay(props.booking.ends_at, store.value)}`) };
  },
  template: `
    <li :class="['booking', 'booking--' + booking.status]" :data-booking="booking.id">
      <div class="booking__head">
        <strong class="booking__when">{{ when }}</strong>
        <span :class="['badge', 'badge--drive-' + booking.status]" data-booking-status>{{ label('testDriveStatus', booking.status) }}</span>
      </div>
      <span v-if="vehicle">{{ vehicleName(vehicle) }}</span>
      <router-link :to="{ name: 'lead', params: { id: booking.lead_id } }" class="booking__lead">{{ title }}</router-link>
      <span class="muted">{{ booking.licence_recorded ? $t('testDrive.licenceOnFile', { last4: booking.licence_last4 }) : $t('testDrive.noLicence') }}</span>
      <span v-if="booking.note" class="muted">{{ booking.note }}</span>
      <div class="actions">
        <button v-if="booking.status === 'booked' || booking.status === 'no_show'" type="button" class="button button--primary"
                :aria-expanded="open === 'checkIn' ? 'true' : 'false'" @click="open = open === 'checkIn' ? '' : 'checkIn'">
          {{ $t('testDrive.checkIn') }}</button>
        <button v-if="booking.status === 'booked'" type="button" class="button button--quiet"
                :aria-expanded="open === 'cancel' ? 'true' : 'false'" @click="open = open === 'cancel' ? '' : 'cancel'">
          {{ $t('testDrive.cancel') }}</button>
        <button type="button" class="button button--quiet" @click="invitation">{{ $t('testDrive.invitation') }}</button>
      </div>
      <form v-if="open === 'checkIn'" class="form" novalidate @submit.prevent="act('checkIn')">
        <div v-if="!booking.licence_recorded" class="field">
          <label :for="'licence-' + booking.id">{{ $t('testDrive.licenceNow') }}</label>
          <input :id="'licence-' + booking.id" v-model="licence" maxlength="32" autocomplete="off" autocapitalize="characters">
        </div>
        <button type="submit" class="button button--primary" :disabled="busy">{{ $t('testDrive.confirmCheckIn') }}</button>
      </form>
      <form v-if="open === 'cancel'" class="form" novalidate @submit.prevent="act('cancel')">
        <div class="field">
          <label :for="'cancel-' + booking.id">{{ $t('testDrive.cancelReason') }}</label>
          <input :id="'cancel-' + booking.id" v-model="reason" maxlength="200" autocomplete="off">
        </div>
        <button type="submit" class="button button--danger" :disabled="busy">{{ $t('testDrive.confirmCancel') }}</button>
      </form>
      <p class="notice" role="status">{{ notice }}</p>
      <p class="problem" role="alert">{{ problem }}</p>
    </li>`,
};
