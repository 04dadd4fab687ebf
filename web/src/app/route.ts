// The app's few routes, read from and written to the address bar (no router library needed):
// /  ·  /c/<conversationId>  ·  /c/<conversationId>/m/<messageId>  ·  /search?q=…  ·  /account  ·  /admin
import { useSyncExternalStore } from 'react';

export type Route =
  | { name: 'home' }
  | { name: 'conversation'; conversationId: string; messageId?: string }
  | { name: 'search'; query: string }
  | { name: 'account' }
  | { name: 'admin' };

export function parseRoute(pathname: string, search: string): Route {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'c' && parts[1] && (parts.length === 2 || (parts.length === 4 && parts[2] === 'm' && parts[3]))) {
    return parts[3] ? { name: 'conversation', conversationId: parts[1], messageId: parts[3] } : { name: 'conversation', conversationId: parts[1] };
  }
  if (parts[0] === 'account' && parts.length === 1) return { name: 'account' };
  if (parts[0] === 'admin' && parts.length === 1) return { name: 'admin' };
  if (parts[0] === 'search') return { name: 'search', query: new URLSearchParams(search).get('q') ?? '' };
  return { name: 'home' };
}

export function routePath(route: Route): string {
  switch (route.name) {
    case 'home':
      return '/';
    case 'conversation':
      return `/c/${encodeURIComponent(route.conversationId)}${route.messageId ? `/m/${encodeURIComponent(route.messageId)}` : ''}`;
    case 'search':
      return route.query ? `/search?q=${encodeURIComponent(route.query)}` : '/search';
    case 'account':
      return '/account';
    case 'admin':
      return '/admin';
  }
}

const listeners = new Set<() => void>();
let current = typeof location === 'undefined' ? '/' : location.pathname + location.search;

function changed(): void {
  current = location.pathname + location.search;
  for (const listener of listeners) listener();
}

if (typeof window !== 'undefined') window.addEventListener('popstate', changed);

/** Goes to `route`; `replace` keeps the history entry (e.g. typing in the search box). */
export function navigate(route: Route, options: { replace?: boolean } = {}): void {
  const path = routePath(route);
  if (path === current) return;
  if (options.replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  changed();
}

/** Goes to an app path such as /c/<id>/m/<id> (a notification's message). */
export function openPath(path: string): void {
  const query = path.indexOf('?');
  navigate(parseRoute(query < 0 ? path : path.slice(0, query), query < 0 ? '' : path.slice(query)));
}

export function useRoute(): Route {
  const path = useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => current,
  );
  const query = path.indexOf('?');
  return parseRoute(query < 0 ? path : path.slice(0, query), query < 0 ? '' : path.slice(query));
}
