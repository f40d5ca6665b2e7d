//! SQLite implementation of [`MetadataStore`].
//!
//! One database file in WAL mode with `synchronous=FULL` (an acknowledged publish survives a
//! power loss); both are checked at open and the store refuses to start otherwise. Every write
//! is one transaction begun with `BEGIN IMMEDIATE`, so writers queue on SQLite's write lock
//! (bounded by the busy timeout) instead of failing late at commit with `SQLITE_BUSY`.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fs;
use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256, Sha512};
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{SqliteConnection, SqlitePool, Transaction};

use super::{
    ChangeRecord, HashAlg, KekParams, MetadataStore, NewFile, NewTarget, StoreError, StoredFile,
    StoredKey,
};

/// How long a connection waits for SQLite's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// `PRAGMA synchronous` value of `FULL`.
const SYNCHRONOUS_FULL: i64 = 2;

/// The statement that begins every write transaction (takes the write lock up front).
const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// The embedded migrations (`migrations/sqlite`), applied at open.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "tuf_targets",
        include_str!("../../migrations/sqlite/0002_tuf_targets.sql"),
    ),
];

/// SQLite-backed store.
///
/// Cloning is cheap (the clone shares the connection pool).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

type Row = (String, i64, String, Vec<u8>, String);
type ChangeRow = (i64, String, String, i64, String, String);
type KeyRow = (String, String, String, String, Vec<u8>, Vec<u8>, String);

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, applies the migrations and checks the
    /// durability settings.
    ///
    /// A new database file is created with mode 0600 (it holds sealed keys), its parent
    /// directory with 0700. Fails with [`StoreError::Unavailable`] if the database cannot be
    /// opened or does not run in WAL mode with `synchronous=FULL`.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        prepare_file(path).map_err(|e| {
            StoreError::Unavailable(format!("cannot create {}: {e}", path.display()))
        })?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .connect_with(options)
            .await
            .map_err(unavailable)?;
        let store = SqliteStore { pool };
        store.migrate().await?;
        store.check_durability().await?;
        Ok(store)
    }

    /// The connection's `(journal_mode, synchronous)` pragmas, e.g. `("wal", 2)`.
    pub async fn pragmas(&self) -> Result<(String, i64), StoreError> {
        let mut conn = self.pool.acquire().await.map_err(unavailable)?;
        let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await
            .map_err(unavailable)?;
        let (sync,): (i64,) = sqlx::query_as("PRAGMA synchronous")
            .fetch_one(&mut *conn)
            .await
            .map_err(unavailable)?;
        Ok((mode.to_ascii_lowercase(), sync))
    }

    /// Closes every connection (waits for the ones in use to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = Migrator::new(EmbeddedMigrations)
            .await
            .map_err(|e| StoreError::Unavailable(format!("migrations: {e}")))?;
        migrator
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Unavailable(format!("migrations: {e}")))
    }

    /// Refuses a database that is not in WAL mode with `synchronous=FULL` (security.md D06).
    async fn check_durability(&self) -> Result<(), StoreError> {
        let (mode, sync) = self.pragmas().await?;
        if mode != "wal" || sync != SYNCHRONOUS_FULL {
            return Err(StoreError::Unavailable(format!(
                "refusing to start: SQLite must run with journal_mode=wal and synchronous=FULL (2), \
                 got journal_mode={mode} synchronous={sync}"
            )));
        }
        Ok(())
    }

    async fn begin_write(&self) -> Result<Transaction<'static, sqlx::Sqlite>, StoreError> {
        self.pool.begin_with(BEGIN_WRITE).await.map_err(unavailable)
    }

    async fn fetch_file(
        &self,
        sql: &'static str,
        gun: &str,
        role: &str,
        key: KeyArg<'_>,
    ) -> Result<Option<StoredFile>, StoreError> {
        let query = sqlx::query_as::<_, Row>(sql).bind(gun).bind(role);
        let query = match key {
            KeyArg::None => query,
            KeyArg::Version(v) => query.bind(v),
            KeyArg::Checksum(c) => query.bind(c),
        };
        let row = query
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.map(file_from_row).transpose()
    }
}

/// The extra parameter of a single-file lookup.
enum KeyArg<'a> {
    None,
    Version(i64),
    Checksum(&'a str),
}

