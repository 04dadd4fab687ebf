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
  {
    version: 3,
    description: 'per-document log versions and conditional appends; head counts; former members; edits beside the original body',
    sql: `
-- The log: each document's entries at versions 1, 2, 3, … after its base. Server-owned
-- documents (and the retired :order companions) are views of the tables and are rebuilt on
-- load, so their old logs are dropped rather than carried over.
CREATE TABLE doc_bases (
  doc_name TEXT PRIMARY KEY,
  version  BIGINT NOT NULL,
  base     BYTEA NOT NULL
);
CREATE TABLE doc_log (
  doc_name TEXT NOT NULL,
  version  BIGINT NOT NULL,
  "update" BYTEA NOT NULL,
  PRIMARY KEY (doc_name, version)
);
CREATE TABLE doc_heads (
  doc_name TEXT PRIMARY KEY,
  version  BIGINT NOT NULL
);

CREATE TEMP TABLE kept ON COMMIT DROP AS
  SELECT DISTINCT doc_name FROM (SELECT doc_name FROM doc_snapshots UNION SELECT doc_name FROM doc_updates) AS d
  WHERE doc_name NOT LIKE '%:order' AND doc_name NOT LIKE '%:server' AND doc_name NOT LIKE 'inbox:%';
-- A snapshot becomes a base at version 1 (a base version of 0 means there is no base), and
-- the entries after it follow at 2, 3, …; a document without a snapshot starts at 1.
INSERT INTO doc_bases (doc_name, version, base)
  SELECT doc_name, 1, snapshot FROM doc_snapshots WHERE doc_name IN (SELECT doc_name FROM kept);
INSERT INTO doc_log (doc_name, version, "update")
  SELECT u.doc_name,
         coalesce((SELECT b.version FROM doc_bases b WHERE b.doc_name = u.doc_name), 0)
           + row_number() OVER (PARTITION BY u.doc_name ORDER BY u.position),
         u."update"
  FROM doc_updates u
  WHERE u.doc_name IN (SELECT doc_name FROM kept)
    AND u.position > coalesce((SELECT s.position FROM doc_snapshots s WHERE s.doc_name = u.doc_name), 0);
INSERT INTO doc_heads (doc_name, version)
  SELECT k.doc_name,
         coalesce((SELECT max(version) FROM doc_log l WHERE l.doc_name = k.doc_name), (SELECT version FROM doc_bases b WHERE b.doc_name = k.doc_name), 0)
  FROM kept k;
DROP TABLE doc_updates;
DROP TABLE doc_snapshots;
DELETE FROM doc_clients WHERE doc_name LIKE '%:order' OR doc_name LIKE '%:server' OR doc_name LIKE 'inbox:%';

ALTER TABLE doc_clients ADD COLUMN claimed_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX doc_clients_user ON doc_clients (doc_name, user_id, claimed_at);

-- Messages numbered in the head segment since it became the head.
ALTER TABLE conversations ADD COLUMN head_count INTEGER NOT NULL DEFAULT 0;
UPDATE conversations SET head_count =
  (SELECT count(*) FROM messages m WHERE m.conversation_id = conversations.id AND m.segment = conversations.head);

-- The body as first sent stays in body; the winning edit lives beside it.
ALTER TABLE messages ADD COLUMN edited_body TEXT;
UPDATE messages SET edited_body = body WHERE edited_at IS NOT NULL;
-- Deletion is real: version 2 kept a deleted message's text (and edit time) beside deleted_at.
UPDATE messages SET body = '', edited_body = NULL, edited_at = NULL WHERE deleted_at IS NOT NULL;

CREATE TABLE former_members (
  conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  left_at         BIGINT NOT NULL,
  removed_by      TEXT,
  PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX former_members_user ON former_members (user_id, left_at);
`,
  },  {
    version: 4,
    description: 'timeline events of groups: created, added, removed, left, renamed',
    sql: `
CREATE TABLE conversation_events (
  id              BIGSERIAL PRIMARY KEY,
  conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  at              BIGINT NOT NULL,
  kind            TEXT NOT NULL,
  actor           TEXT NOT NULL,
  subject         TEXT,
  title           TEXT
);
CREATE INDEX conversation_events_conversation ON conversation_events (conversation_id, id);

-- What the tables already tell of groups made before: their creation, and who left or was removed.
INSERT INTO conversation_events (conversation_id, at, kind, actor, subject, title)
  SELECT id, created_at, 'created', created_by, NULL, title FROM conversations WHERE kind = 'group' ORDER BY created_at;
INSERT INTO conversation_events (conversation_id, at, kind, actor, subject, title)
  SELECT f.conversation_id, f.left_at, CASE WHEN f.removed_by IS NULL THEN 'left' ELSE 'removed' END,
         coalesce(f.removed_by, f.user_id), CASE WHEN f.removed_by IS NULL THEN NULL ELSE f.user_id END, NULL
  FROM former_members f ORDER BY f.left_at;
`,
  },
  {
    version: 5,
    description: 'files attached to messages and their content-addressed blobs',
    sql: `
-- A blob is immutable bytes under their SHA-256, kept in Postgres so every node reaches them:
-- chunks first, then the blobs row (a reader that finds the row finds every chunk). stored_at is
-- the last time someone stored them (collection spares recent ones and chunks still being written).
CREATE TABLE blobs (
  key       TEXT PRIMARY KEY,
  size      BIGINT NOT NULL,
  stored_at BIGINT NOT NULL
);
CREATE INDEX blobs_stored ON blobs (stored_at);
CREATE TABLE blob_chunks (
  key        TEXT NOT NULL,
  n          INTEGER NOT NULL,
  bytes      BYTEA NOT NULL,
  written_at BIGINT NOT NULL,
  PRIMARY KEY (key, n)
);

-- A file someone uploaded to a conversation; message_id is set in the commit that numbers the
-- message carrying it. Ids are made by the uploading device (random UUIDs), never paths.
CREATE TABLE files (
  id              TEXT PRIMARY KEY,
  conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  uploader        TEXT NOT NULL,
  name            TEXT NOT NULL,
  type            TEXT NOT NULL,
  size            BIGINT NOT NULL,
  width           INTEGER,
  height          INTEGER,
  placeholder     TEXT,
  original_key    TEXT NOT NULL,
  display_key     TEXT,
  thumb_key       TEXT,
  created_at      BIGINT NOT NULL,
  message_id      TEXT
);
CREATE INDEX files_message ON files (conversation_id, message_id);
CREATE INDEX files_uploader ON files (uploader);
CREATE INDEX files_unattached ON files (created_at) WHERE message_id IS NULL;
CREATE INDEX files_original ON files (original_key);
CREATE INDEX files_display ON files (display_key);
CREATE INDEX files_thumb ON files (thumb_key);
`,
  },
  {
    version: 6,
    description: 'account security and administration: audit log, devices, two-factor sign-in, deactivation, password resets',
    sql: `
-- Security-relevant events, append-only (the triggers refuse to change or remove a row).
-- actor and subject are ids (a user, a device, a conversation or a message); details is a
-- small JSON object, never a secret and never a message body.
CREATE TABLE audit_events (
  id      BIGSERIAL PRIMARY KEY,
  at      BIGINT NOT NULL,
  kind    TEXT NOT NULL,
  actor   TEXT,
  subject TEXT,
  details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_kind ON audit_events (kind, id);
CREATE INDEX audit_events_actor ON audit_events (actor, id);
CREATE INDEX audit_events_subject ON audit_events (subject, id);
CREATE INDEX audit_events_at ON audit_events (at, id);
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- A signed-in device is a refresh-token family (its id is the family id). second_factor_at is
-- when it passed the second factor (NULL: it signed in before two-factor sign-in was enabled).
CREATE TABLE devices (
  id               TEXT PRIMARY KEY,
  user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name             TEXT NOT NULL,
  address          TEXT NOT NULL,
  created_at       BIGINT NOT NULL,
  last_seen_at     BIGINT NOT NULL,
  second_factor_at BIGINT
);
CREATE INDEX devices_user ON devices (user_id, last_seen_at);
INSERT INTO devices (id, user_id, name, address, created_at, last_seen_at)
  SELECT family_id, user_id, 'Unknown device', '', min(created_at), max(created_at) FROM refresh_tokens GROUP BY family_id, user_id;

-- Two-factor sign-in: the TOTP secret (enabled_at NULL while enrolment awaits its first code),
-- the last time step accepted (a code is never accepted twice), recovery codes hashed.
CREATE TABLE second_factors (
  user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  secret     TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  enabled_at BIGINT,
  last_step  BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE recovery_codes (
  user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash TEXT NOT NULL,
  used_at   BIGINT,
  PRIMARY KEY (user_id, code_hash)
);

-- A deactivated user cannot sign in; their messages stay.
ALTER TABLE users ADD COLUMN deactivated_at BIGINT;
CREATE INDEX users_created ON users (created_at, id);

-- One-time password reset codes an administrator issues, hashed.
CREATE TABLE password_resets (
  code_hash  TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  issued_by  TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at    BIGINT
);
CREATE INDEX password_resets_user ON password_resets (user_id);
`,
  },
  {
    version: 7,
    description: 'erased accounts, groups locked to admins-only posting, reports of messages to the server administrators',
    sql: `
-- An erased account keeps its id (messages and memberships name it) and nothing else of the person.
ALTER TABLE users ADD COLUMN erased_at BIGINT;

-- Who may post in a group: everyone, or only its owner and admins.
ALTER TABLE conversations ADD COLUMN posting TEXT NOT NULL DEFAULT 'everyone' CHECK (posting IN ('everyone', 'admins'));

-- A member reports a message to the server administrators. The reason is the reporter's words;
-- the message itself is read from the read model when an administrator looks.
CREATE TABLE reports (
  id              TEXT PRIMARY KEY,
  conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  message_id      TEXT NOT NULL,
  reporter        TEXT NOT NULL REFERENCES users (id),
  reason          TEXT NOT NULL,
  created_at      BIGINT NOT NULL,
  resolved_by     TEXT,
  resolved_at     BIGINT,
  UNIQUE (conversation_id, message_id, reporter)
);
CREATE INDEX reports_open ON reports (resolved_at, created_at);
`,
  },
  {
    version: 8,
    description: 'full-text search over messages (tsvector + GIN), kept in step with the projection',
    sql: `
-- The names of the files a message carries (found by name too), kept by a trigger on files.
ALTER TABLE messages ADD COLUMN file_names TEXT NOT NULL DEFAULT '';
UPDATE messages m SET file_names = f.names
  FROM (SELECT conversation_id, message_id, string_agg(name, ' ' ORDER BY created_at, id) AS names
        FROM files WHERE message_id IS NOT NULL GROUP BY conversation_id, message_id) f
  WHERE m.conversation_id = f.conversation_id AND m.id = f.message_id;

-- What a member can find: the current text and file names of a message that is not deleted.
-- A generated column follows every write of the projection, in the same statement. As with
-- SQLite's unicode61 tokenizer, words are runs of letters and digits, lowercased, not stemmed:
-- punctuation becomes a space first, or the parser would keep "pump-room.pdf" as
-- one token that a search for "room" could not find.
ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS (
  CASE WHEN deleted_at IS NULL
    THEN to_tsvector('simple', regexp_replace(coalesce(edited_body, body) || ' ' || file_names, '[[:punct:]]+', ' ', 'g'))
    ELSE ''::tsvector END
) STORED;
CREATE INDEX messages_search ON messages USING gin (search);
-- Search reads the matches of a frequent word a period at a time, newest first.
CREATE INDEX messages_received ON messages (received_at);

CREATE FUNCTION messages_file_names() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.message_id IS NOT NULL THEN
    UPDATE messages SET file_names = coalesce((SELECT string_agg(f.name, ' ' ORDER BY f.created_at, f.id) FROM files f
                                              WHERE f.conversation_id = OLD.conversation_id AND f.message_id = OLD.message_id), '')
      WHERE conversation_id = OLD.conversation_id AND id = OLD.message_id;
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.message_id IS NOT NULL THEN
    UPDATE messages SET file_names = coalesce((SELECT string_agg(f.name, ' ' ORDER BY f.created_at, f.id) FROM files f
                                              WHERE f.conversation_id = NEW.conversation_id AND f.message_id = NEW.message_id), '')
      WHERE conversation_id = NEW.conversation_id AND id = NEW.message_id;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER messages_file_names_insert AFTER INSERT ON files FOR EACH ROW WHEN (NEW.message_id IS NOT NULL) EXECUTE FUNCTION messages_file_names();
CREATE TRIGGER messages_file_names_update AFTER UPDATE OF message_id, name ON files FOR EACH ROW EXECUTE FUNCTION messages_file_names();
CREATE TRIGGER messages_file_names_delete AFTER DELETE ON files FOR EACH ROW WHEN (OLD.message_id IS NOT NULL) EXECUTE FUNCTION messages_file_names();

-- Statistics for the new column now, not when autovacuum gets to it: without them the planner
-- does not know how selective a word is and may scan every message instead of the index.
ANALYZE messages;
`,
  },
  {
    version: 9,
    description: 'search reads a frequent word a few weeks at a time: the week beside the words in the GIN index (btree_gin)',
    sql: `
-- A frequent word's index entries list tens of thousands of messages, and a search ranks only the
-- newest few hundred the user may see. A GIN index has no order, so reading the word's entries
-- meant reading all of them, once per period searched. With each message's week of reception as a
-- second key of the same index, a search asks for the word in given weeks: GIN intersects the two
-- lists while reading them and skips the parts of the word's list outside those weeks (a week's
-- messages sit together in the table, so their entries do in the index), so the cost follows the
-- weeks read, not the word's whole history. btree_gin is what lets GIN index a number; it ships
-- with PostgreSQL (Debian's postgresql-NN, the official image) and is trusted: a role with CREATE
-- on the database may create it without being a superuser. The index replaces the one on the
-- words alone, which it also serves (a query on its first column reads only that column's entries).
-- New entries wait in the index's pending list until it exceeds gin_pending_list_limit, and every
-- scan reads that whole list, once per week asked for: with the default 4 MB a frequent word took
-- 39 ms p50 / 62 ms p95 instead of 12 / 24 ms. At 64 kB the list is merged in smaller steps; the
-- total work of an insert stays the same (fastupdate off would cost inserts half as much again).
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX messages_search_week ON messages USING gin (search, (received_at / 604800000)) WITH (gin_pending_list_limit = 64);
DROP INDEX messages_search;
-- The messages of the user's conversations in the weeks read, to intersect with the word's: only
-- the rows of matches the user may see are read.
CREATE INDEX messages_conversation_received ON messages (conversation_id, received_at);
-- Statistics for the expression now (the planner estimates a week's share from them).
ANALYZE messages;
`,
  },
  {
    version: 10,
    description: 'nothing on Postgres: SQLite queues new messages for its full-text index',
    sql: `
-- SQLite's migration 10 moves indexing a new message out of the transaction that numbers it.
-- Postgres indexes it in that transaction (the tsvector column and its GIN index, whose pending
-- list already batches the index's work), so it needs no change; the number is taken so both
-- backends' schemas carry the same versions.
SELECT 1;
`,
  },
  {
    version: 11,
    description: "nothing on Postgres: SQLite's full-text index carries each message's conversation",
    sql: `
-- SQLite's migration 11 lets FTS5 skip to the matches of the user's conversations. Postgres's
-- search already hands the planner that list (PostgresSearch); the version is taken so both
-- backends' schemas carry the same versions.
SELECT 1;
`,
  },
];
