// Attached files in the app: their bytes as object URLs (from the replica, or fetched once and
// kept by the SDK), downloads under their own name, and what a card says about a file.
import { useEffect, useState } from 'react';
import type { FileVariant, OutpostClient } from '@outpost/client';
import type { AttachmentEntry } from '@outpost/shared-schema';
import { useClient } from './ClientContext.ts';

export type FileUrl = { state: 'loading' } | { state: 'ready'; url: string } | { state: 'missing' };

/** An object URL of `attachment` as `variant`, revoked when no longer shown; 'missing' offline when not kept. */
export function useFileUrl(conversationId: string, attachment: AttachmentEntry, variant: FileVariant, enabled = true): FileUrl {
  const client = useClient();
  const [value, setValue] = useState<FileUrl>({ state: 'loading' });
  // A file's bytes never change under its id; a pending preview may arrive a moment later (width appears).
  const key = `${attachment.id}/${variant}/${attachment.width ?? ''}/${enabled}`;
  useEffect(() => {
    if (!enabled) return;
    let url: string | null = null;
    let live = true;
    setValue({ state: 'loading' });
    client.file(conversationId, attachment, variant).then(
      (blob) => {
        if (!live) return;
        if (!blob) return setValue({ state: 'missing' });
        url = URL.createObjectURL(blob);
        setValue({ state: 'ready', url });
      },
      () => live && setValue({ state: 'missing' }),
    );
    return () => {
      live = false;
      if (url) URL.revokeObjectURL(url);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `key` says when the bytes change
  }, [client, conversationId, key]);
  return value;
}

/** Saves the original file under its name (fetched with the access token, so no link can leak). */
export async function download(client: OutpostClient, conversationId: string, attachment: AttachmentEntry): Promise<boolean> {
  const blob = await client.file(conversationId, attachment, 'original');
  if (!blob) return false;
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = attachment.name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return true;
}

export function formatSize(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} B`;
}

/** "PDF", "JPEG", "ZIP"… from the name's extension, else the type's subtype. */
export function kindLabel(attachment: Pick<AttachmentEntry, 'name' | 'type'>): string {
  const dot = attachment.name.lastIndexOf('.');
  if (dot > 0 && dot >= attachment.name.length - 6) return attachment.name.slice(dot + 1).toUpperCase();
  if (attachment.type === 'text/plain') return 'Text';
  if (attachment.type === 'application/octet-stream') return 'File';
  return (attachment.type.split('/')[1] ?? 'file').replace(/^x-/, '').toUpperCase();
}
