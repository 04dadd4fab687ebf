// Entry point: mounts the app and registers the service worker that makes it start offline (and
// asks the page to open a message when its notification is clicked).
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App.tsx';
import { openPath } from './app/route.ts';
import { dismissBootScreenLater } from './app/bootScreen.ts';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
dismissBootScreenLater();

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.addEventListener('message', (event: MessageEvent<{ type?: string; path?: unknown }>) => {
    if (event.data?.type === 'outpost:open' && typeof event.data.path === 'string') openPath(event.data.path);
  });
  if (import.meta.env.PROD) {
    navigator.serviceWorker.register('/sw.js').catch((error: unknown) => console.warn('outpost: no offline start (service worker refused)', error));
  }
}
