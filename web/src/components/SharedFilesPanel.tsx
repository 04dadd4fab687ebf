// What was shared in a conversation, newest first: the images as a grid of thumbnails (they open
// in the viewer) and the other files as cards that download. From the replica, so offline too:
// the messages in memory (a long history keeps only its latest part there), and older ones on
// request, a segment at a time.
import { useState } from 'react';
import type { Conversation, SharedFile } from '@outpost/client';
import { isImage } from '@outpost/client';
import { useClient } from '../app/ClientContext.ts';
import { useLive } from '../app/useLive.ts';
import { download, formatSize, kindLabel, useFileUrl } from '../app/files.ts';
import { nameOf } from '../app/people.ts';
import { listTime } from '../app/time.ts';
import { Icon } from './Icon.tsx';

const NONE: SharedFile[] = [];

interface Props {
  conversation: Conversation;
  onOpenImage(attachmentId: string): void;
  onClose(): void;
}

function Tile({ conversationId, shared, onOpen }: { conversationId: string; shared: SharedFile; onOpen(): void }) {
  const thumb = useFileUrl(conversationId, shared.attachment, 'thumb');
  return (
    <li>
      <button type="button" className="tile" aria-label={`Open image ${shared.attachment.name}`} onClick={onOpen}>
        {thumb.state === 'ready' ? <img src={thumb.url} alt="" /> : shared.attachment.placeholder ? <img src={shared.attachment.placeholder} alt="" className="placeholder" /> : <Icon name="image" />}
      </button>
    </li>
  );
}

export function SharedFilesPanel({ conversation, onOpenImage, onClose }: Props) {
  const client = useClient();
  const shared = useLive(conversation.files(), NONE);
  const images = shared.filter((f) => isImage(f.attachment));
  const files = shared.filter((f) => !isImage(f.attachment));
  const kept = useLive(client.fileStorage(), null);
  const [loading, setLoading] = useState(false);
  const older = (conversation.loadedSegments()[0] ?? 0) > 0;
  const loadOlder = () => {
    setLoading(true);
    conversation
      .loadOlder()
      .catch((error: unknown) => console.info('outpost: older messages could not be brought', error))
      .finally(() => setLoading(false));
  };
  return (
    <section className="members-panel shared-files" aria-label="Shared images and files">
      <header className="pane-header">
        <h3>Shared</h3>
        <button type="button" className="icon-button" aria-label="Close shared files" onClick={onClose}>
          ✕
        </button>
      </header>
      <h4>Images ({images.length})</h4>
      {images.length === 0 ? (
        <p className="muted">No images yet.</p>
      ) : (
        <ul className="tiles" aria-label="Shared images">
          {images.map((f) => (
            <Tile key={f.attachment.id} conversationId={conversation.id} shared={f} onOpen={() => onOpenImage(f.attachment.id)} />
          ))}
        </ul>
      )}
      <h4>Files ({files.length})</h4>
      {files.length === 0 ? (
        <p className="muted">No files yet.</p>
      ) : (
        <ul className="shared-list" aria-label="Shared files">
          {files.map((f) => (
            <li key={f.attachment.id} className="file-card">
              <Icon name="file" />
              <div className="file-card-text">
                <span className="file-name" title={f.attachment.name}>
                  {f.attachment.name}
                </span>
                <span className="muted">
                  {kindLabel(f.attachment)} · {formatSize(f.attachment.size)} · {nameOf(f.author)}, {listTime(f.at)}
                </span>
              </div>
              <button type="button" className="ghost small" aria-label={`Download ${f.attachment.name}`} onClick={() => void download(client, conversation.id, f.attachment)}>
                <Icon name="download" />
              </button>
            </li>
          ))}
        </ul>
      )}
      {older && (
        <p className="muted small-print">
          From the latest messages.{' '}
          <button type="button" className="link" disabled={loading} onClick={loadOlder}>
            {loading ? 'Looking further back…' : 'Look further back'}
          </button>
        </p>
      )}
      {kept && (
        <p className="muted small-print kept-files">
          On this device, for offline use: {kept.thumbs.count} thumbnails ({formatSize(kept.thumbs.bytes)}) from all conversations, and {kept.full.count}{' '}
          pictures and files you opened ({formatSize(kept.full.bytes)} of {formatSize(kept.budget)}; the oldest go first).
        </p>
      )}
    </section>
  );
}
