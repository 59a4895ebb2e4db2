// A customer in a list: name and lifecycle; phones; tags and city. The
// whole card opens the profile.
import { computed } from "vue";
import { useI18n } from "vue-i18n";
import { label } from "../i18n.js";
import { customerPhone } from "../format.js";

export default {
  name: "CustomerCard",
  props: {
    customer: { type: Object, required: true },
  },
  setup(props) {
    const { t } = useI18n();
    const phones = computed(() => (props.customer.phones || [])
      .map((phone) => customerPhone(phone, t("customer.extension"))).join(" · "));
    return { phones, label };
  },
  template: `
    <router-link :to="{ name: 'customer', params: { id: customer.id } }" class="card">
      <span class="card__line card__line--first">
        <span class="card__name">{{ customer.name || $t('customer.noName') }}</span>
        <span class="chip" :class="'chip--' + customer.lifecycle">{{ label('lifecycle', customer.lifecycle) }}</span>
      </span>
      <span class="card__line">{{ phones || customer.emails?.[0] || '—' }}</span>
      <span class="card__line card__line--muted">
        <span v-if="customer.city">{{ customer.city }}</span>
        <span v-for="tag in customer.tags" :key="tag" class="tag">{{ tag }}</span>
      </span>
    </router-link>`,
};
