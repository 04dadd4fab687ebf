// The upload loop when the app closes under it (a restart, a sign-out, a tab closed): nothing is
// written into the closed app and nothing throws where no one can catch it; the message stays
// stored as outgoing for the next start.
import { describe, expect, it, vi } from 'vitest';
import type { AttachmentEntry, ConversationId, MessageId, UserId } from '@outpost/shared-schema';
import type { Api } from '../connection/api.ts';
import { memoryFiles, type OutgoingMessage, type ReplicaFiles } from '../replica/ReplicaFiles.ts';
import { Uploads, type UploadsHost } from './Uploads.ts';

function message(id: string): OutgoingMessage {
  return {
    id: id as MessageId,
    conversationId: 'c1' as ConversationId,
    author: 'u1' as UserId,
    body: 'the report',
    createdAt: Date.now(),
    files: [{ id: `f-${id}`, name: 'report.pdf', type: 'application/pdf', size: 4, data: new Blob(['%PDF']) }],
  };
}

function stored(id: string): AttachmentEntry {
  return { id: `f-${id}`, name: 'report.pdf', type: 'application/pdf', size: 4 };
}

function host(files: ReplicaFiles, overrides: Partial<UploadsHost> = {}) {
  const api = { upload: async (path: string) => ({ status: 201, body: stored(path.split('/files/')[1]!.split('?')[0]!.slice(2)) }) } as unknown as Api;
  return {
    api,
    files,
    channel: null,
    limits: () => ({ maxBytes: 1024 }),
    online: () => true,
    delivered: async () => false,
    ready: async () => {},
    stored: async () => {},
    changed: () => {},
    ...overrides,
    deliver: vi.fn<UploadsHost['deliver']>(),
  } satisfies UploadsHost;
}

describe('Uploads', () => {
  it('delivers a waiting message once its files are uploaded, and forgets it', async () => {
    const files = memoryFiles();
    const h = host(files);
    const uploads = new Uploads(h);
    await uploads.add(message('m1'));
    await uploads.idle();
    expect(h.deliver).toHaveBeenCalledTimes(1);
    expect(await files.outgoing()).toEqual([]);
    uploads.close();
  });

  it('writes nothing into a closed app when it closed while the server was asked', async () => {
    const files = memoryFiles();
    let answer!: (delivered: boolean) => void;
    let asked!: () => void;
    const asking = new Promise<void>((resolve) => (asked = resolve));
    const h = host(files, {
      delivered: () => {
        asked();
        return new Promise<boolean>((resolve) => (answer = resolve));
      },
    });
    const uploads = new Uploads(h);
    await uploads.add(message('m1'));
    await asking;
    uploads.close();
    answer(false);
    await uploads.idle();
    expect(h.deliver).not.toHaveBeenCalled();
    expect((await files.outgoing()).map((m) => m.id)).toEqual(['m1']);
  });

  it('throws nowhere when the replica is closed under a round, and keeps the message', async () => {
    const files = memoryFiles();
    let closed = false;
    const closing: ReplicaFiles = {
      ...files,
      outgoing: async () => {
        if (closed) throw new Error('Database has been closed');
        return files.outgoing();
      },
      dropOutgoing: async (id) => {
        if (closed) throw new Error('Database has been closed');
        return files.dropOutgoing(id);
      },
    };
    const h = host(closing, {
      // The app closes (and its replica with it) while the message is being stored in its segment.
      stored: async () => {
        closed = true;
        uploads.close();
      },
    });
    const uploads = new Uploads(h);
    await uploads.add(message('m1'));
    await uploads.idle();
    expect((await files.outgoing()).map((m) => m.id)).toEqual(['m1']);
  });

  it('tries a round that threw again later, while open', async () => {
    vi.useFakeTimers();
    try {
      const files = memoryFiles();
      let failures = 1;
      const h = host(files, {
        delivered: async () => {
          if (failures-- > 0) throw new Error('the replica could not be read');
          return false;
        },
      });
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const uploads = new Uploads(h);
      await uploads.add(message('m1'));
      await uploads.idle();
      expect(h.deliver).not.toHaveBeenCalled();
      expect(warn).toHaveBeenCalledTimes(1);
      await vi.advanceTimersByTimeAsync(2_000);
      await uploads.idle();
      expect(h.deliver).toHaveBeenCalledTimes(1);
      expect(await files.outgoing()).toEqual([]);
      uploads.close();
      warn.mockRestore();
    } finally {
      vi.useRealTimers();
    }
  });
});
