// A browser keeps a WebSocket open through a network loss until a ping times out (and Chromium
// keeps it open under DevTools' or Playwright's offline emulation), so the UI would say
// "connected" while nothing gets through. The browser's own online/offline signal is faster.

/** Calls `onChange` when the browser goes offline or online; a no-op outside browsers. */
export function followBrowserNetwork(onChange: (online: boolean) => void): () => void {
  const target = globalThis as { addEventListener?: (type: string, fn: () => void) => void; removeEventListener?: (type: string, fn: () => void) => void };
  if (typeof target.addEventListener !== 'function' || typeof globalThis.navigator?.onLine !== 'boolean') return () => {};
  const offline = () => onChange(false);
  const online = () => onChange(true);
  target.addEventListener('offline', offline);
  target.addEventListener('online', online);
  return () => {
    target.removeEventListener?.('offline', offline);
    target.removeEventListener?.('online', online);
  };
}

/** False when the browser knows it has no network; true elsewhere (Node, Electron main). */
export function browserOnline(): boolean {
  return typeof globalThis.navigator?.onLine === 'boolean' && typeof (globalThis as { addEventListener?: unknown }).addEventListener === 'function' ? globalThis.navigator.onLine : true;
}
