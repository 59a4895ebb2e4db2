// A customer, new (/customers/new) or changed (/customers/:id/edit): one
// form for both. Phones and emails are rows to add and remove; tags, brands,
// models and colours are chips; the budget is typed in yuan and sent in fen.
// The API's 422 errors show next to their fields; a 409 says whose a phone
// or email is, with a link to that customer (and, for managers, to merge).
import { computed, reactive, ref, watch } from "vue";
import { useI18n } from "vue-i18n";
import { useRouter } from "vue-router";
import * as api from "../api.js";
import { customerPhone } from "../format.js";
import AppBar from "../components/AppBar.js";
import ChipsInput from "../components/ChipsInput.js";
import { FUEL_TYPES, LANGUAGE_CHOICES, isManager, languageName, messagesAt, reason, toMinor, toYuan }
  from "../components/customers.js";


function blank() {
  return {
    name: "", phones: [""], emails: [""], wechat_id: "", city: "", language: "", source: "", tags: [],
    store_code: "", brands: [], models: [], trim: "", colours: [], budget_min: "", budget_max: "",
    fuel_types: [], finance_interest: "", trade_brand: "", trade_model: "", trade_year: "", trade_mileage: "",
  };
}

/** The form's values from a customer as the API gives it. */
function fromCustomer(customer) {
  const p = customer.preferences || {};
  const trade = p.trade_in || {};
  const text = (value) => (value === null || value === undefined ? "" : String(value));
  return {
    ...blank(),
    name: text(customer.name),
    phones: customer.phones?.length ? customer.phones.map((phone) => customerPhone(phone)) : [""],
    emails: customer.emails?.length ? [...customer.emails] : [""],
    wechat_id: text(customer.wechat_id), city: text(customer.city), language: text(customer.language),
    source: text(customer.source), tags: [...(customer.tags || [])], store_code: text(customer.store_code),
    brands: [...(p.brands || [])], models: [...(p.models || [])], trim: text(p.trim),
    colours: [...(p.colours || [])], budget_min: toYuan(p.budget?.min), budget_max: toYuan(p.budget?.max),
    fuel_types: [...(p.fuel_types || [])],
    finance_interest: p.finance_interest === true ? "yes" : p.finance_interest === false ? "no" : "",
    trade_brand: text(trade.brand), trade_model: text(trade.model), trade_year: text(trade.year),
    trade_mileage: text(trade.mileage_km),
  };
}

