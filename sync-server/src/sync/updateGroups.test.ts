// groupClients reads the struct groups of an update the way Yjs writes them, for every kind of
// content: if it misread one, the group headers after it would come out wrong.
import { describe, expect, it } from 'vitest';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { groupClients } from './updateGroups.ts';

/** A document of one client that holds every kind of content Yjs encodes. */
function everything(client: number): Y.Doc {
  const doc = new Y.Doc({ gc: true });
  doc.clientID = client;
  const text = doc.getText('text');
  text.insert(0, 'hello');
  text.format(0, 2, { bold: true });
  text.insertEmbed(1, { image: 'x' });
  const list = doc.getArray('list');
  list.push([1, 'two', { three: [3] }, new Uint8Array([1, 2, 3])]);
  list.push([new Y.Map(), new Y.Text('nested'), new Y.Doc()]);
  const xml = doc.getXmlFragment('xml');
  xml.push([new Y.XmlElement('p'), new Y.XmlText('t')]);
  doc.getMap('hooks').set('hook', new Y.XmlHook('hook'));
  doc.getMap('map').set('gone', 'soon');
  doc.getMap('map').delete('gone'); // deleted content
  const doomed = new Y.Array<number>();
  doc.getMap('map').set('parent', doomed);
  doomed.push([1, 2, 3]);
  doc.getMap('map').delete('parent'); // its children become GC structs
  return doc;
}

describe('the struct groups of an update', () => {
  it('one group per client, whatever the content', () => {
    const clients = [5, 9, 1234567];
    const update = Y.mergeUpdates(clients.map((client) => Y.encodeStateAsUpdate(everything(client))));
    const structs = Y.decodeUpdate(update).structs;
    expect(structs.some((s) => s instanceof Y.GC)).toBe(true);
    expect(new Set(structs.map((s) => (s instanceof Y.Item ? s.content.constructor.name : s.constructor.name)))).toEqual(
      new Set(['ContentString', 'ContentFormat', 'ContentEmbed', 'ContentAny', 'ContentBinary', 'ContentType', 'ContentDoc', 'ContentDeleted', 'GC']),
    );
    expect(groupClients(update).sort((a, b) => a - b)).toEqual(clients);
  });

  it('skips (a merged update with a gap) and the legacy JSON content', () => {
    const doc = everything(77);
    const sent: Uint8Array[] = [];
    doc.on('update', (update: Uint8Array) => sent.push(update));
    doc.getArray('list').push(['a']);
    doc.getArray('list').push(['b']);
    doc.getArray('list').push(['c']);
    const gapped = Y.mergeUpdates([sent[0] as Uint8Array, sent[2] as Uint8Array]);
    expect(Y.decodeUpdate(gapped).structs.some((s) => s instanceof Y.Skip)).toBe(true);
    expect(groupClients(gapped)).toEqual([77]);

    // ContentJSON is only written by old Yjs versions: an item of it, then another client's group.
    const encoder = new Y.UpdateEncoderV1();
    encoding.writeVarUint(encoder.restEncoder, 2);
    for (const [client, content] of [
      [3, new Y.ContentJSON([{ a: 1 }, 'b'])],
      [4, new Y.ContentAny(['after'])],
    ] as const) {
      encoding.writeVarUint(encoder.restEncoder, 1);
      encoder.writeClient(client);
      encoding.writeVarUint(encoder.restEncoder, 0);
      new Y.Item(Y.createID(client, 0), null, null, null, null, 'list' as never, null, content).write(encoder, 0);
    }
    encoding.writeVarUint(encoder.restEncoder, 0);
    const legacy = encoder.toUint8Array();
    expect((Y.decodeUpdate(legacy).structs[0] as Y.Item).content).toBeInstanceOf(Y.ContentJSON);
    expect(groupClients(legacy)).toEqual([3, 4]);
  });
});
