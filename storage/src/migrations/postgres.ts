// The Postgres schema, as an ordered list of migrations. Times are BIGINT milliseconds since
// the epoch (read back as JS numbers, see postgres/pool.ts); ids are the text form of UUIDs.
import type { Migration } from './Migration.ts';

/** Creates the ledger of applied migrations; run (under the migration lock) before reading it. */
export const postgresMigrationsTable = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER PRIMARY KEY,
  applied_at BIGINT NOT NULL
);
`;

/** Every Postgres migration, oldest first. Append; never edit one that has shipped. */
export const postgresMigrations: readonly Migration[] = [
  {
    version: 1,
    description: 'users, refresh tokens, conversations, members, messages, read positions, update log',
    sql: `
CREATE TABLE users (
  id            TEXT PRIMARY KEY,
  username      TEXT NOT NULL UNIQUE,
  display_name  TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_at    BIGINT NOT NULL
);

CREATE TABLE refresh_tokens (
  id         TEXT PRIMARY KEY,
  family_id  TEXT NOT NULL,
  user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_hash TEXT NOT NULL UNIQUE,
  expires_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  used_at    BIGINT,
  revoked_at BIGINT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- dm_key is the sorted member pair "a:b" of a DM (NULL for groups); its uniqueness makes
-- opening a DM idempotent even when two requests race.
CREATE TABLE conversations (
  id         TEXT PRIMARY KEY,
  kind       TEXT NOT NULL CHECK (kind IN ('dm', 'group')),
  title      TEXT NOT NULL,
  created_by TEXT NOT NULL REFERENCES users (id),
  created_at BIGINT NOT NULL,
  head       INTEGER NOT NULL DEFAULT 0,
  last_seq   BIGINT NOT NULL DEFAULT 0,
  dm_key     TEXT UNIQUE
);

CREATE TABLE members (
  conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role            TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  joined_at       BIGINT NOT NULL,
  PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX members_user ON members (user_id);

CREATE TABLE messages (
  conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  id              TEXT NOT NULL,
  seq             BIGINT NOT NULL,
  segment         INTEGER NOT NULL,
  author          TEXT NOT NULL,
  created_at      BIGINT NOT NULL,
  received_at     BIGINT NOT NULL,
  body            TEXT NOT NULL,
  reply_to        TEXT,
  edited_at       BIGINT,
  deleted_at      BIGINT,
  PRIMARY KEY (conversation_id, id),
  UNIQUE (conversation_id, seq)
);
CREATE INDEX messages_segment ON messages (conversation_id, segment, seq);

CREATE TABLE read_positions (
  conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  user_id         TEXT NOT NULL,
  seq             BIGINT NOT NULL,
  PRIMARY KEY (conversation_id, user_id)
);

CREATE TABLE doc_snapshots (
  doc_name TEXT PRIMARY KEY,
  snapshot BYTEA NOT NULL,
  position BIGINT NOT NULL
);

CREATE TABLE doc_updates (
  position BIGSERIAL PRIMARY KEY,
  doc_name TEXT NOT NULL,
  "update" BYTEA NOT NULL
);
CREATE INDEX doc_updates_doc ON doc_updates (doc_name, position);
`,
  },
  {
    version: 2,
    description: 'Yjs client ids claimed per document',
    sql: `
CREATE TABLE doc_clients (
  doc_name  TEXT NOT NULL,
  client_id BIGINT NOT NULL,
  user_id   TEXT NOT NULL,
  PRIMARY KEY (doc_name, client_id)
);
`,
  },
];
