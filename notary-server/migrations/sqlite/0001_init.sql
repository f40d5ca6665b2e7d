-- Notary server schema (SQLite). Timestamps are RFC 3339 UTC with nanoseconds.

-- Every stored TUF metadata file, exactly as verified. UNIQUE (gun, role, version) is the
-- concurrency control: a lost publish race is a version conflict.
CREATE TABLE tuf_files (
    id         INTEGER PRIMARY KEY,
    gun        TEXT    NOT NULL,
    role       TEXT    NOT NULL,
    version    INTEGER NOT NULL CHECK (version >= 0),
    sha256     TEXT    NOT NULL CHECK (length(sha256) = 64),
    data       BLOB    NOT NULL,
    created_at TEXT    NOT NULL,
    UNIQUE (gun, role, version)
) STRICT;

CREATE INDEX tuf_files_checksum ON tuf_files (gun, role, sha256);

-- One record per timestamp write (`update`) and per GUN deletion (`deletion`).
-- AUTOINCREMENT: ids are never reused, even after the newest rows are deleted.
CREATE TABLE changefeed (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT    NOT NULL,
    gun        TEXT    NOT NULL,
    version    INTEGER NOT NULL CHECK (version >= 0),
    sha256     TEXT    NOT NULL,
    category   TEXT    NOT NULL CHECK (category IN ('update', 'deletion'))
) STRICT;

CREATE INDEX changefeed_gun ON changefeed (gun, id);

-- Server-held timestamp/snapshot keys; the private half is sealed by the key-encryption key.
CREATE TABLE server_keys (
    id             INTEGER PRIMARY KEY,
    gun            TEXT NOT NULL,
    role           TEXT NOT NULL,
    key_id         TEXT NOT NULL,
    algorithm      TEXT NOT NULL,
    public         BLOB NOT NULL,
    sealed_private BLOB NOT NULL,
    created_at     TEXT NOT NULL,
    UNIQUE (gun, role, key_id)
) STRICT;

-- The key-encryption-key parameters: at most one row, set once.
CREATE TABLE kek_params (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    salt        BLOB NOT NULL,
    check_value BLOB NOT NULL
) STRICT;
