// Sizes that both sides enforce; the server refuses beyond them, the SDK checks before sending.

export const Limits = {
  /** Characters in a message body. */
  messageBody: 100_000,
  /** Characters in a group title. */
  title: 200,
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
} as const;
