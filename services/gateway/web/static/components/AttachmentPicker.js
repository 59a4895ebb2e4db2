// Photos and recordings for a follow-up record, chosen before it is saved:
// take or pick a photo (the camera on a phone), record a voice note in the
// browser (MediaRecorder: record, stop, then play it back or discard it),
// or pick a call recording. The panel owns the list (`items`) and sends
// them once the record is saved; each shows its progress and, if the API
// refused it (413, 415), why.
import { onUnmounted, ref } from "vue";
import { useI18n } from "vue-i18n";
import AudioClip from "./AudioClip.js";
import { canRecord, clock, dataUrl, kindOf, MAX_RECORDING_SECONDS, recordingName, recordingType, sizeOf } from "./attachments.js";

let counter = 0;

/** A file chosen: what the list shows and the upload updates. */
export async function pending(file, filename) {
  const kind = kindOf(file);
  return { key: `file-${++counter}`, file, filename: filename || file.name || "", kind,
           preview: kind === "photo" ? await dataUrl(file).catch(() => "") : "",
           state: "ready", sent: 0, total: file.size, problem: "" };
}

export default {
  name: "AttachmentPicker",
  components: { AudioClip },
  props: {
    items: { type: Array, required: true },
    disabled: { type: Boolean, default: false },
  },
  emits: ["add", "remove"],
  setup(props, { emit }) {
    const { t } = useI18n();
    const recording = ref(false);
    const elapsed = ref(0);
    const problem = ref("");
    const recordable = canRecord();
    let recorder = null;
    let stream = null;
    let chunks = [];
    let timer = null;

    async function chosen(event) {
      problem.value = "";
      for (const file of Array.from(event.target.files || [])) emit("add", await pending(file));
      event.target.value = "";  // the same file may be chosen again
    }

    function release() {
      clearInterval(timer);
      timer = null;
      stream?.getTracks().forEach((track) => track.stop());
      stream = null;
    }

    async function record() {
      problem.value = "";
      try {
        stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      } catch (error) {
        problem.value = error?.name === "NotAllowedError" ? t("attach.micRefused") : t("attach.micMissing");
        return;
      }
      const type = recordingType();
      try {
        recorder = new MediaRecorder(stream, type ? { mimeType: type } : {});
      } catch {
        release();
        problem.value = t("attach.cannotRecord");
        return;
      }
      chunks = [];
      recorder.ondataavailable = (event) => { if (event.data.size) chunks.push(event.data); };
      recorder.onstop = async () => {
        release();
        recording.value = false;
        const mime = recorder.mimeType || type || "audio/webm";
        const blob = new Blob(chunks, { type: mime });
        chunks = [];
        if (blob.size) emit("add", await pending(blob, recordingName(mime)));
      };
      recorder.start(1000);
      recording.value = true;
      elapsed.value = 0;
      const started = Date.now();
      timer = setInterval(() => {
        elapsed.value = (Date.now() - started) / 1000;
        if (elapsed.value >= MAX_RECORDING_SECONDS) stop();
      }, 250);
    }

    function stop() {
      if (recorder?.state === "recording") recorder.stop();
    }

    onUnmounted(() => {
      if (recorder?.state === "recording") {
        recorder.onstop = null;
        recorder.stop();
      }
      release();
    });

    return { recording, elapsed, problem, recordable, chosen, record, stop, clock, sizeOf,
             percent: (item) => (item.total ? Math.round((100 * item.sent) / item.total) : 0) };
  },
  template: `
    <div class="field attach">
      <span class="field__name" id="record-attach">{{ $t('attach.title') }}</span>
      <div class="actions attach__add" role="group" aria-labelledby="record-attach">
        <label class="button attach__pick">
          <input type="file" class="visually-hidden" accept="image/*" capture="environment" data-attach="photo"
                 :disabled="disabled" @change="chosen">
          {{ $t('attach.photo') }}
        </label>
        <button v-if="recordable && !recording" type="button" class="button" data-attach="record" :disabled="disabled" @click="record">
          {{ $t('attach.record') }}</button>
        <button v-if="recording" type="button" class="button button--danger-solid" data-attach="stop" @click="stop">
          {{ $t('attach.stop', { time: clock(elapsed) }) }}</button>
        <label class="button attach__pick">
          <input type="file" class="visually-hidden" accept="audio/*" data-attach="audio" :disabled="disabled" @change="chosen">
          {{ $t('attach.callRecording') }}
        </label>
      </div>
      <p v-if="recording" class="notice" role="status">{{ $t('attach.recording', { time: clock(elapsed) }) }}</p>
      <p class="problem" role="alert">{{ problem }}</p>
      <ul v-if="items.length" class="attach__list">
        <li v-for="item in items" :key="item.key" :class="['attach__item', 'attach__item--' + item.state]"
            :data-attachment-file="item.filename">
          <img v-if="item.preview" :src="item.preview" class="thumb" alt="">
          <div class="attach__about">
            <strong class="attach__name">{{ item.filename || $t('attach.' + (item.kind === 'photo' ? 'aPhoto' : 'aRecording')) }}</strong>
            <span class="muted">{{ $t('attach.' + (item.kind === 'photo' ? 'aPhoto' : 'aRecording')) }} · {{ sizeOf(item.file.size) }}</span>
            <AudioClip v-if="item.kind === 'audio' && item.state === 'ready'" :blob="item.file" :name="item.filename" />
            <template v-if="item.state === 'sending'">
              <progress class="progress" max="100" :value="percent(item)" :aria-label="$t('attach.sendingNamed', { name: item.filename })"></progress>
              <span class="muted">{{ $t('attach.sending', { percent: percent(item) }) }}</span>
            </template>
            <span v-if="item.state === 'sent'" class="notice">{{ $t('attach.sent') }}</span>
            <span v-if="item.problem" class="problem" role="alert">{{ item.problem }}</span>
          </div>
          <button v-if="item.state !== 'sending'" type="button" class="button button--quiet"
                  :aria-label="$t('attach.removeNamed', { name: item.filename })" @click="$emit('remove', item.key)">
            {{ item.state === 'failed' ? $t('attach.dismiss') : $t('attach.discard') }}</button>
        </li>
      </ul>
    </div>`,
};
