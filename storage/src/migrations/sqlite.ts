// The SQLite schema, as an ordered list of migrations. Times are INTEGER milliseconds since
// the epoch; ids are the text form of UUIDs.
import type { Migration } from './Migration.ts';

/** Creates the ledger of applied migrations; run before reading it. */
export const sqliteMigrationsTable = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER PRIMARY KEY,
  applied_at INTEGER NOT NULL
) STRICT;
`;

/** Every SQLite migration, oldest first. Append; never edit one that has shipped. */
export const sqliteMigrations: readonly Migration[] = [
  {
    version: 1,
    description: 'users, refresh tokens, conversations, members, messages, read positions, update log',
    sql: `
CREATE TABLE users (
  id            TEXT PRIMARY KEY,
  username      TEXT NOT NULL UNIQUE,
  display_name  TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE refresh_tokens (
  id         TEXT PRIMARY KEY,
  family_id  TEXT NOT NULL,
  user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_hash TEXT NOT NULL UNIQUE,
  expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  used_at    INTEGER,
  revoked_at INTEGER
) STRICT;
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- dm_key is the sorted member pair "a:b" of a DM (NULL for groups); its uniqueness makes
-- opening a DM idempotent even when two requests race.
CREATE TABLE conversations (
  id         TEXT PRIMARY KEY,
  kind       TEXT NOT NULL CHECK (kind IN ('dm', 'group')),
  title      TEXT NOT NULL,
  created_by TEXT NOT NULL REFERENCES users (id),
  created_at INTEGER NOT NULL,
  head       INTEGER NOT NULL DEFAULT 0,
  last_seq   INTEGER NOT NULL DEFAULT 0,
  dm_key     TEXT UNIQUE
) STRICT;

CREATE TABLE members (
  conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role            TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  joined_at       INTEGER NOT NULL,
  PRIMARY KEY (conversation_id, user_id)
) STRICT;
CREATE INDEX members_user ON members (user_id);

CREATE TABLE messages (
  conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  id              TEXT NOT NULL,
  seq             INTEGER NOT NULL,
  segment         INTEGER NOT NULL,
  author          TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  received_at     INTEGER NOT NULL,
  body            TEXT NOT NULL,
  reply_to        TEXT,
  edited_at       INTEGER,
  deleted_at      INTEGER,
  PRIMARY KEY (conversation_id, id),
  UNIQUE (conversation_id, seq)
) STRICT;
CREATE INDEX messages_segment ON messages (conversation_id, segment, seq);

CREATE TABLE read_positions (
  conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  user_id         TEXT NOT NULL,
  seq             INTEGER NOT NULL,
  PRIMARY KEY (conversation_id, user_id)
) STRICT;

CREATE TABLE doc_snapshots (
  doc_name TEXT PRIMARY KEY,
  snapshot BLOB NOT NULL,
  position INTEGER NOT NULL
) STRICT;

-- AUTOINCREMENT, not a plain rowid: a trimmed position must never be handed out again, or an
-- entry could land at or below its document's snapshot position and never be loaded.
CREATE TABLE doc_updates (
  position INTEGER PRIMARY KEY AUTOINCREMENT,
  doc_name TEXT NOT NULL,
  "update" BLOB NOT NULL
) STRICT;
CREATE INDEX doc_updates_doc ON doc_updates (doc_name, position);
`,
  },
  {
    version: 2,
    description: 'Yjs client ids claimed per document',
    sql: `
CREATE TABLE doc_clients (
  doc_name  TEXT NOT NULL,
  client_id INTEGER NOT NULL,
  user_id   TEXT NOT NULL,
  PRIMARY KEY (doc_name, client_id)
) STRICT;
`,
  },
];
