// Attachments through the SDK, on SQLite and on Postgres: a message with a photo and a PDF written
// offline is in the replica at once (pending, with its files), survives a restart offline, and
// when the network returns its files upload once, then the message is numbered — with the files
// on the server, as the server stored them. The other member reads them; their thumbnails stay
// on that device for offline use.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { MessageItem } from '@outpost/client';
import type { MessageId } from '@outpost/shared-schema';
import { gpsOf, pdf, photoWithGps } from './fileFixtures.ts';
import { backends, freshDatabase, signUp, startNode, teardown, until } from './harness.ts';
import { browserProfile, closeReplicaClients, startOnReplica } from './offlineReplica.ts';

afterEach(closeReplicaClients);
afterAll(teardown);

/** Counts the file uploads (PUTs) this process makes, by file id. */
function countUploads(): { counts: Map<string, number>; stop(): void } {
  const counts = new Map<string, number>();
  const original = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const match = /\/files\/([0-9a-f-]{36})\?/.exec(String(input instanceof Request ? input.url : input));
    if (match && (init?.method ?? 'GET') === 'PUT') counts.set(match[1] as string, (counts.get(match[1] as string) ?? 0) + 1);
    return original(input, init);
  };
  return { counts, stop: () => void (globalThis.fetch = original) };
}

const message = (items: readonly MessageItem[], id: MessageId) => items.find((m) => m.id === id);

describe.each(backends)('attachments through the SDK on %s', (backend) => {
  it('attached offline: kept across a restart, uploaded once when online, then numbered with the files on the server', async () => {
    const server = await startNode(await freshDatabase(backend));
    const ada = await signUp(server.url, 'ada');
    const bob = await signUp(server.url, 'bob');
    const id = await ada.openDirect(bob.user.id);
    const session = ada.session;
    ada.close();
    const uploads = countUploads();
    try {
      const profile = browserProfile();
      const first = await startOnReplica(server.url, session, profile, { offline: true });
      const photo = await photoWithGps(1200, 800);
      const conversation = first.client.conversation(id);
      const sent = conversation.send('pump at the north gate', {
        attachments: [
          { data: photo, name: 'pump.jpg', type: 'image/jpeg' },
          { data: pdf, name: 'report.pdf', type: 'application/pdf' },
        ],
      });
      await until('the message shows at once, pending, with its files', () => message(conversation.messages().get(), sent)?.attachments?.length === 2);
      expect(message(conversation.messages().get(), sent)).toMatchObject({ status: 'pending', seq: null, body: 'pump at the north gate', upload: { state: 'waiting', sent: 0 } });
      // Offline, a file comes from the replica.
      expect(new Uint8Array(await ((await first.client.file(id, message(conversation.messages().get(), sent)!.attachments![1]!)) as Blob).arrayBuffer())).toEqual(pdf);

      // The app restarts, still offline: the message and its files are still there.
      await new Promise((resolve) => setTimeout(resolve, 50));
      first.close();
      const second = await startOnReplica(server.url, session, profile, { offline: true });
      const again = second.client.conversation(id);
      await until('after a restart the message is still pending with both files', () => message(again.messages().get(), sent)?.attachments?.map((a) => a.name).join() === 'pump.jpg,report.pdf');
      expect(await server.storage.files.usage(session.user.id as never)).toBe(0);
      expect(uploads.counts.size).toBe(0);

      // The network returns.
      second.client.connect();
      await until('the message is numbered', () => message(again.messages().get(), sent)?.seq === 1, () => message(again.messages().get(), sent));
      const numbered = message(again.messages().get(), sent)!;
      expect(numbered.status).toBe('sent');
      expect(numbered.upload).toBeUndefined();
      const [image, document] = numbered.attachments!;
      expect(image).toMatchObject({ name: 'pump.jpg', type: 'image/jpeg', width: 800, height: 1200 });
      expect(document).toEqual({ id: document!.id, name: 'report.pdf', type: 'application/pdf', size: pdf.byteLength });
      expect([...uploads.counts.values()]).toEqual([1, 1]);
      for (const attachment of [image!, document!]) expect((await server.storage.files.getFile(attachment.id))?.messageId).toBe(sent);

      // Bob sees it, reads the files (the photo without its GPS position), and keeps the thumbnail.
      const b = bob.conversation(id);
      await until('bob sees the message with its files', () => message(b.messages().get(), sent)?.attachments?.length === 2);
      const original = new Uint8Array(await ((await bob.file(id, image!, 'original')) as Blob).arrayBuffer());
      expect(await gpsOf(original)).toBeNull();
      expect((await sharp(original).metadata()).height).toBe(1200);
      expect(new Uint8Array(await ((await bob.file(id, document!)) as Blob).arrayBuffer())).toEqual(pdf);
      await until('bob keeps the thumbnail', async () => (await bob.fileStorage().get())?.thumbs.count === 1, () => bob.fileStorage().get());
      expect(b.files().get().map((f) => f.attachment.name)).toEqual(['pump.jpg', 'report.pdf']);
      await until('bob finds the message by a file’s name', async () => (await bob.search('report')).some((hit) => hit.messageId === sent && hit.files.includes('report.pdf')));
      bob.disconnect();
      expect((await bob.file(id, image!, 'thumb'))?.size).toBeGreaterThan(0);
    } finally {
      uploads.stop();
    }
  });

  it('says at once when a file is over the server’s limit, and cancelling drops the message', async () => {
    const server = await startNode({ ...(await freshDatabase(backend)), env: { FILES_MAX_BYTES: '1000' } });
    const ada = await signUp(server.url, 'ada');
    const bob = await signUp(server.url, 'bob');
    const id = await ada.openDirect(bob.user.id);
    const conversation = ada.conversation(id);
    await until('ada is connected and knows the limit', () => ada.status().get() === 'connected' && ada.fileLimits().maxBytes === 1000);
    const sent = conversation.send('', { attachments: [{ data: new Uint8Array(2000), name: 'big.bin' }] });
    await until('the message fails with the reason', () => message(conversation.messages().get(), sent)?.status === 'failed', () => message(conversation.messages().get(), sent));
    expect(message(conversation.messages().get(), sent)?.failure).toMatch(/big\.bin is larger than the 1000 bytes/);
    await conversation.cancelSend(sent);
    expect(message(conversation.messages().get(), sent)).toBeUndefined();
    expect(() => conversation.send('   ')).toThrow(/needs some text/);
  });
});
