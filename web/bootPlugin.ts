// Lets the boot screen paint before the app's bundle runs. A module script in the page runs as
// soon as the page is parsed, before the first paint, and its top level takes a good part of a
// cold start; so the built page only preloads the bundle, and web/public/boot.js starts it: after
// the boot screen's first frame when there is one, at once otherwise.
import type { Plugin } from 'vite';

const ENTRY = /<script type="module" crossorigin src="([^"]+)"><\/script>/;

export function bootFirst(): Plugin {
  return {
    name: 'outpost-boot-first',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(html) {
        const entry = ENTRY.exec(html)?.[1];
        if (!entry || !html.includes('<script src="/boot.js"></script>')) throw new Error('index.html: expected the app’s module script and /boot.js');
        return html.replace(ENTRY, `<link rel="modulepreload" crossorigin href="${entry}">`).replace('<script src="/boot.js"></script>', `<script src="/boot.js" data-app="${entry}"></script>`);
      },
    },
  };
}
