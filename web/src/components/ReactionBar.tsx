// Reactions under a message: one chip per emoji with its count and who reacted; pressing your
// own removes it. The picker offers eight common ones, and every other emoji behind "More".
import { useState } from 'react';
import type { UserId } from '@outpost/shared-schema';
import { nameOf } from '../app/people.ts';
import { EmojiPicker } from './EmojiPicker.tsx';
import { Icon } from './Icon.tsx';

export const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉', '😮', '😢', '🙏', '👀'] as const;

interface Props {
  reactions: Record<string, UserId[]>;
  me: string;
  onToggle(emoji: string, mine: boolean): void;
}

function who(users: readonly string[], me: string): string {
  const names = users.map((id) => (id === me ? 'you' : nameOf(id)));
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

export function ReactionBar({ reactions, me, onToggle }: Props) {
  const entries = Object.entries(reactions).filter(([, users]) => users.length > 0);
  if (entries.length === 0) return null;
  return (
    <ul className="reactions" aria-label="Reactions">
      {entries.map(([emoji, users]) => {
        const mine = users.includes(me as UserId);
        const label = `${emoji} ${users.length}, from ${who(users, me)}`;
        return (
          <li key={emoji}>
            <button type="button" className={`reaction${mine ? ' mine' : ''}`} aria-pressed={mine} aria-label={label} title={`Reacted by ${who(users, me)}`} onClick={() => onToggle(emoji, mine)}>
              <span aria-hidden="true">{emoji}</span> <span className="count">{users.length}</span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}

export function ReactionPicker({ onPick, onClose }: { onPick(emoji: string): void; onClose(): void }) {
  const [all, setAll] = useState(false);
  if (all) return <EmojiPicker onPick={onPick} onClose={onClose} />;
  return (
    <div
      className="reaction-picker"
      role="group"
      aria-label="Pick a reaction"
      onKeyDown={(event) => {
        if (event.key === 'Escape') {
          event.stopPropagation();
          onClose();
        }
      }}
    >
      {QUICK_REACTIONS.map((emoji, i) => (
        <button key={emoji} type="button" className="icon-button" aria-label={`React with ${emoji}`} autoFocus={i === 0} onClick={() => onPick(emoji)}>
          {emoji}
        </button>
      ))}
      <button type="button" className="icon-button more-emoji" aria-label="More emoji" title="More emoji" onClick={() => setAll(true)}>
        <Icon name="smile" />
        <span aria-hidden="true">+</span>
      </button>
    </div>
  );
}
