// Lets the boot screen paint before the app's bundle runs, from the page alone.
// - A module script in the page runs as soon as the page is parsed, before the first paint, and
//   its top level takes a good part of a cold start; so the built page does not load the bundle,
//   and the boot script (web/public/boot.js) starts it: after the boot screen's first frame when
//   there is one, at once otherwise. Nor does it preload it: fetching and compiling 750 KB while
//   the boot screen is drawn shared the two cores with it (the copy painted ~50-100 ms later at
//   the median of six cold starts), and the app's own list came no sooner with the preload.
// - The boot script and the stylesheet are written into the page itself. As files, the boot
//   screen waited for both to come out of the service worker's cache (~50 ms of a cold start on
//   a slow machine, with nothing else to do): the page is fetched anyway, they cost it ~6 KB
//   compressed. The server allows the inline script by its hash (sync-server/src/http/webApp.ts);
//   the development server keeps the files. The built stylesheet and boot.js stay in dist, unused
//   by the page: their names and content version the service worker's cache (serviceWorkerPlugin),
//   so a change to either still replaces the cached page.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Plugin } from 'vite';

const ENTRY = /<script type="module" crossorigin src="([^"]+)"><\/script>/;
const STYLESHEET = /<link rel="stylesheet" crossorigin href="\/([^"]+\.css)">/;
const BOOT = '<script src="/boot.js"></script>';

export function bootFirst(): Plugin {
  let publicDir = '';
  return {
    name: 'outpost-boot-first',
    apply: 'build',
    configResolved(config) {
      publicDir = config.publicDir;
    },
    transformIndexHtml: {
      order: 'post',
      handler(html, { bundle }) {
        const entry = ENTRY.exec(html)?.[1];
        const stylesheet = STYLESHEET.exec(html)?.[1];
        const css = stylesheet ? bundle?.[stylesheet] : undefined;
        if (!entry || !html.includes(BOOT) || css?.type !== 'asset') throw new Error('index.html: expected the app’s module script, its stylesheet and /boot.js');
        const boot = readFileSync(path.join(publicDir, 'boot.js'), 'utf8');
        if (boot.includes('</script')) throw new Error('web/public/boot.js cannot be written into the page: it contains "</script"');
        const style = String(css.source);
        if (style.includes('</style')) throw new Error('the stylesheet cannot be written into the page: it contains "</style"');
        return html
          .replace(ENTRY, '')
          .replace(STYLESHEET, () => `<style>${style}</style>`)
          .replace(BOOT, () => `<script data-app="${entry}">${boot}</script>`);
      },
    },
  };
}
