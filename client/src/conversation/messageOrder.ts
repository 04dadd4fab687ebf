// Order on screen: numbered messages by their canonical number, then messages still without a
// number (this device's pending ones, or others' just arriving) by creation time.
import type { MessageView } from '@outpost/shared-schema';
import type { UploadState } from '../files/Uploads.ts';

export type MessageStatus = 'pending' | 'sent' | 'failed';

export interface MessageItem extends MessageView {
  /** Canonical number, or null until the server has numbered (durably stored) it. */
  seq: number | null;
  status: MessageStatus;
  /** Why a message failed (refused by the server), when it did. */
  failure?: string;
  /** The segment holding the message (-1 while its files upload: it is in no segment yet). */
  segment: number;
  mine: boolean;
  /** A message with files that waits for them to upload: how far it got. */
  upload?: UploadState;
}

export function compareMessages(a: MessageItem, b: MessageItem): number {
  if (a.seq !== null && b.seq !== null) return a.seq - b.seq;
  if (a.seq !== null) return -1;
  if (b.seq !== null) return 1;
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
