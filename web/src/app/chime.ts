// The optional notification sound: two soft notes made with Web Audio (no sound file to load,
// cache or allow in the content policy). Browsers let a page play sound only after the user has
// interacted with it; before that the chime is skipped, and the system's notification sound
// (notifications are not silent when the sound is on) still plays.
let context: AudioContext | undefined;

export function playChime(): void {
  if (typeof AudioContext === 'undefined') return;
  context ??= new AudioContext();
  if (context.state === 'suspended') {
    void context.resume().catch((error: unknown) => console.warn('outpost: cannot play the notification sound yet', error));
    return;
  }
  const start = context.currentTime;
  for (const [frequency, offset] of [[880, 0], [1320, 0.12]] as const) {
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.type = 'sine';
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start + offset);
    gain.gain.exponentialRampToValueAtTime(0.15, start + offset + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.35);
    oscillator.connect(gain).connect(context.destination);
    oscillator.start(start + offset);
    oscillator.stop(start + offset + 0.4);
  }
}
