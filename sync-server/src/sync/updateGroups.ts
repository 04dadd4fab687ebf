// Which client each group of an update's structs belongs to, read from the bytes (Yjs's v1
// format). Y.decodeUpdate hands back the structs of all groups, but Y.applyUpdate keeps only
// the last group of a client named twice: such an update would not do what it reads as, so the
// judge must see the groups. Yjs's own encoders write one group per client.
import * as decoding from 'lib0/decoding';
import * as Y from 'yjs';

/** Content refs of Yjs's v1 format (see Yjs's contentRefs). */
const Ref = { gc: 0, deleted: 1, json: 2, binary: 3, string: 4, embed: 5, format: 6, type: 7, any: 8, doc: 9, skip: 10 } as const;
/** Type refs whose content carries a key (an XML element's or hook's name). */
const KEYED_TYPES = new Set([3, 5]);
const BITS5 = 31;
const HAS_ORIGIN = 128;
const HAS_RIGHT_ORIGIN = 64;
const HAS_PARENT_SUB = 32;

/**
 * The client of every struct group of `update`, in order. Throws on bytes Yjs could not decode
 * either (callers decode with Yjs first).
 */
export function groupClients(update: Uint8Array): number[] {
  const decoder = new Y.UpdateDecoderV1(decoding.createDecoder(update));
  const rest = decoder.restDecoder;
  const clients: number[] = [];
  for (let groups = decoding.readVarUint(rest); groups > 0; groups--) {
    const structs = decoding.readVarUint(rest);
    clients.push(decoder.readClient());
    decoding.readVarUint(rest); // first clock
    for (let i = 0; i < structs; i++) skipStruct(decoder);
  }
  return clients;
}

function skipStruct(decoder: Y.UpdateDecoderV1): void {
  const rest = decoder.restDecoder;
  const info = decoder.readInfo();
  const ref = info & BITS5;
  if (ref === Ref.gc) return void decoder.readLen();
  if (ref === Ref.skip) return void decoding.readVarUint(rest);
  if (info & HAS_ORIGIN) decoder.readLeftID();
  if (info & HAS_RIGHT_ORIGIN) decoder.readRightID();
  if ((info & (HAS_ORIGIN | HAS_RIGHT_ORIGIN)) === 0) {
    if (decoder.readParentInfo()) decoder.readString();
    else decoder.readLeftID();
    if (info & HAS_PARENT_SUB) decoder.readString();
  }
  switch (ref) {
    case Ref.deleted:
      return void decoder.readLen();
    case Ref.json:
      for (let n = decoder.readLen(); n > 0; n--) decoder.readString();
      return;
    case Ref.binary:
      return void decoding.readVarUint8Array(rest);
    case Ref.string:
      return void decoder.readString();
    case Ref.embed:
      return void decoding.readVarString(rest);
    case Ref.format:
      decoder.readKey();
      return void decoding.readVarString(rest);
    case Ref.type:
      if (KEYED_TYPES.has(decoder.readTypeRef())) decoder.readKey();
      return;
    case Ref.any:
      for (let n = decoder.readLen(); n > 0; n--) decoder.readAny();
      return;
    case Ref.doc:
      decoder.readString();
      return void decoder.readAny();
    default:
      throw new Error(`unknown content ref ${ref}`);
  }
}
