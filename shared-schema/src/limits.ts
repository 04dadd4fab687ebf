// Sizes that both sides enforce; the server refuses beyond them, the SDK checks before sending.

export const Limits = {
  /** Characters in a message body. */
  messageBody: 100_000,
  /** Characters in a group title. */
  title: 200,
  /** A report's reason, in characters. */
  reportReason: 1000,
  /** Members in a group. */
  groupMembers: 300,
  /** Characters of the preview kept in the inbox for the last message. */
  preview: 140,
  /** Users one message may mention. */
  mentions: 50,
  /** Emoji key length in a reaction key. */
  emoji: 32,
  /** Raw bytes of one WebSocket frame. */
  frameBytes: 1_048_576,
  /** Bytes of one Yjs update (a sync step 2 of a long offline session can be big). */
  updateBytes: 1_048_576,
  /** Username length. */
  username: 32,
  /** Password length (bytes hashed are bounded too). */
  passwordMin: 8,
  passwordMax: 256,
  /** Messages per segment before the server moves `head` on (configurable on the server). */
  segmentSize: 1_000,
  /** Files attached to one message. */
  attachmentsPerMessage: 10,
  /** Characters in an attached file's name. */
  fileName: 255,
  /** Characters of an attachment's blurred placeholder (a data: URL of a tiny image). */
  placeholder: 2_048,
  /** Bytes of one uploaded file by default (the server's FILES_MAX_BYTES setting decides). */
  fileBytes: 25 * 1024 * 1024,
} as const;
