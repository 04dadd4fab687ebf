// A message's files: images as thumbnails at their real aspect ratio (the space is kept before
// they load, with the blurred placeholder the message carries), other files as cards (name, kind,
// size) that download; while the files upload, how far it got, with Cancel and, when refused, Retry.
import { memo } from 'react';
import { isImage, type MessageItem } from '@outpost/client';
import type { AttachmentEntry } from '@outpost/shared-schema';
import { useClient } from '../app/ClientContext.ts';
import { download, formatSize, kindLabel, useFileUrl } from '../app/files.ts';
import { Icon } from './Icon.tsx';

/** Largest thumbnail box in the conversation, in CSS pixels. */
const BOX = 320;

interface Props {
  conversationId: string;
  message: MessageItem;
  online: boolean;
  onOpenImage(attachmentId: string): void;
  onCancel(): void;
  onRetry(): void;
}

/** Width and height that fit `box` × `box` and keep the image's ratio (never larger than it is). */
export function fitted(attachment: Pick<AttachmentEntry, 'width' | 'height'>, box = BOX): { width: number; height: number } {
  const width = attachment.width ?? box;
  const height = attachment.height ?? box;
  const scale = Math.min(1, box / Math.max(width, height));
  return { width: Math.max(48, Math.round(width * scale)), height: Math.max(48, Math.round(height * scale)) };
}

function Thumbnail({ conversationId, attachment, onOpen }: { conversationId: string; attachment: AttachmentEntry; onOpen(): void }) {
  const thumb = useFileUrl(conversationId, attachment, 'thumb');
  const { width, height } = fitted(attachment);
  return (
    <button
      type="button"
      className="thumbnail"
      style={{ width, aspectRatio: `${attachment.width ?? 1} / ${attachment.height ?? 1}` }}
      aria-label={`Open image ${attachment.name}`}
      data-file-id={attachment.id}
      onClick={onOpen}
    >
      {attachment.placeholder && <img className="placeholder" src={attachment.placeholder} alt="" width={width} height={height} />}
      {thumb.state === 'ready' && <img className="thumb" src={thumb.url} alt={attachment.name} width={width} height={height} />}
      {thumb.state === 'missing' && <span className="thumb-missing">Not on this device yet</span>}
    </button>
  );
}

function FileCard({ conversationId, attachment, pending }: { conversationId: string; attachment: AttachmentEntry; pending: boolean }) {
  const client = useClient();
  return (
    <div className="file-card" data-file-id={attachment.id}>
      <Icon name="file" />
      <div className="file-card-text">
        <span className="file-name" title={attachment.name}>
          {attachment.name}
        </span>
        <span className="muted">
          {kindLabel(attachment)} · {formatSize(attachment.size)}
        </span>
      </div>
      {!pending && (
        <button type="button" className="ghost small" aria-label={`Download ${attachment.name}`} onClick={() => void download(client, conversationId, attachment)}>
          <Icon name="download" /> Download
        </button>
      )}
    </div>
  );
}

function UploadProgress({ message, online, onCancel, onRetry }: Pick<Props, 'message' | 'online' | 'onCancel' | 'onRetry'>) {
  const upload = message.upload;
  if (!upload) return null;
  const percent = upload.total > 0 ? Math.floor((upload.sent / upload.total) * 100) : 0;
  const label =
    upload.state === 'failed'
      ? `Not sent: ${message.failure ?? 'the server refused a file'}`
      : upload.state === 'uploading'
        ? `Uploading ${percent}% of ${formatSize(upload.total)}`
        : online
          ? 'Waiting to upload…'
          : `Waiting for network to upload ${formatSize(upload.total)}`;
  return (
    <div className={`upload-progress ${upload.state}`} role="status">
      {upload.state === 'uploading' && <progress value={upload.sent} max={upload.total} aria-label="Upload progress" />}
      <span>{label}</span>
      {upload.state === 'failed' && (
        <button type="button" className="small" onClick={onRetry}>
          Retry
        </button>
      )}
      <button type="button" className="small" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}

function AttachmentsView({ conversationId, message, online, onOpenImage, onCancel, onRetry }: Props) {
  const attachments = message.attachments ?? [];
  const images = attachments.filter(isImage);
  const files = attachments.filter((a) => !isImage(a));
  const pending = message.upload !== undefined;
  return (
    <div className="attachments">
      {images.length > 0 && (
        <div className={`image-grid${images.length > 1 ? ' several' : ''}`}>
          {images.map((attachment) => (
            <Thumbnail key={attachment.id} conversationId={conversationId} attachment={attachment} onOpen={() => onOpenImage(attachment.id)} />
          ))}
        </div>
      )}
      {files.map((attachment) => (
        <FileCard key={attachment.id} conversationId={conversationId} attachment={attachment} pending={pending} />
      ))}
      <UploadProgress message={message} online={online} onCancel={onCancel} onRetry={onRetry} />
    </div>
  );
}

export const Attachments = memo(AttachmentsView);
