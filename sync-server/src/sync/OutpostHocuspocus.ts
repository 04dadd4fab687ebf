// Hocuspocus as the node runs it, with one correction to how a document is unloaded. A connection
// that was being set up as its document was unloaded (its last other connection had just closed)
// can join the unloaded copy (SyncEngine.connected closes it). When such a connection closes,
// Hocuspocus unloads "its" document by name, and the name now belongs to the copy loaded since:
// that copy would leave the node's list while devices are still connected to it (their later
// changes would split from everyone else's), and stop hearing of other nodes' appends. Only the
// copy the node lists under a name is ever unloaded.
import { Hocuspocus, type Document } from '@hocuspocus/server';

export class OutpostHocuspocus extends Hocuspocus {
  override async unloadDocument(document: Document): Promise<void> {
    if (this.documents.get(document.name) !== document) return;
    await super.unloadDocument(document);
  }
}