/// Serves [`MIGRATIONS`] to sqlx's migrator (the `migrate!` macro needs sqlx's `macros`
/// feature, which this crate does not enable). Checksums match what `migrate!` would record.
#[derive(Debug)]
struct EmbeddedMigrations;

impl MigrationSource<'static> for EmbeddedMigrations {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 'static>> {
        Box::pin(async {
            Ok(MIGRATIONS
                .iter()
                .map(|&(version, description, sql)| {
                    Migration::new(
                        version,
                        Cow::Borrowed(description),
                        MigrationType::Simple,
                        Cow::Borrowed(sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// Creates the parent directory (0700) and the database file (0600) if missing, and removes
/// group/other access from an existing file.
fn prepare_file(path: &Path) -> io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dir(parent)?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let file = fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)?;
        let mode = file.metadata()?.permissions().mode();
        if mode & 0o077 != 0 {
            file.set_permissions(fs::Permissions::from_mode(mode & 0o700))?;
        }
    }
    #[cfg(not(unix))]
    {
        fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)?;
    }
    Ok(())
}

fn create_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}

fn now_text() -> String {
    timestamp_text(Utc::now())
}

fn timestamp_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

fn parse_timestamp(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("bad timestamp {s:?}: {e}")))
}

/// A version as the database holds it (`OutOfRange` above 2^63-1).
fn to_db_version(version: u64) -> Result<i64, StoreError> {
    i64::try_from(version).map_err(|_| StoreError::OutOfRange { what: "version" })
}

/// A version read from the database (`Corrupt` if negative).
fn from_db_version(version: i64) -> Result<u64, StoreError> {
    u64::try_from(version)
        .map_err(|_| StoreError::Corrupt(format!("negative version {version} stored")))
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn file_from_row((role, version, sha256, data, created_at): Row) -> Result<StoredFile, StoreError> {
    Ok(StoredFile {
        role,
        version: from_db_version(version)?,
        sha256,
        data,
        created_at: parse_timestamp(&created_at)?,
    })
}

fn change_from_row(
    (id, created_at, gun, version, sha256, category): ChangeRow,
) -> Result<ChangeRecord, StoreError> {
    Ok(ChangeRecord {
        id,
        created_at: parse_timestamp(&created_at)?,
        gun,
        version: from_db_version(version)?,
        sha256,
        category,
    })
}

fn key_from_row(
    (gun, role, key_id, algorithm, public, sealed_private, created_at): KeyRow,
) -> Result<StoredKey, StoreError> {
    Ok(StoredKey {
        gun,
        role,
        key_id,
        algorithm,
        public,
        sealed_private,
        created_at: parse_timestamp(&created_at)?,
    })
}

/// Rejects what can be rejected before touching the database: versions above 2^63-1 and a
/// role present twice in one batch.
fn check_batch(files: &[NewFile]) -> Result<Vec<i64>, StoreError> {
    let mut roles = HashSet::new();
    files
        .iter()
        .map(|f| {
            if !roles.insert(f.role.as_str()) {
                return Err(conflict(f));
            }
            to_db_version(f.version)
        })
        .collect()
}

fn conflict(f: &NewFile) -> StoreError {
    StoreError::VersionConflict {
        role: f.role.clone(),
        version: f.version,
    }
}

async fn insert_file(
    conn: &mut SqliteConnection,
    gun: &str,
    file: &NewFile,
    version: i64,
) -> Result<(), StoreError> {
    let (max,): (Option<i64>,) =
        sqlx::query_as("SELECT MAX(version) FROM tuf_files WHERE gun = ?1 AND role = ?2")
            .bind(gun)
            .bind(&file.role)
            .fetch_one(&mut *conn)
            .await
            .map_err(unavailable)?;
    if let Some(max) = max {
        from_db_version(max)?;
        if version <= max {
            return Err(conflict(file));
        }
    }
    sqlx::query(
        "INSERT INTO tuf_files (gun, role, version, sha256, data, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .bind(gun)
    .bind(&file.role)
    .bind(version)
    .bind(sha256_hex(&file.data))
    .bind(&file.data)
    .bind(now_text())
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            conflict(file)
        } else {
            unavailable(e)
        }
    })?;
    Ok(())
}

