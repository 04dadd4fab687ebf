// How keyboard shortcuts are written and matched: ⌘ on Apple devices, Ctrl elsewhere.
const apple = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);

/** "⌘" or "Ctrl+", to put before a key in a hint. */
export const MOD = apple ? '⌘' : 'Ctrl+';

/** The platform's command modifier is held (and Alt is not). */
export function commandKey(event: { ctrlKey: boolean; metaKey: boolean; altKey: boolean }): boolean {
  return (apple ? event.metaKey : event.ctrlKey) && !event.altKey;
}