export default {
  name: "CustomerForm",
  components: { AppBar, ChipsInput },
  props: { id: { type: String, default: null } },
  setup(props) {
    const { t } = useI18n();
    const router = useRouter();
    const form = reactive(blank());
    const revision = ref(null);
    const loaded = ref(!props.id);
    const busy = ref(false);
    const failure = ref(null);    // the last ApiError
    const local = ref({});        // errors found here before sending (the budget)

    const stores = computed(() => api.session.user?.stores || []);
    const errors = computed(() => ({ ...(failure.value?.errors || {}), ...local.value }));
    const at = (...path) => messagesAt(errors.value, ...path);
    const conflict = computed(() => failure.value?.status === 409 && failure.value.errors?.customer_ids !== undefined);
    const stale = computed(() => failure.value?.status === 409 && failure.value.errors?.revision !== undefined);
    const others = computed(() => (conflict.value ? failure.value.errors.customer_ids || [] : []));
    const problem = computed(() => {
      const error = failure.value;
      if (Object.keys(local.value).length) return t("form.fix");
      if (!error) return "";
      if (stale.value) return t("form.stale");
      if (conflict.value) return t("form.taken");
      if (error.status === 422) return t("form.fix");
      if (error.status === 404) return t("customer.notFound");
      if (error.status === 403) return t("form.forbidden");
      if (error.status === 0) return t("form.offline");
      return t("form.failed", { reason: reason(error) });
    });

    async function load() {
      if (!props.id) return;
      loaded.value = false;
      failure.value = null;
      try {
        const customer = await api.customer(props.id);
        Object.assign(form, fromCustomer(customer));
        revision.value = customer.revision;
        loaded.value = true;
      } catch (error) {
        if (!error.sessionEnded) failure.value = error;
      }
    }
    watch(() => props.id, () => {
      Object.assign(form, blank());
      if (!props.id && stores.value.length) form.store_code = stores.value[0].code;
      load();
    }, { immediate: true });

    function addRow(list) {
      list.push("");
    }
    function removeRow(list, index) {
      list.splice(index, 1);
      if (!list.length) list.push("");
    }

    const orNull = (value) => (String(value ?? "").trim() === "" ? null : String(value).trim());
    const number = (value) => (String(value ?? "").trim() === "" ? null : Number(value));

    /** The payload: on create only what was given; on a change every field (emptied ones too). */
    function payload() {
      const budget = { min: toMinor(form.budget_min), max: toMinor(form.budget_max), currency: "CNY" };
      const bad = {};
      if (Number.isNaN(budget.min)) bad.budget_min = [t("form.notAmount")];
      if (Number.isNaN(budget.max)) bad.budget_max = [t("form.notAmount")];
      if (budget.min !== null && budget.max !== null && budget.min > budget.max) bad.budget_max = [t("form.budgetOrder")];
      local.value = Object.keys(bad).length ? { preferences: { budget: bad } } : {};
      if (Object.keys(bad).length) return null;
      const tradeIn = { brand: orNull(form.trade_brand), model: orNull(form.trade_model),
                        year: number(form.trade_year), mileage_km: number(form.trade_mileage) };
      const preferences = {
        brands: form.brands, models: form.models, trim: orNull(form.trim), colours: form.colours,
        budget: budget.min === null && budget.max === null ? null : budget,
        fuel_types: form.fuel_types,
        finance_interest: form.finance_interest === "" ? null : form.finance_interest === "yes",
        trade_in: Object.values(tradeIn).every((value) => value === null) ? null : tradeIn,
      };
      const data = {
        name: orNull(form.name),
        phones: form.phones.map((phone) => phone.trim()).filter(Boolean),
        emails: form.emails.map((email) => email.trim()).filter(Boolean),
        wechat_id: orNull(form.wechat_id), city: orNull(form.city), language: orNull(form.language),
        source: orNull(form.source), tags: form.tags, preferences,
      };
      if (props.id) return { ...data, revision: revision.value };
      const given = Object.fromEntries(Object.entries(data).filter(([, value]) =>
        value !== null && !(Array.isArray(value) && !value.length)));
      given.preferences = Object.fromEntries(Object.entries(preferences).filter(([, value]) =>
        value !== null && !(Array.isArray(value) && !value.length)));
      if (form.store_code) given.store_code = form.store_code;
      return given;
    }

    async function save() {
      if (busy.value) return;
      const data = payload();
      if (!data) {
        failure.value = null;
        return;
      }
      busy.value = true;
      failure.value = null;
      try {
        const saved = props.id ? await api.updateCustomer(props.id, data) : await api.createCustomer(data);
        router.push({ name: "customer", params: { id: saved?.id || props.id } });
      } catch (error) {
        if (!error.sessionEnded) failure.value = error;
      } finally {
        busy.value = false;
      }
    }

    /** The rows the API names (`errors.phones["1"]`): which phone row to mark. */
    const rowErrors = (list, index) => {
      const node = errors.value[list];
      return node && !Array.isArray(node) ? messagesAt(node, index) : [];
    };
    const listErrors = (list) => {  // a message about the list as a whole (409: whose it is)
      const node = errors.value[list];
      return Array.isArray(node) ? node.filter((value) => typeof value === "string") : [];
    };

    return { form, loaded, busy, problem, at, rowErrors, listErrors, conflict, stale, others, stores,
             manager: computed(isManager), FUEL_TYPES, LANGUAGE_CHOICES, languageName, addRow, removeRow, save, load,
             title: computed(() => (props.id ? t("form.editTitle") : t("form.newTitle"))),
             back: computed(() => (props.id ? { name: "customer", params: { id: props.id } } : { name: "customers" })) };
  },
  template: `
    <AppBar :title="title" :back="back" />
    <main class="page page--form" id="main">
      <div class="problem-box" role="alert">
        <p class="problem">{{ problem }}</p>
        <button v-if="stale" type="button" class="button" @click="load">{{ $t('form.reload') }}</button>
        <ul v-if="conflict" class="links">
          <li v-for="other in others" :key="other">
            <router-link :to="{ name: 'customer', params: { id: other } }">{{ $t('form.openOther') }}</router-link>
            <router-link v-if="manager && id" :to="{ name: 'merge', query: { keep: id, merge: other } }">
              {{ $t('form.mergeWith') }}</router-link>
          </li>
        </ul>
      </div>
      <form v-if="loaded" class="form" novalidate @submit.prevent="save">
        <section class="panel">
          <h2 class="panel__title">{{ $t('form.contact') }}</h2>
          <div class="field">
            <label for="customer-name">{{ $t('form.name') }}</label>
            <input id="customer-name" v-model="form.name" type="text" autocomplete="off"
                   :aria-invalid="at('name').length ? 'true' : null" aria-describedby="customer-name-errors">
            <p id="customer-name-errors" class="field__error">{{ at('name').join(' ') }}</p>
          </div>
          <fieldset class="field">
            <legend>{{ $t('form.phones') }}</legend>
            <div v-for="(phone, index) in form.phones" :key="'p' + index" class="row-field">
              <div class="row">
                <input :id="'customer-phone-' + index" v-model="form.phones[index]" type="tel" inputmode="tel"
                       :aria-label="$t('form.phoneN', { n: index + 1 })" autocomplete="off"
                       :aria-invalid="rowErrors('phones', index).length ? 'true' : null"
                       :aria-describedby="'customer-phone-errors-' + index">
                <button type="button" class="button" :aria-label="$t('form.removePhone', { n: index + 1 })"
                        @click="removeRow(form.phones, index)">−</button>
              </div>
              <p :id="'customer-phone-errors-' + index" class="field__error">{{ rowErrors('phones', index).join(' ') }}</p>
            </div>
            <p class="field__error">{{ listErrors('phones').join(' ') }}</p>
            <button type="button" class="button button--quiet" @click="addRow(form.phones)">{{ $t('form.addPhone') }}</button>
          </fieldset>
          <fieldset class="field">
            <legend>{{ $t('form.emails') }}</legend>
            <div v-for="(email, index) in form.emails" :key="'e' + index" class="row-field">
              <div class="row">
                <input :id="'customer-email-' + index" v-model="form.emails[index]" type="email" inputmode="email"
                       :aria-label="$t('form.emailN', { n: index + 1 })" autocomplete="off"
                       :aria-invalid="rowErrors('emails', index).length ? 'true' : null"
                       :aria-describedby="'customer-email-errors-' + index">
                <button type="button" class="button" :aria-label="$t('form.removeEmail', { n: index + 1 })"
                        @click="removeRow(form.emails, index)">−</button>
              </div>
              <p :id="'customer-email-errors-' + index" class="field__error">{{ rowErrors('emails', index).join(' ') }}</p>
            </div>
            <p class="field__error">{{ listErrors('emails').join(' ') }}</p>
            <button type="button" class="button button--quiet" @click="addRow(form.emails)">{{ $t('form.addEmail') }}</button>
          </fieldset>
          <div class="field">
            <label for="customer-wechat">{{ $t('form.wechat') }}</label>
            <input id="customer-wechat" v-model="form.wechat_id" type="text" autocomplete="off"
                   :aria-invalid="at('wechat_id').length ? 'true' : null">
            <p class="field__error">{{ at('wechat_id').join(' ') }}</p>
          </div>
        </section>
        <section class="panel">
          <h2 class="panel__title">{{ $t('form.about') }}</h2>
          <div v-if="!id && stores.length > 1" class="field">
            <label for="customer-store">{{ $t('form.store') }}</label>
            <select id="customer-store" v-model="form.store_code">
              <option v-for="store in stores" :key="store.code" :value="store.code">{{ store.name }}</option>
            </select>
            <p class="field__error">{{ at('store_code').join(' ') }}</p>
          </div>
          <div class="field">
            <label for="customer-city">{{ $t('form.city') }}</label>
            <input id="customer-city" v-model="form.city" type="text" autocomplete="off">
            <p class="field__error">{{ at('city').join(' ') }}</p>
          </div>
          <div class="field">
            <label for="customer-language">{{ $t('form.language') }}</label>
            <select id="customer-language" v-model="form.language">
              <option value="">{{ $t('form.unknown') }}</option>
              <option v-for="tag in LANGUAGE_CHOICES" :key="tag" :value="tag">{{ languageName(tag) }}</option>
              <option v-if="form.language && !LANGUAGE_CHOICES.includes(form.language)" :value="form.language">{{ form.language }}</option>
            </select>
            <p class="field__error">{{ at('language').join(' ') }}</p>
          </div>
          <div class="field">
            <label for="customer-source">{{ $t('form.source') }}</label>
            <input id="customer-source" v-model="form.source" type="text" autocomplete="off">
            <p class="field__error">{{ at('source').join(' ') }}</p>
          </div>
          <ChipsInput id="customer-tags" v-model="form.tags" :label="$t('form.tags')" :placeholder="$t('form.chipsHint')" />
          <p class="field__error">{{ at('tags').join(' ') }}</p>
        </section>
        <section class="panel">
          <h2 class="panel__title">{{ $t('form.preferences') }}</h2>
          <ChipsInput id="customer-brands" v-model="form.brands" :label="$t('form.brands')" :placeholder="$t('form.chipsHint')" />
          <p class="field__error">{{ at('preferences', 'brands').join(' ') }}</p>
          <ChipsInput id="customer-models" v-model="form.models" :label="$t('form.models')" :placeholder="$t('form.chipsHint')" />
          <p class="field__error">{{ at('preferences', 'models').join(' ') }}</p>
          <div class="field">
            <label for="customer-trim">{{ $t('form.trim') }}</label>
            <input id="customer-trim" v-model="form.trim" type="text" autocomplete="off">
            <p class="field__error">{{ at('preferences', 'trim').join(' ') }}</p>
          </div>
          <ChipsInput id="customer-colours" v-model="form.colours" :label="$t('form.colours')" :placeholder="$t('form.chipsHint')" />
          <p class="field__error">{{ at('preferences', 'colours').join(' ') }}</p>
          <div class="pair">
            <div class="field">
              <label for="customer-budget-min">{{ $t('form.budgetMin') }}</label>
              <input id="customer-budget-min" v-model="form.budget_min" type="text" inputmode="decimal" autocomplete="off"
                     :aria-invalid="at('preferences', 'budget', 'min').length || at('preferences', 'budget', 'budget_min').length ? 'true' : null">
              <p class="field__error">{{ [...at('preferences', 'budget', 'min'), ...at('preferences', 'budget', 'budget_min')].join(' ') }}</p>
            </div>
            <div class="field">
              <label for="customer-budget-max">{{ $t('form.budgetMax') }}</label>
              <input id="customer-budget-max" v-model="form.budget_max" type="text" inputmode="decimal" autocomplete="off"
                     :aria-invalid="at('preferences', 'budget', 'max').length || at('preferences', 'budget', 'budget_max').length ? 'true' : null">
              <p class="field__error">{{ [...at('preferences', 'budget', 'max'), ...at('preferences', 'budget', 'budget_max')].join(' ') }}</p>
            </div>
          </div>
          <fieldset class="field">
            <legend>{{ $t('form.fuelTypes') }}</legend>
            <div class="checks">
              <label v-for="fuel in FUEL_TYPES" :key="fuel" class="check">
                <input v-model="form.fuel_types" type="checkbox" :value="fuel"> {{ $t('fuel.' + fuel) }}
              </label>
            </div>
            <p class="field__error">{{ at('preferences', 'fuel_types').join(' ') }}</p>
          </fieldset>
          <div class="field">
            <label for="customer-finance">{{ $t('form.finance') }}</label>
            <select id="customer-finance" v-model="form.finance_interest">
              <option value="">{{ $t('form.unknown') }}</option>
              <option value="yes">{{ $t('lead.yes') }}</option>
              <option value="no">{{ $t('lead.no') }}</option>
            </select>
          </div>
          <fieldset class="field">
            <legend>{{ $t('form.tradeIn') }}</legend>
            <div class="pair">
              <div class="field">
                <label for="customer-trade-brand">{{ $t('form.tradeBrand') }}</label>
                <input id="customer-trade-brand" v-model="form.trade_brand" type="text" autocomplete="off">
              </div>
              <div class="field">
                <label for="customer-trade-model">{{ $t('form.tradeModel') }}</label>
                <input id="customer-trade-model" v-model="form.trade_model" type="text" autocomplete="off">
              </div>
              <div class="field">
                <label for="customer-trade-year">{{ $t('form.tradeYear') }}</label>
                <input id="customer-trade-year" v-model="form.trade_year" type="number" inputmode="numeric" min="1950"
                       :aria-invalid="at('preferences', 'trade_in', 'year').length ? 'true' : null">
                <p class="field__error">{{ at('preferences', 'trade_in', 'year').join(' ') }}</p>
              </div>
              <div class="field">
                <label for="customer-trade-mileage">{{ $t('form.tradeMileage') }}</label>
                <input id="customer-trade-mileage" v-model="form.trade_mileage" type="number" inputmode="numeric" min="0"
                       :aria-invalid="at('preferences', 'trade_in', 'mileage_km').length ? 'true' : null">
                <p class="field__error">{{ at('preferences', 'trade_in', 'mileage_km').join(' ') }}</p>
              </div>
            </div>
            <p class="field__error">{{ [...at('preferences', 'trade_in', 'brand'), ...at('preferences', 'trade_in', 'model')].join(' ') }}</p>
          </fieldset>
        </section>
        <div class="actions actions--end">
          <router-link :to="back" class="button">{{ $t('form.cancel') }}</router-link>
          <button type="submit" class="button button--primary" :disabled="busy">
            {{ busy ? $t('form.saving') : $t('form.save') }}</button>
        </div>
      </form>
    </main>`,
};
