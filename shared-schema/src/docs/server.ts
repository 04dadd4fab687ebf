// `conv:<id>:server`, written only by the server: bounded state about a conversation that every
// member keeps open (meta, members, head segment, change counters, receipts). Per-message facts
// are not here: a message reaches members once, in its segment, with its number.
import * as Y from 'yjs';
import type { UserId } from '../names.ts';

export const ConversationKinds = { dm: 'dm', group: 'group' } as const;
export type ConversationKind = keyof typeof ConversationKinds;

export const Roles = { owner: 'owner', admin: 'admin', member: 'member' } as const;
export type Role = keyof typeof Roles;

export interface ConversationMeta {
  kind: ConversationKind;
  title: string;
  createdBy: UserId;
  createdAt: number;
  /** The segment that takes new messages. */
  head: number;
  /**
   * Highest sequence number allocated, as of the last coalesced refresh (it may lag a few
   * hundred milliseconds; the head segment's `seq` entries are current).
   */
  lastSeq: number;
  /** Messages per segment before `head` moves on; clients roll over by the same rule. */
  segmentSize: number;
  /** Who may post: everyone (the default), or only the owner and admins (a locked group). */
  posting?: 'everyone' | 'admins';
}

export interface MemberEntry {
  role: Role;
  joinedAt: number;
  /** Names, so every member can be shown by name, offline too. */
  username: string;
  displayName: string;
}

/** Someone who was a member: their name stays known, so their old messages keep an author. */
export interface FormerMemberEntry {
  username: string;
  displayName: string;
}

export interface ReceiptEntry {
  /** Highest seq the member has read (max over their devices). */
  read: number;
}

/** What happened to a group, shown in its timeline between the messages. */
export const TimelineEventKinds = { created: 'created', added: 'added', removed: 'removed', left: 'left', renamed: 'renamed' } as const;
export type TimelineEventKind = keyof typeof TimelineEventKinds;

/**
 * One event, keyed by its number in the conversation (as a string; they only grow). `by` did it;
 * `user` is who was added or removed; `title` is the group's title after `created` or `renamed`.
 */
export interface TimelineEventEntry {
  kind: TimelineEventKind;
  at: number;
  by: UserId;
  user?: UserId;
  title?: string;
}

/** Timeline events a server document keeps: the latest ones (older ones are not shown). */
export const TIMELINE_EVENTS_KEPT = 200;

export const ServerRoots = {
  meta: 'meta',
  members: 'members',
  formerMembers: 'formerMembers',
  segments: 'segments',
  receipts: 'receipts',
  events: 'events',
} as const;

export function serverMaps(doc: Y.Doc) {
  return {
    meta: doc.getMap<unknown>(ServerRoots.meta),
    members: doc.getMap<MemberEntry>(ServerRoots.members),
    formerMembers: doc.getMap<FormerMemberEntry>(ServerRoots.formerMembers),
    /** segment number (as a string) → change counter, bumped when something changes in an older segment. */
    segments: doc.getMap<number>(ServerRoots.segments),
    receipts: doc.getMap<ReceiptEntry>(ServerRoots.receipts),
    events: doc.getMap<TimelineEventEntry>(ServerRoots.events),
  };
}

export function readMeta(doc: Y.Doc): ConversationMeta | null {
  const meta = serverMaps(doc).meta;
  const kind = meta.get('kind');
  if (kind !== 'dm' && kind !== 'group') return null;
  return {
    kind,
    title: String(meta.get('title') ?? ''),
    createdBy: meta.get('createdBy') as UserId,
    createdAt: Number(meta.get('createdAt') ?? 0),
    head: Number(meta.get('head') ?? 0),
    lastSeq: Number(meta.get('lastSeq') ?? 0),
    segmentSize: Number(meta.get('segmentSize') ?? 1000),
    posting: meta.get('posting') === 'admins' ? 'admins' : 'everyone',
  };
}