async fn insert_change(
    conn: &mut SqliteConnection,
    gun: &str,
    version: i64,
    sha256: &str,
    category: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO changefeed (created_at, gun, version, sha256, category) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(now_text())
    .bind(gun)
    .bind(version)
    .bind(sha256)
    .bind(category)
    .execute(&mut *conn)
    .await
    .map_err(unavailable)?;
    Ok(())
}

async fn insert_target(
    conn: &mut SqliteConnection,
    gun: &str,
    target: &NewTarget,
) -> Result<(), StoreError> {
    let length = i64::try_from(target.data.len()).map_err(|_| StoreError::OutOfRange {
        what: "target length",
    })?;
    // The same bytes under the same path again (a re-publish) keep the first row.
    sqlx::query(
        "INSERT INTO tuf_targets (gun, path, sha256, sha512, length, data, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (gun, path, sha256) DO NOTHING",
    )
    .bind(gun)
    .bind(&target.path)
    .bind(sha256_hex(&target.data))
    .bind(hex::encode(Sha512::digest(&target.data)))
    .bind(length)
    .bind(&target.data)
    .bind(now_text())
    .execute(&mut *conn)
    .await
    .map_err(unavailable)?;
    Ok(())
}

async fn publish_in(
    conn: &mut SqliteConnection,
    gun: &str,
    files: &[NewFile],
    targets: &[NewTarget],
    versions: &[i64],
    change: Option<(i64, &str)>,
) -> Result<(), StoreError> {
    for (file, &version) in files.iter().zip(versions) {
        insert_file(conn, gun, file, version).await?;
    }
    for target in targets {
        insert_target(conn, gun, target).await?;
    }
    if let Some((version, sha256)) = change {
        insert_change(conn, gun, version, sha256, "update").await?;
    }
    Ok(())
}

async fn delete_in(conn: &mut SqliteConnection, gun: &str) -> Result<(), StoreError> {
    let deleted = sqlx::query("DELETE FROM tuf_files WHERE gun = ?1")
        .bind(gun)
        .execute(&mut *conn)
        .await
        .map_err(unavailable)?
        .rows_affected();
    sqlx::query("DELETE FROM tuf_targets WHERE gun = ?1")
        .bind(gun)
        .execute(&mut *conn)
        .await
        .map_err(unavailable)?;
    // Like Notary 0.7: deleting a GUN that has no files records no change.
    if deleted > 0 {
        insert_change(conn, gun, 0, "", "deletion").await?;
    }
    Ok(())
}

async fn insert_key_in(
    conn: &mut SqliteConnection,
    key: &StoredKey,
    drop_key_ids: &[String],
) -> Result<(), StoreError> {
    for key_id in drop_key_ids {
        sqlx::query("DELETE FROM server_keys WHERE gun = ?1 AND role = ?2 AND key_id = ?3")
            .bind(&key.gun)
            .bind(&key.role)
            .bind(key_id)
            .execute(&mut *conn)
            .await
            .map_err(unavailable)?;
    }
    // A key id is the hash of the public key: storing the same key again keeps the first row.
    sqlx::query(
        "INSERT INTO server_keys \
         (gun, role, key_id, algorithm, public, sealed_private, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT (gun, role, key_id) DO NOTHING",
    )
    .bind(&key.gun)
    .bind(&key.role)
    .bind(&key.key_id)
    .bind(&key.algorithm)
    .bind(&key.public)
    .bind(&key.sealed_private)
    .bind(timestamp_text(key.created_at))
    .execute(&mut *conn)
    .await
    .map_err(unavailable)?;
    Ok(())
}

