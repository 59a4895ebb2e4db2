// A recording played in the page: play, pause, where it is and how long.
// Web Audio (decodeAudioData), not <audio src="blob:...">: the page's
// Content-Security-Policy (default-src 'self') refuses blob: and data:
// media. The file is read on the first play, through `load` (an attachment,
// with the token) or from `blob` (a voice note not sent yet).
import { computed, onUnmounted, ref } from "vue";
import { clock } from "./attachments.js";

export default {
  name: "AudioClip",
  props: {
    blob: { type: Blob, default: null },
    load: { type: Function, default: null },   // () => Promise<Blob>
    name: { type: String, default: "" },       // for the buttons' labels
  },
  setup(props) {
    const state = ref("idle");                 // idle, loading, playing, paused, failed
    const position = ref(0);
    const duration = ref(0);
    let context = null;
    let buffer = null;
    let source = null;
    let startedAt = 0;
    let offset = 0;
    let timer = null;

    async function prepare() {
      if (buffer) return;
      const blob = props.blob || await props.load();
      context ??= new AudioContext();
      buffer = await context.decodeAudioData(await blob.arrayBuffer());
      duration.value = buffer.duration;
    }

    function halt() {
      clearInterval(timer);
      timer = null;
      if (source) {
        source.onended = null;
        try { source.stop(); } catch { /* not started */ }
        source.disconnect();
        source = null;
      }
    }

    async function play() {
      state.value = "loading";
      try {
        await prepare();
        await context.resume();
      } catch {
        state.value = "failed";
        return;
      }
      source = context.createBufferSource();
      source.buffer = buffer;
      source.connect(context.destination);
      source.onended = () => {
        halt();
        offset = 0;
        position.value = duration.value;
        state.value = "idle";
      };
      if (offset >= buffer.duration) offset = 0;
      startedAt = context.currentTime - offset;
      source.start(0, offset);
      state.value = "playing";
      timer = setInterval(() => { position.value = Math.min(context.currentTime - startedAt, duration.value); }, 200);
    }

    function pause() {
      offset = context.currentTime - startedAt;
      position.value = offset;
      halt();
      state.value = "paused";
    }

    onUnmounted(() => {
      halt();
      context?.close().catch(() => {});
    });

    return { state, play, pause, clock,
             shown: computed(() => (duration.value ? `${clock(position.value)} / ${clock(duration.value)}` : "")),
             done: computed(() => (duration.value ? position.value / duration.value : 0)) };
  },
  template: `
    <div class="clip" :data-clip-state="state">
      <button v-if="state !== 'playing'" type="button" class="button clip__play" :disabled="state === 'loading'"
              :aria-label="$t('attach.playNamed', { name })" @click="play">▶ {{ $t('attach.play') }}</button>
      <button v-else type="button" class="button clip__play" :aria-label="$t('attach.pauseNamed', { name })" @click="pause">
        ❚❚ {{ $t('attach.pause') }}</button>
      <progress class="progress clip__bar" max="1" :value="done" :aria-label="$t('attach.position')"></progress>
      <span class="clip__time muted">{{ state === 'loading' ? $t('attach.loading') : shown }}</span>
      <span v-if="state === 'failed'" class="problem">{{ $t('attach.cannotPlay') }}</span>
    </div>`,
};
