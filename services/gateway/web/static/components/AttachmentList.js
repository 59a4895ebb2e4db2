// A record's attachments: photos as thumbnails (tap: larger), recordings
// with a player. The files need the token, so they are read through api.js
// (photos as data: URLs: the page's CSP allows those, not blob: images).
import { onMounted, ref } from "vue";
import * as api from "../api.js";
import AudioClip from "./AudioClip.js";
import { dataUrl, kindOf, sizeOf } from "./attachments.js";

const Photo = {
  name: "AttachmentPhoto",
  props: { attachment: { type: Object, required: true } },
  setup(props) {
    const src = ref("");
    const failed = ref(false);
    const large = ref(false);
    onMounted(async () => {
      try {
        src.value = await dataUrl(await api.attachmentFile(props.attachment));
      } catch {
        failed.value = true;
      }
    });
    return { src, failed, large };
  },
  template: `
    <button type="button" :class="['thumb-button', { 'thumb-button--large': large }]" :aria-pressed="large ? 'true' : 'false'"
            :aria-label="$t('attach.enlarge', { name: attachment.filename || $t('attach.aPhoto') })" @click="large = !large">
      <img v-if="src" :src="src" :class="['thumb', { 'thumb--large': large }]" :alt="attachment.filename || $t('attach.aPhoto')"
           :data-attachment="attachment.id">
      <span v-else class="thumb thumb--empty muted">{{ failed ? $t('attach.unavailable') : $t('attach.loading') }}</span>
    </button>`,
};

export default {
  name: "AttachmentList",
  components: { AudioClip, Photo },
  props: { attachments: { type: Array, required: true } },
  setup() {
    return { kindOf, sizeOf, file: (attachment) => () => api.attachmentFile(attachment) };
  },
  template: `
    <ul class="attachments" :aria-label="$t('attach.title')">
      <li v-for="attachment in attachments" :key="attachment.id" :class="['attachments__item', 'attachments__item--' + kindOf(attachment)]">
        <Photo v-if="kindOf(attachment) === 'photo'" :attachment="attachment" />
        <div v-else class="attachments__audio" :data-attachment="attachment.id">
          <span class="muted">{{ attachment.filename || $t('attach.aRecording') }} · {{ sizeOf(attachment.size) }}</span>
          <AudioClip :load="file(attachment)" :name="attachment.filename || $t('attach.aRecording')" />
        </div>
      </li>
    </ul>`,
};
