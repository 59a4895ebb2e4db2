// A short tone and a vibration when a new lead arrives, where the browser
// allows them (sound needs an earlier tap on the page; iOS has no vibration).
let audio = null;

export function chime() {
  navigator.vibrate?.(200);
  try {
    audio ??= new AudioContext();
    if (audio.state === "suspended") audio.resume().catch(() => {});
    const tone = audio.createOscillator();
    const volume = audio.createGain();
    tone.frequency.value = 880;
    volume.gain.setValueAtTime(0.2, audio.currentTime);
    volume.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.3);
    tone.connect(volume).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.3);
  } catch {
    // no audio on this device: the card and the announcement are enough
  }
}
