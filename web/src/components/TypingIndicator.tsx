// "Ada is typing…" under the messages, from the members' presence.
import type { Conversation } from '@outpost/client';
import { useLive } from '../app/useLive.ts';
import { nameOf } from '../app/people.ts';

export function TypingIndicator({ conversation }: { conversation: Conversation }) {
  const typing = useLive(conversation.typing(), []);
  const names = typing.map(nameOf);
  const text =
    names.length === 0 ? '' : names.length === 1 ? `${names[0]} is typing…` : names.length === 2 ? `${names[0]} and ${names[1]} are typing…` : 'Several people are typing…';
  return (
    <p className="typing" aria-live="polite">
      {text}
    </p>
  );
}
