-- Target files of TUF 1.0 collections (served by hash under consistent snapshots, and by
-- path). Only files that the verified targets metadata of their publish lists are stored.
CREATE TABLE tuf_targets (
    id         INTEGER PRIMARY KEY,
    gun        TEXT    NOT NULL,
    path       TEXT    NOT NULL,
    sha256     TEXT    NOT NULL CHECK (length(sha256) = 64),
    sha512     TEXT    NOT NULL CHECK (length(sha512) = 128),
    length     INTEGER NOT NULL CHECK (length >= 0),
    data       BLOB    NOT NULL,
    created_at TEXT    NOT NULL,
    UNIQUE (gun, path, sha256)
) STRICT;

CREATE INDEX tuf_targets_sha256 ON tuf_targets (gun, sha256);
CREATE INDEX tuf_targets_sha512 ON tuf_targets (gun, sha512);
