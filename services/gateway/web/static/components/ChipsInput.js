// A list of short texts as chips (tags, brands, models, colours): type and
// press Enter (or a comma, or "add"); tap a chip to remove it.
import { ref } from "vue";

export default {
  name: "ChipsInput",
  props: {
    modelValue: { type: Array, required: true },
    id: { type: String, required: true },
    label: { type: String, required: true },
    placeholder: { type: String, default: "" },
    invalid: { type: Boolean, default: false },
    describedby: { type: String, default: null },
  },
  emits: ["update:modelValue"],
  setup(props, { emit }) {
    const typed = ref("");
    function add() {
      const values = typed.value.split(/[,，;；]/).map((value) => value.trim()).filter(Boolean);
      const list = [...props.modelValue];
      for (const value of values) if (!list.includes(value)) list.push(value);
      emit("update:modelValue", list);
      typed.value = "";
    }
    function remove(value) {
      emit("update:modelValue", props.modelValue.filter((each) => each !== value));
    }
    function keyed(event) {
      if (event.key === "Enter" || event.key === "," || event.key === "，") {
        event.preventDefault();
        add();
      }
    }
    return { typed, add, remove, keyed };
  },
  template: `
    <div class="field">
      <label :for="id">{{ label }}</label>
      <ul v-if="modelValue.length" class="chips">
        <li v-for="value in modelValue" :key="value">
          <button type="button" class="chip-button" :aria-label="$t('form.removeValue', { value })"
                  @click="remove(value)">{{ value }} <span aria-hidden="true">×</span></button>
        </li>
      </ul>
      <div class="row">
        <input :id="id" v-model="typed" type="text" :placeholder="placeholder" enterkeyhint="done"
               :aria-invalid="invalid ? 'true' : null" :aria-describedby="describedby"
               @keydown="keyed" @blur="typed.trim() && add()">
        <button type="button" class="button" @click="add">{{ $t('form.add') }}</button>
      </div>
    </div>`,
};
