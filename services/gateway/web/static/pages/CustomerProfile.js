// A customer: call, WeChat and email; lifecycle, tags, preferences, owner
// and store; the traits derived from what they wrote and did (confirm or
// remove each); their leads; the timeline. Managers also export the
// customer's data and erase it.
import { computed, ref, watch } from "vue";
import { useI18n } from "vue-i18n";
import { useRoute, useRouter } from "vue-router";
import * as api from "../api.js";
import { label } from "../i18n.js";
import { customerPhone, dateTime, dialable, money, store } from "../format.js";
import AppBar from "../components/AppBar.js";
import Facts from "../components/Facts.js";
import Timeline from "../components/Timeline.js";
import { downloadJson, isManager, languageName, reason } from "../components/customers.js";

export default {
  name: "CustomerProfile",
  components: { AppBar, Facts, Timeline },
  props: { id: { type: String, required: true } },
  setup(props) {
    const { t } = useI18n();
    const route = useRoute();
    const router = useRouter();
    const customer = ref(null);
    const failure = ref(null);
    const notice = ref("");
    const deciding = ref("");     // the trait being decided
    const erasing = ref(false);   // the erase dialog is open
    const typed = ref("");
    const busy = ref(false);
    const copied = ref(false);

    const people = ref({});       // consultant id -> display name, from the customer's leads

    async function load() {
      failure.value = null;
      try {
        customer.value = await api.customer(props.id);
      } catch (error) {
        if (!error.sessionEnded) failure.value = error;
        return;
      }
      // the API gives consultants by id; a lead of each names them
      const firstLead = new Map();
      for (const lead of customer.value.leads || []) {
        if (lead.consultant_id && !firstLead.has(lead.consultant_id)) firstLead.set(lead.consultant_id, lead.lead_id);
      }
      const named = await Promise.all([...firstLead.values()].slice(0, 5).map((id) => api.lead(id).catch(() => null)));
      people.value = Object.fromEntries(named.filter((lead) => lead?.consultant?.id)
        .map((lead) => [lead.consultant.id, lead.consultant.display_name]));
    }
    watch(() => props.id, () => {
      customer.value = null;
      notice.value = route.query.merged ? t("customer.merged") : "";
      erasing.value = false;
      load();
    }, { immediate: true });

    const problem = computed(() => {
      const error = failure.value;
      if (!error) return "";
      return error.status === 404 ? t("customer.notFound") : t("customer.failed", { reason: reason(error) });
    });
    const when = (iso) => dateTime(iso, customer.value?.store_code);
    const yesNo = (value) => (value === true ? t("lead.yes") : value === false ? t("lead.no") : null);
    const me = computed(() => api.session.user);

    const phones = computed(() => (customer.value?.phones || []).map((phone) => ({
      href: `tel:${dialable(phone.e164)}${phone.extension ? `,${phone.extension}` : ""}`,
      text: customerPhone(phone, t("customer.extension")),
    })));
    const about = computed(() => {
      const c = customer.value;
      return [[t("customer.lifecycle"), label("lifecycle", c.lifecycle)],
              [t("customer.city"), c.city], [t("customer.language"), languageName(c.language)],
              [t("customer.source"), c.source],
              [t("customer.store"), store(c.store_code)?.name || c.store_code],
              [t("customer.owner"), !c.owner_id ? t("customer.noOwner")
                : c.owner_id === me.value?.id ? t("customer.ownerYou", { name: me.value.display_name })
                  : people.value[c.owner_id] || t("customer.otherOwner")],
              [t("customer.created"), when(c.created_at)], [t("customer.updated"), when(c.updated_at)]];
    });
    const preferences = computed(() => {
      const p = customer.value.preferences || {};
      const budget = [p.budget?.min, p.budget?.max].filter((v) => v !== null && v !== undefined)
        .map((v) => money(v, p.budget?.currency || "CNY")).join(" – ");
      const trade = p.trade_in || {};
      const tradeIn = [trade.brand, trade.model, trade.year,
                       trade.mileage_km !== null && trade.mileage_km !== undefined
                         ? t("customer.km", { km: trade.mileage_km }) : null].filter(Boolean).join(" ");
      return [[t("form.brands"), (p.brands || []).join("、")], [t("form.models"), (p.models || []).join("、")],
              [t("form.trim"), p.trim], [t("form.colours"), (p.colours || []).join("、")],
              [t("customer.budget"), budget],
              [t("form.fuelTypes"), (p.fuel_types || []).map((fuel) => label("fuel", fuel)).join("、")],
              [t("form.finance"), yesNo(p.finance_interest)], [t("form.tradeIn"), tradeIn]];
    });
    const traits = computed(() => customer.value?.traits || []);
    const evidenceSource = (source) => label("evidence", source);
    const percent = (confidence) => Math.round(Math.max(0, Math.min(1, confidence || 0)) * 100);

    async function decide(trait, status) {
      deciding.value = trait.trait;
      notice.value = "";
      try {
        const answer = await api.decideTrait(props.id, trait.trait, status);
        if (answer && answer.trait) Object.assign(trait, answer);
        else trait.status = status;
        notice.value = t(status === "confirmed" ? "customer.traitConfirmed" : "customer.traitRemoved",
                         { trait: trait.label });
        if (status === "removed") customer.value.traits = traits.value.filter((each) => each !== trait);
      } catch (error) {
        if (!error.sessionEnded) notice.value = t("customer.actionFailed", { reason: reason(error) });
      } finally {
        deciding.value = "";
      }
    }

    async function copyWechat() {
      try {
        await navigator.clipboard.writeText(customer.value.wechat_id);
        copied.value = true;
        setTimeout(() => { copied.value = false; }, 2000);
      } catch {
        notice.value = t("customer.copyFailed");
      }
    }

    async function exportData() {
      busy.value = true;
      notice.value = "";
      try {
        const data = await api.exportCustomer(props.id);
        downloadJson(data, `customer-${props.id}.json`);
        notice.value = t("customer.exported");
      } catch (error) {
        if (!error.sessionEnded) notice.value = t("customer.actionFailed", { reason: reason(error) });
      } finally {
        busy.value = false;
      }
    }

    const eraseWord = computed(() => customer.value?.name || "ERASE");
    const eraseReady = computed(() => {
      const text = typed.value.trim();
      return text === "ERASE" || (customer.value?.name && text === customer.value.name.trim());
    });
    function openErase() {
      typed.value = "";
      erasing.value = true;
    }
    async function erase() {
      if (!eraseReady.value) return;
      busy.value = true;
      notice.value = "";
      try {
        await api.eraseCustomer(props.id);
        router.replace({ name: "customers", query: { erased: "1" } });
      } catch (error) {
        if (!error.sessionEnded) notice.value = t("customer.actionFailed", { reason: reason(error) });
      } finally {
        busy.value = false;
        erasing.value = false;
      }
    }

    return { customer, problem, notice, phones, about, preferences, traits, deciding, erasing, typed, busy,
             copied, eraseWord, eraseReady, manager: computed(isManager), when, label, evidenceSource, percent,
             decide, copyWechat, exportData, openErase, erase, store };
  },
  template: `
    <AppBar :title="customer?.name || $t('customer.title')" :back="{ name: 'customers' }" />
    <main class="page" id="main">
      <p class="problem" role="alert">{{ problem }}</p>
      <p class="notice" role="status">{{ notice }}</p>
      <template v-if="customer">
        <div class="profile-head">
          <span class="chip" :class="'chip--' + customer.lifecycle">{{ label('lifecycle', customer.lifecycle) }}</span>
          <span v-for="tag in customer.tags" :key="tag" class="tag">{{ tag }}</span>
        </div>
        <div class="actions">
          <a v-for="phone in phones" :key="phone.href" :href="phone.href" class="button button--primary">
            {{ $t('customer.call', { phone: phone.text }) }}</a>
          <a v-for="email in customer.emails" :key="email" :href="'mailto:' + email" class="button">
            {{ $t('customer.email', { email }) }}</a>
          <button v-if="customer.wechat_id" type="button" class="button" @click="copyWechat">
            {{ copied ? $t('customer.copied') : $t('customer.wechat', { id: customer.wechat_id }) }}</button>
          <router-link :to="{ name: 'customerEdit', params: { id: customer.id } }" class="button">
            {{ $t('customer.edit') }}</router-link>
        </div>
        <p v-if="customer.duplicates?.length && manager" class="note">
          {{ $t('customer.maybeDuplicate') }}
          <router-link :to="{ name: 'duplicates' }">{{ $t('customer.reviewDuplicates') }}</router-link>
        </p>
        <div class="sections">
          <section class="panel">
            <h2 class="panel__title">{{ $t('customer.about') }}</h2>
            <Facts :rows="about" />
          </section>
          <section class="panel">
            <h2 class="panel__title">{{ $t('customer.contact') }}</h2>
            <ul class="plain">
              <li v-for="phone in phones" :key="phone.href" class="phone">{{ phone.text }}</li>
              <li v-for="email in customer.emails" :key="email">{{ email }}</li>
              <li v-if="customer.wechat_id">{{ $t('customer.wechatId', { id: customer.wechat_id }) }}</li>
            </ul>
          </section>
          <section class="panel">
            <h2 class="panel__title">{{ $t('form.preferences') }}</h2>
            <Facts :rows="preferences" />
          </section>
          <section class="panel">
            <h2 class="panel__title">{{ $t('customer.traits') }}</h2>
            <ul v-if="traits.length" class="traits">
              <li v-for="trait in traits" :key="trait.trait" class="trait">
                <div class="trait__head">
                  <strong>{{ trait.label }}</strong>
                  <span v-if="trait.status === 'confirmed'" class="chip chip--won">{{ $t('customer.confirmed') }}</span>
                </div>
                <div class="meter" role="meter" :aria-valuenow="percent(trait.confidence)" aria-valuemin="0"
                     aria-valuemax="100" :aria-label="$t('customer.confidence')">
                  <span class="meter__bar" :style="{ width: percent(trait.confidence) + '%' }"></span>
                </div>
                <span class="muted">{{ $t('customer.confidenceValue', { percent: percent(trait.confidence) }) }}</span>
                <ul class="evidence">
                  <li v-for="(item, n) in trait.evidence" :key="n">
                    <q>{{ item.text }}</q>
                    <span class="muted"> · {{ evidenceSource(item.source) }} · {{ when(item.at) }}</span>
                  </li>
                </ul>
                <div class="actions">
                  <button v-if="trait.status !== 'confirmed'" type="button" class="button" :disabled="deciding === trait.trait"
                          @click="decide(trait, 'confirmed')">{{ $t('customer.confirm') }}</button>
                  <button type="button" class="button button--danger" :disabled="deciding === trait.trait"
                          @click="decide(trait, 'removed')">{{ $t('customer.remove') }}</button>
                </div>
              </li>
            </ul>
            <p v-else class="muted">{{ $t('customer.noTraits') }}</p>
          </section>
          <section class="panel">
            <h2 class="panel__title">{{ $t('customer.leads') }}</h2>
            <ul v-if="customer.leads?.length" class="history">
              <li v-for="lead in customer.leads" :key="lead.lead_id">
                <router-link :to="{ name: 'lead', params: { id: lead.lead_id } }" class="link-row">
                  {{ lead.source }} · {{ store(lead.store_code)?.name || lead.store_code }} · {{ when(lead.linked_at) }}
                </router-link>
              </li>
            </ul>
            <p v-else class="muted">{{ $t('customer.noLeads') }}</p>
          </section>
          <section class="panel panel--wide">
            <h2 class="panel__title">{{ $t('customer.timeline') }}</h2>
            <Timeline :customer-id="customer.id" :store-code="customer.store_code" :people="people" />
          </section>
          <section v-if="manager" class="panel panel--wide">
            <h2 class="panel__title">{{ $t('customer.data') }}</h2>
            <p class="muted">{{ $t('customer.dataHint') }}</p>
            <div class="actions">
              <button type="button" class="button" :disabled="busy" @click="exportData">{{ $t('customer.export') }}</button>
              <button type="button" class="button button--danger" :disabled="busy" @click="openErase">{{ $t('customer.erase') }}</button>
            </div>
            <form v-if="erasing" class="dialog" role="alertdialog" aria-labelledby="erase-title"
                  aria-describedby="erase-body" @submit.prevent="erase">
              <h3 id="erase-title">{{ $t('customer.eraseTitle') }}</h3>
              <p id="erase-body">{{ $t('customer.eraseBody', { word: eraseWord }) }}</p>
              <div class="field">
                <label for="erase-confirm">{{ $t('customer.eraseType', { word: eraseWord }) }}</label>
                <input id="erase-confirm" v-model="typed" type="text" autocomplete="off">
              </div>
              <div class="actions">
                <button type="button" class="button" @click="erasing = false">{{ $t('form.cancel') }}</button>
                <button type="submit" class="button button--danger-solid" :disabled="!eraseReady || busy">
                  {{ $t('customer.eraseNow') }}</button>
              </div>
            </form>
          </section>
        </div>
      </template>
    </main>`,
};
