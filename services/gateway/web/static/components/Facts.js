// Label and value pairs as a definition list; empty values are left out.
export default {
  name: "Facts",
  props: {
    rows: { type: Array, required: true },  // [[label, value], ...]
  },
  template: `
    <dl class="facts">
      <template v-for="[name, value] in rows" :key="name">
        <div v-if="value !== null && value !== undefined && value !== ''" class="facts__row">
          <dt>{{ name }}</dt><dd>{{ value }}</dd>
        </div>
      </template>
    </dl>`,
};
