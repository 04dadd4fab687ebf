// An image full screen: the display size (the thumbnail, then the placeholder, stand in while it
// loads), the conversation's other images with ←/→, the buttons or a swipe, Escape to close, and
// the original to download. A full-size image viewed once stays on the device (the SDK keeps it
// within its budget), so it opens offline too.
import { useEffect, useRef, useState, type PointerEvent } from 'react';
import type { AttachmentEntry } from '@outpost/shared-schema';
import { useClient } from '../app/ClientContext.ts';
import { download, formatSize, useFileUrl } from '../app/files.ts';
import { Icon } from './Icon.tsx';

export interface ViewedImage {
  conversationId: string;
  attachment: AttachmentEntry;
  /** Who sent it and when, for the caption. */
  caption: string;
}

interface Props {
  images: readonly ViewedImage[];
  index: number;
  onIndex(index: number): void;
  onClose(): void;
}

export function ImageViewer({ images, index, onIndex, onClose }: Props) {
  const client = useClient();
  const ref = useRef<HTMLDialogElement>(null);
  const swipe = useRef<{ x: number; y: number } | null>(null);
  const [failed, setFailed] = useState(false);
  const current = images[Math.max(0, Math.min(images.length - 1, index))];
  const full = useFileUrl(current?.conversationId ?? '', current?.attachment ?? { id: '', name: '', type: '', size: 0 }, 'display', current !== undefined);
  const thumb = useFileUrl(current?.conversationId ?? '', current?.attachment ?? { id: '', name: '', type: '', size: 0 }, 'thumb', current !== undefined);

  useEffect(() => {
    const dialog = ref.current;
    const returnTo = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (dialog && !dialog.open) dialog.showModal();
    return () => {
      dialog?.close();
      if (returnTo?.isConnected) returnTo.focus();
    };
  }, []);

  if (!current) return null;
  const go = (step: number) => {
    const next = index + step;
    if (next >= 0 && next < images.length) onIndex(next);
  };
  const src = full.state === 'ready' ? full.url : thumb.state === 'ready' ? thumb.url : current.attachment.placeholder;
  const onPointerUp = (event: PointerEvent) => {
    const start = swipe.current;
    swipe.current = null;
    if (!start) return;
    const dx = event.clientX - start.x;
    if (Math.abs(dx) > 50 && Math.abs(dx) > Math.abs(event.clientY - start.y)) go(dx < 0 ? 1 : -1);
  };

  return (
    <dialog
      ref={ref}
      className="image-viewer"
      aria-label={`Image ${index + 1} of ${images.length}: ${current.attachment.name}`}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
      onKeyDown={(event) => {
        if (event.key === 'ArrowRight') go(1);
        else if (event.key === 'ArrowLeft') go(-1);
        else return;
        event.preventDefault();
      }}
    >
      <header className="viewer-bar">
        <span className="viewer-title">
          <strong>{current.attachment.name}</strong>
          <span>
            {current.caption} · {index + 1} of {images.length}
          </span>
        </span>
        <button
          type="button"
          className="viewer-button"
          onClick={() => void download(client, current.conversationId, current.attachment).then((ok) => setFailed(!ok))}
          aria-label={`Download ${current.attachment.name} (${formatSize(current.attachment.size)})`}
        >
          <Icon name="download" /> <span className="label">Download</span>
        </button>
        <button type="button" className="viewer-button" aria-label="Close" onClick={onClose} autoFocus>
          ✕
        </button>
      </header>
      {failed && (
        <p className="viewer-note" role="alert">
          The original is not on this device; download it when you are online.
        </p>
      )}
      <div
        className="viewer-stage"
        onPointerDown={(event) => (swipe.current = { x: event.clientX, y: event.clientY })}
        onPointerUp={onPointerUp}
        onPointerCancel={() => (swipe.current = null)}
      >
        {src && (
          <img
            key={current.attachment.id}
            src={src}
            alt={current.attachment.name}
            width={current.attachment.width}
            height={current.attachment.height}
            className={full.state === 'ready' ? 'full' : 'standin'}
            draggable={false}
          />
        )}
        {full.state === 'missing' && thumb.state !== 'ready' && <p className="viewer-note">This image is not on this device; it shows when you are online.</p>}
      </div>
      <button type="button" className="viewer-button viewer-prev" aria-label="Previous image" disabled={index === 0} onClick={() => go(-1)}>
        ‹
      </button>
      <button type="button" className="viewer-button viewer-next" aria-label="Next image" disabled={index >= images.length - 1} onClick={() => go(1)}>
        ›
      </button>
    </dialog>
  );
}
