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
  {
    version: 3,
    description: 'per-document log versions and conditional appends; head counts; former members; edits beside the original body',
    sql: `
-- The log: each document's entries at versions 1, 2, 3, … after its base. Server-owned
-- documents (and the retired :order companions) are views of the tables and are rebuilt on
-- load, so their old logs are dropped rather than carried over.
CREATE TABLE doc_bases (
  doc_name TEXT PRIMARY KEY,
  version  INTEGER NOT NULL,
  base     BLOB NOT NULL
) STRICT;
CREATE TABLE doc_log (
  doc_name TEXT NOT NULL,
  version  INTEGER NOT NULL,
  "update" BLOB NOT NULL,
  PRIMARY KEY (doc_name, version)
) STRICT;
CREATE TABLE doc_heads (
  doc_name TEXT PRIMARY KEY,
  version  INTEGER NOT NULL
) STRICT;

CREATE TEMP TABLE kept AS
  SELECT DISTINCT doc_name FROM (SELECT doc_name FROM doc_snapshots UNION SELECT doc_name FROM doc_updates)
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
DROP TABLE kept;
DROP TABLE doc_updates;
DROP TABLE doc_snapshots;
DELETE FROM doc_clients WHERE doc_name LIKE '%:order' OR doc_name LIKE '%:server' OR doc_name LIKE 'inbox:%';

ALTER TABLE doc_clients ADD COLUMN claimed_at INTEGER NOT NULL DEFAULT 0;
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
  left_at         INTEGER NOT NULL,
  removed_by      TEXT,
  PRIMARY KEY (conversation_id, user_id)
) STRICT;
CREATE INDEX former_members_user ON former_members (user_id, left_at);
`,
  },  {
    version: 4,
    description: 'timeline events of groups: created, added, removed, left, renamed',
    sql: `
CREATE TABLE conversation_events (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  at              INTEGER NOT NULL,
  kind            TEXT NOT NULL,
  actor           TEXT NOT NULL,
  subject         TEXT,
  title           TEXT
) STRICT;
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
-- A blob is immutable bytes under their SHA-256; the bytes themselves are files in the data
-- directory (DATA_DIR/files). stored_at is the last time someone stored them (collection spares
-- recent ones, so an upload in progress never loses a blob it found already there).
CREATE TABLE blobs (
  key       TEXT PRIMARY KEY,
  size      INTEGER NOT NULL,
  stored_at INTEGER NOT NULL
) STRICT;
CREATE INDEX blobs_stored ON blobs (stored_at);

-- A file someone uploaded to a conversation; message_id is set in the commit that numbers the
-- message carrying it. Ids are made by the uploading device (random UUIDs), never paths.
CREATE TABLE files (
  id              TEXT PRIMARY KEY,
  conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  uploader        TEXT NOT NULL,
  name            TEXT NOT NULL,
  type            TEXT NOT NULL,
  size            INTEGER NOT NULL,
  width           INTEGER,
  height          INTEGER,
  placeholder     TEXT,
  original_key    TEXT NOT NULL,
  display_key     TEXT,
  thumb_key       TEXT,
  created_at      INTEGER NOT NULL,
  message_id      TEXT
) STRICT;
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
  id      INTEGER PRIMARY KEY AUTOINCREMENT,
  at      INTEGER NOT NULL,
  kind    TEXT NOT NULL,
  actor   TEXT,
  subject TEXT,
  details TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX audit_events_kind ON audit_events (kind, id);
CREATE INDEX audit_events_actor ON audit_events (actor, id);
CREATE INDEX audit_events_subject ON audit_events (subject, id);
CREATE INDEX audit_events_at ON audit_events (at, id);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
  BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
  BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;

-- A signed-in device is a refresh-token family (its id is the family id). second_factor_at is
-- when it passed the second factor (NULL: it signed in before two-factor sign-in was enabled).
CREATE TABLE devices (
  id               TEXT PRIMARY KEY,
  user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name             TEXT NOT NULL,
  address          TEXT NOT NULL,
  created_at       INTEGER NOT NULL,
  last_seen_at     INTEGER NOT NULL,
  second_factor_at INTEGER
) STRICT;
CREATE INDEX devices_user ON devices (user_id, last_seen_at);
INSERT INTO devices (id, user_id, name, address, created_at, last_seen_at)
  SELECT family_id, user_id, 'Unknown device', '', min(created_at), max(created_at) FROM refresh_tokens GROUP BY family_id, user_id;

-- Two-factor sign-in: the TOTP secret (enabled_at NULL while enrolment awaits its first code),
-- the last time step accepted (a code is never accepted twice), recovery codes hashed.
CREATE TABLE second_factors (
  user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  secret     TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  enabled_at INTEGER,
  last_step  INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE TABLE recovery_codes (
  user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash TEXT NOT NULL,
  used_at   INTEGER,
  PRIMARY KEY (user_id, code_hash)
) STRICT;

-- A deactivated user cannot sign in; their messages stay.
ALTER TABLE users ADD COLUMN deactivated_at INTEGER;
CREATE INDEX users_created ON users (created_at, id);

-- One-time password reset codes an administrator issues, hashed.
CREATE TABLE password_resets (
  code_hash  TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  issued_by  TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at    INTEGER
) STRICT;
CREATE INDEX password_resets_user ON password_resets (user_id);
`,
  },
  {
    version: 7,
    description: 'erased accounts, groups locked to admins-only posting, reports of messages to the server administrators',
    sql: `
-- An erased account keeps its id (messages and memberships name it) and nothing else of the person.
ALTER TABLE users ADD COLUMN erased_at INTEGER;

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
  created_at      INTEGER NOT NULL,
  resolved_by     TEXT,
  resolved_at     INTEGER,
  UNIQUE (conversation_id, message_id, reporter)
) STRICT;
CREATE INDEX reports_open ON reports (resolved_at, created_at);
`,
  },
  {
    version: 8,
    description: 'full-text search over messages (FTS5), kept in step with the projection by triggers',
    sql: `
-- FTS5 rows need a stable integer id; a rowid SQLite may renumber (VACUUM) would not do, so
-- each message gets one here.
CREATE TABLE message_search_rows (
  doc             INTEGER PRIMARY KEY,
  conversation_id TEXT NOT NULL,
  message_id      TEXT NOT NULL,
  UNIQUE (conversation_id, message_id)
) STRICT;

-- What a member can find: the current text of a message that is not deleted, and the names of
-- the files it carries. secure-delete removes a deleted row's words from the index itself at
-- once, not only its text (deletion is real).
CREATE VIRTUAL TABLE message_search USING fts5 (body, files, tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO message_search (message_search, rank) VALUES ('secure-delete', 1);

-- The triggers re-index one message: out of the index, then back in unless it is deleted.
CREATE TRIGGER message_search_insert AFTER INSERT ON messages BEGIN
  INSERT INTO message_search_rows (conversation_id, message_id) VALUES (new.conversation_id, new.id);
  INSERT INTO message_search (rowid, body, files)
    SELECT r.doc, coalesce(new.edited_body, new.body),
           coalesce((SELECT group_concat(f.name, ' ') FROM files f WHERE f.conversation_id = new.conversation_id AND f.message_id = new.id), '')
    FROM message_search_rows r WHERE r.conversation_id = new.conversation_id AND r.message_id = new.id AND new.deleted_at IS NULL;
END;

CREATE TRIGGER message_search_update AFTER UPDATE OF body, edited_body, deleted_at ON messages BEGIN
  DELETE FROM message_search WHERE rowid = (SELECT doc FROM message_search_rows WHERE conversation_id = old.conversation_id AND message_id = old.id);
  INSERT INTO message_search (rowid, body, files)
    SELECT r.doc, coalesce(new.edited_body, new.body),
           coalesce((SELECT group_concat(f.name, ' ') FROM files f WHERE f.conversation_id = new.conversation_id AND f.message_id = new.id), '')
    FROM message_search_rows r WHERE r.conversation_id = new.conversation_id AND r.message_id = new.id AND new.deleted_at IS NULL;
END;

CREATE TRIGGER message_search_delete AFTER DELETE ON messages BEGIN
  DELETE FROM message_search WHERE rowid = (SELECT doc FROM message_search_rows WHERE conversation_id = old.conversation_id AND message_id = old.id);
  DELETE FROM message_search_rows WHERE conversation_id = old.conversation_id AND message_id = old.id;
END;

-- A file joins its message in the commit that numbers it, and goes with it when it is deleted.
CREATE TRIGGER message_search_file_in AFTER UPDATE OF message_id, name ON files WHEN new.message_id IS NOT NULL BEGIN
  DELETE FROM message_search WHERE rowid = (SELECT doc FROM message_search_rows WHERE conversation_id = new.conversation_id AND message_id = new.message_id);
  INSERT INTO message_search (rowid, body, files)
    SELECT r.doc, coalesce(m.edited_body, m.body),
           coalesce((SELECT group_concat(f.name, ' ') FROM files f WHERE f.conversation_id = m.conversation_id AND f.message_id = m.id), '')
    FROM messages m JOIN message_search_rows r ON r.conversation_id = m.conversation_id AND r.message_id = m.id
    WHERE m.conversation_id = new.conversation_id AND m.id = new.message_id AND m.deleted_at IS NULL;
END;

CREATE TRIGGER message_search_file_out AFTER DELETE ON files WHEN old.message_id IS NOT NULL BEGIN
  DELETE FROM message_search WHERE rowid = (SELECT doc FROM message_search_rows WHERE conversation_id = old.conversation_id AND message_id = old.message_id);
  INSERT INTO message_search (rowid, body, files)
    SELECT r.doc, coalesce(m.edited_body, m.body),
           coalesce((SELECT group_concat(f.name, ' ') FROM files f WHERE f.conversation_id = m.conversation_id AND f.message_id = m.id), '')
    FROM messages m JOIN message_search_rows r ON r.conversation_id = m.conversation_id AND r.message_id = m.id
    WHERE m.conversation_id = old.conversation_id AND m.id = old.message_id AND m.deleted_at IS NULL;
END;

-- Backfill: every message there is, in order.
INSERT INTO message_search_rows (conversation_id, message_id) SELECT conversation_id, id FROM messages ORDER BY received_at, conversation_id, seq;
INSERT INTO message_search (rowid, body, files)
  SELECT r.doc, coalesce(m.edited_body, m.body),
         coalesce((SELECT group_concat(f.name, ' ') FROM files f WHERE f.conversation_id = m.conversation_id AND f.message_id = m.id), '')
  FROM messages m JOIN message_search_rows r ON r.conversation_id = m.conversation_id AND r.message_id = m.id
  WHERE m.deleted_at IS NULL;
`,
  },
  {
    version: 9,
    description: 'nothing on SQLite: Postgres search reads a frequent word a week at a time (FTS5 already reads newest first)',
    sql: `
-- Postgres's migration 9 adds the week of reception to its search index. FTS5 walks its index
-- newest first and stops when the ranked window is full, so SQLite needs no change; the version is
-- taken so both backends' schemas carry the same numbers.
SELECT 1;
`,
  },
  {
    version: 10,
    description: 'new messages wait in a queue for the full-text index, which takes them in batches',
    sql: `
-- Indexing one message in the transaction that numbers it cost four tenths of that transaction's
-- time: FTS5 writes a new segment of its index at every commit (and merges them), whatever the
-- commit holds. A new message now queues its index row here; the indexer (SqliteSearch.indexPending,
-- run by the node every second and by a search before it reads) takes the queue in one
-- transaction. Edits, deletions and files still re-index their message at once, as before: a
-- queued message they touch is indexed early, and the indexer's delete-then-insert makes that
-- harmless. A message deleted before its turn never enters the index (its row is read then).
CREATE TABLE message_search_pending (doc INTEGER PRIMARY KEY) STRICT;

DROP TRIGGER message_search_insert;
CREATE TRIGGER message_search_insert AFTER INSERT ON messages BEGIN
  INSERT INTO message_search_rows (conversation_id, message_id) VALUES (new.conversation_id, new.id);
  -- OR IGNORE: a doc number freed by an erased message may be handed out again while still queued.
  INSERT OR IGNORE INTO message_search_pending (doc)
    SELECT doc FROM message_search_rows WHERE conversation_id = new.conversation_id AND message_id = new.id;
END;

DROP TRIGGER message_search_delete;
CREATE TRIGGER message_search_delete AFTER DELETE ON messages BEGIN
  DELETE FROM message_search WHERE rowid = (SELECT doc FROM message_search_rows WHERE conversation_id = old.conversation_id AND message_id = old.id);
  DELETE FROM message_search_pending WHERE doc = (SELECT doc FROM message_search_rows WHERE conversation_id = old.conversation_id AND message_id = old.id);
  DELETE FROM message_search_rows WHERE conversation_id = old.conversation_id AND message_id = old.id;
END;
`,
  },
  {
    version: 11,
    description: "the full-text index carries each message's conversation, so a search reads the matches of the user's conversations only",
    sql: `
-- A search walked every match of its words, newest first, and dropped those of conversations the
-- user cannot see: someone in a few small conversations who searched a frequent word read that
-- word's matches in the whole server (55 ms at 200,000 messages, growing with the server's
-- history), on the node's event loop. Each row now also holds its conversation as one token
-- (scope: 'c' and the id without dashes), so a search asks for its words AND one of the user's
-- conversations, and FTS5 skips to the matches of those. An FTS5 table takes no new column: it is
-- made again, and every message is indexed again here.
DROP TABLE message_search;
CREATE VIRTUAL TABLE message_search USING fts5 (body, files, scope, tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO message_search (message_search, rank) VALUES ('secure-delete', 1);

-- What the index holds of each message that is not deleted: its current text, the names of its
-- files, its conversation's token. The triggers and the indexer read it.
CREATE VIEW message_search_source AS
  SELECT r.doc, m.conversation_id, m.id AS message_id, coalesce(m.edited_body, m.body) AS body,
         coalesce((SELECT group_concat(f.name, ' ') FROM files f WHERE f.conversation_id = m.conversation_id AND f.message_id = m.id), '') AS files,
         'c' || replace(m.conversation_id, '-', '') AS scope
  FROM messages m JOIN message_search_rows r ON r.conversation_id = m.conversation_id AND r.message_id = m.id
  WHERE m.deleted_at IS NULL;

DROP TRIGGER message_search_update;
CREATE TRIGGER message_search_update AFTER UPDATE OF body, edited_body, deleted_at ON messages BEGIN
  DELETE FROM message_search WHERE rowid = (SELECT doc FROM message_search_rows WHERE conversation_id = old.conversation_id AND message_id = old.id);
  INSERT INTO message_search (rowid, body, files, scope)
    SELECT doc, body, files, scope FROM message_search_source WHERE conversation_id = new.conversation_id AND message_id = new.id;
END;

DROP TRIGGER message_search_file_in;
CREATE TRIGGER message_search_file_in AFTER UPDATE OF message_id, name ON files WHEN new.message_id IS NOT NULL BEGIN
  DELETE FROM message_search WHERE rowid = (SELECT doc FROM message_search_rows WHERE conversation_id = new.conversation_id AND message_id = new.message_id);
  INSERT INTO message_search (rowid, body, files, scope)
    SELECT doc, body, files, scope FROM message_search_source WHERE conversation_id = new.conversation_id AND message_id = new.message_id;
END;

DROP TRIGGER message_search_file_out;
CREATE TRIGGER message_search_file_out AFTER DELETE ON files WHEN old.message_id IS NOT NULL BEGIN
  DELETE FROM message_search WHERE rowid = (SELECT doc FROM message_search_rows WHERE conversation_id = old.conversation_id AND message_id = old.message_id);
  INSERT INTO message_search (rowid, body, files, scope)
    SELECT doc, body, files, scope FROM message_search_source WHERE conversation_id = old.conversation_id AND message_id = old.message_id;
END;

-- Every message there is, but those still queued (the indexer takes them as before).
INSERT INTO message_search (rowid, body, files, scope)
  SELECT doc, body, files, scope FROM message_search_source
  WHERE doc NOT IN (SELECT doc FROM message_search_pending)
  ORDER BY doc;
`,
  },
];
