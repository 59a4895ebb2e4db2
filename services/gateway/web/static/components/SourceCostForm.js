// A source's monthly cost in a store, typed in yuan and sent in fen
// (`PUT /v1/admin/source-costs` {store_code, source, month, amount}); "remove"
// sends amount null. A 422's `errors` show at their fields. Emits `saved`
// (the answer) and `close`.
import { computed, ref } from "vue";
import { useI18n } from "vue-i18n";
import * as api from "../api.js";
import { messagesAt, toMinor } from "./customers.js";
import { analyticsProblem } from "./analytics.js";

export default {
  name: "SourceCostForm",
  props: {
    source: { type: String, required: true },
    stores: { type: Array, required: true },        // [{code, name}] the caller may set costs for
    storeCode: { type: String, default: "" },       // the dashboard's store, if one is chosen
    month: { type: String, required: true },        // YYYY-MM to start with
  },
  emits: ["saved", "close"],
  setup(props, { emit }) {
    const { t } = useI18n();
    const store = ref(props.storeCode || props.stores[0]?.code || "");
    const month = ref(props.month);
    const amount = ref("");
    const errors = ref(null);
    const problem = ref("");
    const busy = ref(false);
    const at = (field) => messagesAt(errors.value, field).join(" ");

    async function save(remove = false) {
      errors.value = null;
      problem.value = "";
      const minor = remove ? null : toMinor(amount.value);
      if (!remove && (minor === null || Number.isNaN(minor) || minor < 0)) {
        errors.value = { amount: [t("analytics.cost.notAmount")] };
        return;
      }
      busy.value = true;
      try {
        const answer = await api.saveSourceCost({ store_code: store.value, source: props.source,
                                                  month: month.value, amount: minor });
        emit("saved", answer);
      } catch (error) {
        if (error.status === 422 && error.errors) errors.value = error.errors;
        else problem.value = analyticsProblem(error);
      } finally {
        busy.value = false;
      }
    }
    const general = computed(() => (errors.value ? messagesAt(errors.value, "source").join(" ") : ""));
    return { store, month, amount, busy, problem, general, at, save };
  },
  template: `
    <form class="form cost-form" data-cost-form @submit.prevent="save(false)">
      <h3 class="cost-form__title">{{ $t('analytics.cost.title', { source }) }}</h3>
      <div v-if="stores.length > 1" class="field">
        <label for="cost-store">{{ $t('analytics.filter.store') }}</label>
        <select id="cost-store" v-model="store">
          <option v-for="s in stores" :key="s.code" :value="s.code">{{ s.name }}</option>
        </select>
        <span class="field__error">{{ at('store_code') }}</span>
      </div>
      <div class="pair">
        <div class="field">
          <label for="cost-month">{{ $t('analytics.cost.month') }}</label>
          <input id="cost-month" v-model="month" type="month" required>
          <span class="field__error" data-error="month">{{ at('month') }}</span>
        </div>
        <div class="field">
          <label for="cost-amount">{{ $t('analytics.cost.amount') }}</label>
          <input id="cost-amount" v-model="amount" inputmode="decimal" autocomplete="off" :placeholder="$t('analytics.cost.amountHint')">
          <span class="field__error" data-error="amount">{{ at('amount') }}</span>
        </div>
      </div>
      <p class="problem" role="alert">{{ general || problem }}</p>
      <div class="actions">
        <button type="submit" class="button button--primary" :disabled="busy">{{ $t('analytics.cost.save') }}</button>
        <button type="button" class="button button--danger" :disabled="busy" @click="save(true)">{{ $t('analytics.cost.remove') }}</button>
        <button type="button" class="button" @click="$emit('close')">{{ $t('analytics.cost.cancel') }}</button>
      </div>
    </form>`,
};
