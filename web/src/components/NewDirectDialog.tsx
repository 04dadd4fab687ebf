// Start a direct conversation: find the person, open (or reopen) your DM with them.
import { useState } from 'react';
import { useClient } from '../app/ClientContext.ts';
import { navigate } from '../app/route.ts';
import { Dialog } from './Dialog.tsx';
import { PeoplePicker } from './PeoplePicker.tsx';

export function NewDirectDialog({ onClose }: { onClose(): void }) {
  const client = useClient();
  const [error, setError] = useState<string | null>(null);
  return (
    <Dialog title="New message" onClose={onClose}>
      <PeoplePicker
        label="Find a person"
        autoFocus
        onPick={async (user) => {
          try {
            const id = await client.openDirect(user.id);
            onClose();
            navigate({ name: 'conversation', conversationId: id });
          } catch (caught) {
            setError((caught as Error).message);
          }
        }}
      />
      {error && <p className="error" role="alert">{error}</p>}
    </Dialog>
  );
}
