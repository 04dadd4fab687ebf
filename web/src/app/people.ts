// Names for user ids. Members of every conversation come with their names (useDirectNames);
// the app also remembers people found by search, so every name it has seen shows offline.
// Kept per user in localStorage.
import { useSyncExternalStore } from 'react';
import type { PublicUser } from '@outpost/shared-schema';

export interface Person {
  id: string;
  displayName: string;
  username?: string;
}

let owner = '';
let known = new Map<string, Person>();
let version = 0;
const listeners = new Set<() => void>();

const storageKey = () => `outpost.people.${owner}`;

/** Loads the directory of the signed-in user (`me` is always known). */
export function openPeople(me: PublicUser): void {
  owner = me.id;
  known = new Map();
  const raw = localStorage.getItem(storageKey());
  if (raw) {
    try {
      for (const person of JSON.parse(raw) as Person[]) known.set(person.id, person);
    } catch (error) {
      console.warn('outpost: dropping an unreadable name directory', error);
    }
  }
  learn([me]);
}

/** Remembers names (from a search, a DM title, the session). */
export function learn(people: readonly Person[]): void {
  let changed = false;
  for (const person of people) {
    const had = known.get(person.id);
    if (had && had.displayName === person.displayName && (person.username === undefined || had.username === person.username)) continue;
    known.set(person.id, { ...had, ...person });
    changed = true;
  }
  if (!changed) return;
  version += 1;
  if (owner) localStorage.setItem(storageKey(), JSON.stringify([...known.values()]));
  for (const listener of listeners) listener();
}

export function forgetPeople(userId: string): void {
  localStorage.removeItem(`outpost.people.${userId}`);
  known = new Map();
}

export function person(id: string): Person | undefined {
  return known.get(id);
}

/** A name to show for `id`; a short stand-in when the app has never seen it. */
export function nameOf(id: string): string {
  return known.get(id)?.displayName ?? `Member ${id.slice(0, 4)}`;
}

/** Re-renders the caller when a name is learnt. */
export function usePeople(): number {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => version,
  );
}
