// Managers: the store's test-drive vehicles, each with its status
// (available, in service, retired: only an available one is booked), and a
// new one (stock number or VIN, brand, model, trim, fuel type). A 422's
// errors show at their fields, a 409 says the number is taken.
import { ref } from "vue";
import { useI18n } from "vue-i18n";
import * as api from "../api.js";
import { messagesAt } from "./customers.js";
import { bookingProblem, FUEL_TYPES, label, VEHICLE_STATUSES, vehicleName } from "./testDrives.js";

function blank() {
  return { stock_number: "", vin: "", brand: "", model: "", trim: "", fuel_type: "EV" };
}

export default {
  name: "VehicleAdmin",
  props: {
    store: { type: String, required: true },
    vehicles: { type: Array, required: true },
  },
  emits: ["changed"],
  setup(props, { emit }) {
    const { t } = useI18n();
    const form = ref(blank());
    const errors = ref(null);
    const busy = ref(false);
    const problem = ref("");
    const notice = ref("");
    const adding = ref(false);

    async function setStatus(vehicle, status) {
      problem.value = notice.value = "";
      try {
        await api.changeVehicle(vehicle.id, { status });
        notice.value = t("vehicle.statusSaved", { name: vehicleName(vehicle, false), status: label("vehicleStatus", status) });
        emit("changed");
      } catch (error) {
        problem.value = bookingProblem(error);
      }
    }

    async function add() {
      problem.value = notice.value = "";
      errors.value = null;
      const f = form.value;
      if (!f.stock_number.trim() && !f.vin.trim()) {
        errors.value = { stock_number: [t("vehicle.numberNeeded")] };
        return;
      }
      busy.value = true;
      try {
        const vehicle = await api.addVehicle({
          store_code: props.store, stock_number: f.stock_number.trim() || null, vin: f.vin.trim().toUpperCase() || null,
          brand: f.brand.trim(), model: f.model.trim(), trim: f.trim.trim() || null, fuel_type: f.fuel_type,
        });
        form.value = blank();
        adding.value = false;
        notice.value = t("vehicle.added", { name: vehicleName(vehicle) });
        emit("changed", vehicle);
      } catch (error) {
        errors.value = error.status === 422 ? error.errors : null;
        problem.value = error.status === 422 && error.errors ? t("vehicle.fix") : bookingProblem(error);
      } finally {
        busy.value = false;
      }
    }

    const at = (field) => messagesAt(errors.value, field).join(" ");
    return { form, busy, problem, notice, adding, setStatus, add, at, label, vehicleName, VEHICLE_STATUSES, FUEL_TYPES };
  },
  template: `
    <section class="panel vehicles-admin" :aria-label="$t('vehicle.manage')">
      <h2 class="panel__title">{{ $t('vehicle.manage') }}</h2>
      <ul class="vehicle-list">
        <li v-for="vehicle in vehicles" :key="vehicle.id" class="vehicle-row" :data-vehicle-row="vehicle.id">
          <strong>{{ vehicleName(vehicle) }}</strong>
          <span class="muted">{{ label('fuel', vehicle.fuel_type) }}</span>
          <ul class="chips" role="group" :aria-label="$t('vehicle.statusOf', { name: vehicleName(vehicle, false) })">
            <li v-for="status in VEHICLE_STATUSES" :key="status">
              <button type="button" class="chip-button" :data-vehicle-status="status" :aria-pressed="vehicle.status === status ? 'true' : 'false'"
                      @click="vehicle.status !== status && setStatus(vehicle, status)">{{ label('vehicleStatus', status) }}</button>
            </li>
          </ul>
        </li>
      </ul>
      <button v-if="!adding" type="button" class="button" @click="adding = true">{{ $t('vehicle.add') }}</button>
      <form v-else class="form" novalidate @submit.prevent="add">
        <div class="pair">
          <div class="field">
            <label for="vehicle-stock">{{ $t('vehicle.stockNumber') }}</label>
            <input id="vehicle-stock" v-model="form.stock_number" maxlength="32" autocomplete="off"
                   :aria-invalid="at('stock_number') ? 'true' : 'false'" aria-describedby="vehicle-stock-error">
            <span id="vehicle-stock-error" class="field__error">{{ at('stock_number') }}</span>
          </div>
          <div class="field">
            <label for="vehicle-vin">{{ $t('vehicle.vin') }}</label>
            <input id="vehicle-vin" v-model="form.vin" maxlength="17" autocomplete="off" autocapitalize="characters"
                   :aria-invalid="at('vin') ? 'true' : 'false'" aria-describedby="vehicle-vin-error">
            <span id="vehicle-vin-error" class="field__error">{{ at('vin') }}</span>
          </div>
        </div>
        <div class="pair">
          <div class="field">
            <label for="vehicle-brand">{{ $t('vehicle.brand') }}</label>
            <input id="vehicle-brand" v-model="form.brand" maxlength="60" autocomplete="off" required
                   :aria-invalid="at('brand') ? 'true' : 'false'" aria-describedby="vehicle-brand-error">
            <span id="vehicle-brand-error" class="field__error">{{ at('brand') }}</span>
          </div>
          <div class="field">
            <label for="vehicle-model">{{ $t('vehicle.model') }}</label>
            <input id="vehicle-model" v-model="form.model" maxlength="60" autocomplete="off" required
                   :aria-invalid="at('model') ? 'true' : 'false'" aria-describedby="vehicle-model-error">
            <span id="vehicle-model-error" class="field__error">{{ at('model') }}</span>
          </div>
        </div>
        <div class="field">
          <label for="vehicle-trim">{{ $t('vehicle.trim') }}</label>
          <input id="vehicle-trim" v-model="form.trim" maxlength="100" autocomplete="off">
        </div>
        <div class="field">
          <span class="field__name" id="vehicle-fuel">{{ $t('vehicle.fuel') }}</span>
          <ul class="chips" role="group" aria-labelledby="vehicle-fuel">
            <li v-for="fuel in FUEL_TYPES" :key="fuel">
              <button type="button" class="chip-button" :aria-pressed="form.fuel_type === fuel ? 'true' : 'false'"
                      @click="form.fuel_type = fuel">{{ label('fuel', fuel) }}</button>
            </li>
          </ul>
        </div>
        <div class="actions">
          <button type="submit" class="button button--primary" :disabled="busy">{{ $t('vehicle.save') }}</button>
          <button type="button" class="button button--quiet" @click="adding = false">{{ $t('vehicle.close') }}</button>
        </div>
      </form>
      <p class="notice" role="status">{{ notice }}</p>
      <p class="problem" role="alert">{{ problem }}</p>
    </section>`,
};
