// What the attachment pieces share: a file's kind, its size in words, a Blob
// as a data: URL (the page's Content-Security-Policy allows data: images,
// not blob: ones), a voice note's type and name, and an upload's error as
// one sentence at the file.
import { i18n } from "../i18n.js";
import { actionProblem } from "./leads.js";

/** The voice-note types to try, best first; the browser's own when none fits. */
const RECORDING_TYPES = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/mp4"];

export const MAX_RECORDING_SECONDS = 10 * 60;

/** "photo" or "audio" (from the media type, else the file's name). */
export function kindOf(file) {
  const type = file.media_type || file.type || "";
  if (type.startsWith("image/")) return "photo";
  if (type.startsWith("audio/") || type.startsWith("video/webm")) return "audio";
  return /\.(jpe?g|png|webp|heic)$/i.test(file.filename || file.name || "") ? "photo" : "audio";
}

/** `1.2 MB`, `340 KB`. */
export function sizeOf(bytes) {
  if (!bytes && bytes !== 0) return "";
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

/** A Blob as a data: URL. */
export function dataUrl(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

/** Recording is possible here (a microphone API and MediaRecorder). */
export function canRecord() {
  return Boolean(window.MediaRecorder && navigator.mediaDevices?.getUserMedia);
}

/** The MediaRecorder type to ask for: Opus in WebM where supported, else what the browser offers (""). */
export function recordingType() {
  return RECORDING_TYPES.find((type) => MediaRecorder.isTypeSupported?.(type)) || "";
}

/** `voice-note-20261126-0930.webm` (the extension from the recorder's type). */
export function recordingName(type, now = new Date()) {
  const extension = /mp4|aac/.test(type) ? "m4a" : /ogg/.test(type) ? "ogg" : "webm";
  const pad = (n) => String(n).padStart(2, "0");
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}`;
  return `voice-note-${stamp}.${extension}`;
}

/** `1:05`. */
export function clock(seconds) {
  const whole = Math.max(0, Math.floor(seconds || 0));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

/** An upload's error, said at the file: too big (413), not a photo or recording (415), else the usual. */
export function uploadProblem(error, kind) {
  const t = i18n.global.t;
  if (error?.status === 413) return t(kind === "photo" ? "attach.tooBigPhoto" : "attach.tooBigAudio");
  if (error?.status === 415) return t("attach.notAccepted");
  if (error?.status === 422) return t("attach.empty");
  return actionProblem(error);
}
