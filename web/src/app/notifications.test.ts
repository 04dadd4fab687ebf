import { describe, expect, it } from 'vitest';
import { shouldNotify, type Incoming } from './notifications.ts';

const message = (kind: 'dm' | 'group', mentionsMe = false): Incoming => ({
  conversationId: 'c',
  kind,
  title: 'Depot crew',
  messageId: 'm',
  author: 'u',
  authorName: 'Bob',
  preview: 'hello',
  mentionsMe,
});
const now = 1_000_000;
const away = { level: undefined, dndUntil: 0, now, appFocused: false };

describe('when the app notifies', () => {
  it('by default: every direct message, and group messages that mention you', () => {
    expect(shouldNotify(message('dm'), away)).toBe(true);
    expect(shouldNotify(message('group'), away)).toBe(false);
    expect(shouldNotify(message('group', true), away)).toBe(true);
  });

  it('follows the conversation setting: all, mentions only, or muted', () => {
    expect(shouldNotify(message('group'), { ...away, level: 'all' })).toBe(true);
    expect(shouldNotify(message('dm'), { ...away, level: 'mentions' })).toBe(false);
    expect(shouldNotify(message('dm', true), { ...away, level: 'none' })).toBe(false);
  });

  it('never while you look at the app, nor during do not disturb', () => {
    expect(shouldNotify(message('dm'), { ...away, appFocused: true })).toBe(false);
    expect(shouldNotify(message('dm'), { ...away, dndUntil: now + 1 })).toBe(false);
    expect(shouldNotify(message('dm'), { ...away, dndUntil: now - 1 })).toBe(true);
  });
});