/// Commits `tx` if `result` is Ok, else rolls it back; returns `result` (or the commit error).
async fn finish<T>(
    tx: Transaction<'static, sqlx::Sqlite>,
    result: Result<T, StoreError>,
) -> Result<T, StoreError> {
    match result {
        Ok(value) => {
            tx.commit().await.map_err(unavailable)?;
            Ok(value)
        }
        Err(e) => {
            // A failed rollback still discards the transaction when the connection is reset.
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

const SQL_CURRENT: &str = "SELECT role, version, sha256, data, created_at FROM tuf_files \
     WHERE gun = ?1 AND role = ?2 ORDER BY version DESC LIMIT 1";
const SQL_BY_VERSION: &str = "SELECT role, version, sha256, data, created_at FROM tuf_files \
     WHERE gun = ?1 AND role = ?2 AND version = ?3";
const SQL_BY_CHECKSUM: &str = "SELECT role, version, sha256, data, created_at FROM tuf_files \
     WHERE gun = ?1 AND role = ?2 AND sha256 = ?3 ORDER BY version DESC LIMIT 1";
const SQL_CURRENT_ALL: &str = "SELECT role, version, sha256, data, created_at FROM tuf_files t \
     WHERE gun = ?1 AND version = \
       (SELECT MAX(version) FROM tuf_files WHERE gun = ?1 AND role = t.role) \
     ORDER BY role";

const SQL_CHANGES_FORWARD: &str = "SELECT id, created_at, gun, version, sha256, category \
     FROM changefeed WHERE (?1 IS NULL OR gun = ?1) AND id > ?2 ORDER BY id ASC LIMIT ?3";
const SQL_CHANGES_BACKWARD: &str = "SELECT id, created_at, gun, version, sha256, category \
     FROM changefeed WHERE (?1 IS NULL OR gun = ?1) AND (?2 <= 0 OR id < ?2) \
     ORDER BY id DESC LIMIT ?3";

const SQL_KEYS: &str = "SELECT gun, role, key_id, algorithm, public, sealed_private, created_at \
     FROM server_keys WHERE gun = ?1 AND role = ?2 ORDER BY created_at DESC, id DESC";

impl MetadataStore for SqliteStore {
    async fn current(&self, gun: &str, role: &str) -> Result<Option<StoredFile>, StoreError> {
        self.fetch_file(SQL_CURRENT, gun, role, KeyArg::None).await
    }

    async fn by_version(
        &self,
        gun: &str,
        role: &str,
        version: u64,
    ) -> Result<Option<StoredFile>, StoreError> {
        // No stored version can exceed 2^63-1.
        let Ok(version) = i64::try_from(version) else {
            return Ok(None);
        };
        self.fetch_file(SQL_BY_VERSION, gun, role, KeyArg::Version(version))
            .await
    }

    async fn by_checksum(
        &self,
        gun: &str,
        role: &str,
        sha256: &str,
    ) -> Result<Option<StoredFile>, StoreError> {
        self.fetch_file(SQL_BY_CHECKSUM, gun, role, KeyArg::Checksum(sha256))
            .await
    }

    async fn current_all(&self, gun: &str) -> Result<Vec<StoredFile>, StoreError> {
        sqlx::query_as::<_, Row>(SQL_CURRENT_ALL)
            .bind(gun)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(file_from_row)
            .collect()
    }

    async fn publish(
        &self,
        gun: &str,
        files: Vec<NewFile>,
        change: Option<(u64, String)>,
    ) -> Result<(), StoreError> {
        self.publish_with_targets(gun, files, Vec::new(), change)
            .await
    }

    async fn publish_with_targets(
        &self,
        gun: &str,
        files: Vec<NewFile>,
        targets: Vec<NewTarget>,
        change: Option<(u64, String)>,
    ) -> Result<(), StoreError> {
        let versions = check_batch(&files)?;
        let change = match &change {
            Some((version, sha256)) => Some((to_db_version(*version)?, sha256.as_str())),
            None => None,
        };
        let mut tx = self.begin_write().await?;
        let result = publish_in(&mut tx, gun, &files, &targets, &versions, change).await;
        finish(tx, result).await
    }

    async fn target_by_hash(
        &self,
        gun: &str,
        alg: HashAlg,
        hex_digest: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let sql = match alg {
            HashAlg::Sha256 => {
                "SELECT data FROM tuf_targets WHERE gun = ?1 AND sha256 = ?2 ORDER BY id DESC LIMIT 1"
            }
            HashAlg::Sha512 => {
                "SELECT data FROM tuf_targets WHERE gun = ?1 AND sha512 = ?2 ORDER BY id DESC LIMIT 1"
            }
        };
        let row: Option<(Vec<u8>,)> = sqlx::query_as(sql)
            .bind(gun)
            .bind(hex_digest.to_ascii_lowercase())
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(row.map(|(d,)| d))
    }

    async fn target_by_path(&self, gun: &str, path: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let row: Option<(Vec<u8>,)> = sqlx::query_as(
            "SELECT data FROM tuf_targets WHERE gun = ?1 AND path = ?2 ORDER BY id DESC LIMIT 1",
        )
        .bind(gun)
        .bind(path)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(row.map(|(d,)| d))
    }

    async fn delete_gun(&self, gun: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let result = delete_in(&mut tx, gun).await;
        finish(tx, result).await
    }

    /// Go Notary 0.7 semantics: a negative `change_id` also pages backwards from the newest
    /// record, and so does `change_id = 0` with negative `records`; `records = 0` returns
    /// nothing (the HTTP layer applies the default page size).
    async fn changefeed(
        &self,
        gun: Option<&str>,
        change_id: i64,
        records: i64,
    ) -> Result<Vec<ChangeRecord>, StoreError> {
        let backward = records < 0 || change_id < 0;
        let limit = records.checked_abs().unwrap_or(i64::MAX);
        let sql = if backward {
            SQL_CHANGES_BACKWARD
        } else {
            SQL_CHANGES_FORWARD
        };
        let mut changes = sqlx::query_as::<_, ChangeRow>(sql)
            .bind(gun)
            .bind(change_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(change_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        if backward {
            changes.reverse();
        }
        Ok(changes)
    }

    async fn keys(&self, gun: &str, role: &str) -> Result<Vec<StoredKey>, StoreError> {
        sqlx::query_as::<_, KeyRow>(SQL_KEYS)
            .bind(gun)
            .bind(role)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(key_from_row)
            .collect()
    }

    async fn insert_key(
        &self,
        key: StoredKey,
        drop_key_ids: Vec<String>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let result = insert_key_in(&mut tx, &key, &drop_key_ids).await;
        finish(tx, result).await
    }

    async fn kek_params(&self) -> Result<Option<KekParams>, StoreError> {
        let row: Option<(Vec<u8>, Vec<u8>)> =
            sqlx::query_as("SELECT salt, check_value FROM kek_params WHERE id = 1")
                .fetch_optional(&self.pool)
                .await
                .map_err(unavailable)?;
        Ok(row.map(|(salt, check)| KekParams { salt, check }))
    }

    async fn init_kek_params(&self, params: KekParams) -> Result<KekParams, StoreError> {
        sqlx::query(
            "INSERT INTO kek_params (id, salt, check_value) VALUES (1, ?1, ?2) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&params.salt)
        .bind(&params.check)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        self.kek_params()
            .await?
            .ok_or_else(|| StoreError::Corrupt("kek_params row missing after insert".into()))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    /// The backstop: a duplicate (gun, role, version) is recognised as a unique violation
    /// (SQLite extended code 2067), which `insert_file` maps to a version conflict.
    #[tokio::test]
    async fn duplicate_row_is_a_unique_violation() {
        let dir = tempfile::TempDir::new().unwrap();
        let store = SqliteStore::open(&dir.path().join("db")).await.unwrap();
        let insert = "INSERT INTO tuf_files (gun, role, version, sha256, data, created_at) \
                      VALUES ('g', 'targets', 1, ?1, x'00', ?2)";
        let sum = sha256_hex(b"\0");
        sqlx::query(insert)
            .bind(&sum)
            .bind(now_text())
            .execute(&store.pool)
            .await
            .unwrap();
        let err = sqlx::query(insert)
            .bind(&sum)
            .bind(now_text())
            .execute(&store.pool)
            .await
            .unwrap_err();
        assert!(is_unique_violation(&err), "{err:?}");
        let code = err.as_database_error().and_then(|d| d.code());
        assert_eq!(code.as_deref(), Some("2067"));
    }

    #[test]
    fn version_conversions_are_checked() {
        assert_eq!(
            to_db_version(u64::try_from(i64::MAX).unwrap()).unwrap(),
            i64::MAX
        );
        assert!(matches!(
            to_db_version(1 << 63),
            Err(StoreError::OutOfRange { .. })
        ));
        assert!(matches!(from_db_version(-1), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn timestamps_keep_nanoseconds() {
        let t = Utc::now();
        let text = timestamp_text(t);
        assert!(text.ends_with('Z'));
        assert_eq!(parse_timestamp(&text).unwrap(), t);
    }
}
