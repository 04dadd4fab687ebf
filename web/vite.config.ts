// Builds the web app into web/dist, which the sync server serves on its own port. In development
// `vite` proxies the API and the sync socket to a server on :3000 (OUTPOST_URL to change it).
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { serviceWorker } from './serviceWorkerPlugin.ts';
import { precompress } from './precompressPlugin.ts';
import { bootFirst } from './bootPlugin.ts';

const target = process.env.OUTPOST_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  plugins: [react(), bootFirst(), serviceWorker(), precompress()],
  build: {
    outDir: process.env.OUTPOST_WEB_OUT ?? 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1500,
  },
  server: {
    proxy: {
      '/api': target,
      '/sync': { target: target.replace(/^http/, 'ws'), ws: true },
    },
  },
});
