// Writes dist/sw.js: a small hand-written service worker that precaches the app shell (every file
// of this build) so the app starts with no network, and opens the message a notification is about
// when it is clicked. It lists the build's files and is versioned by their names (and the content
// of the public files, whose names stay), so a new build replaces the old cache. API and sync traffic are never touched.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Plugin } from 'vite';

const WORKER = (version: string, files: string[]) => `// Outpost's service worker (generated at build time by web/serviceWorkerPlugin.ts).
const CACHE = 'outpost-shell-${version}';
const FILES = ${JSON.stringify(['/', ...files.map((f) => '/' + f)])};

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((key) => key.startsWith('outpost-shell-') && key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith('/api/') || url.pathname === '/sync' || url.pathname === '/health') return;
  if (request.mode === 'navigate') {
    // App routes (/c/<id>/m/<id>) are all the same shell: the network's when it answers, else the cached one.
    event.respondWith(fetch(request).catch(() => caches.match('/', { cacheName: CACHE })).then((response) => response || caches.match('/')));
    return;
  }
  event.respondWith(caches.match(request, { cacheName: CACHE }).then((cached) => cached || fetch(request)));
});

// A click on a notification (shown by the page through this worker) opens its message: in a tab
// of the app that is already open, which navigates without reloading, else in a new window.
function openNotification(notification) {
  notification.close();
  const path = notification.data && typeof notification.data.url === 'string' ? notification.data.url : '/';
  const url = new URL(path, self.location.origin);
  if (url.origin !== self.location.origin) return Promise.resolve();
  return self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
    const open = windows.find((w) => w.focused) || windows.find((w) => w.visibilityState === 'visible') || windows[0];
    if (!open) return self.clients.openWindow(url.href);
    open.postMessage({ type: 'outpost:open', path: url.pathname });
    // Raising a window needs the click's user activation; one that cannot be raised still navigated.
    return open.focus().catch(() => undefined);
  });
}

self.addEventListener('notificationclick', (event) => event.waitUntil(openNotification(event.notification)));
`;

/** Emits sw.js listing every file of the bundle (hashed names, so the list is the version). */
export function serviceWorker(): Plugin {
  let publicDir = '';
  let publicFiles: string[] = [];
  return {
    name: 'outpost-service-worker',
    apply: 'build',
    configResolved(config) {
      publicDir = config.publicDir;
      publicFiles = publicDir ? readdirSync(publicDir) : [];
    },
    generateBundle(_options, bundle) {
      const built = Object.keys(bundle).filter((name) => !name.endsWith('.map') && name !== 'index.html');
      const files = [...built, ...publicFiles].sort();
      // Public files keep their names from build to build (boot.js): their content versions too.
      const hash = createHash('sha256').update(files.join('\n'));
      for (const name of publicFiles) hash.update(readFileSync(path.join(publicDir, name)));
      const version = hash.digest('hex').slice(0, 12);
      this.emitFile({ type: 'asset', fileName: 'sw.js', source: WORKER(version, files) });
    },
  };
}
