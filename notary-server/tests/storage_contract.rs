//! The storage contract, as generic functions over [`MetadataStore`] (reusable by every
//! backend), run here on a fresh SQLite store per test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use notary_server::storage::{
    KekParams, MetadataStore, NewFile, SqliteStore, StoreError, StoredKey,
};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

const GUN: &str = "example.com/app";

fn file(role: &str, version: u64, data: &str) -> NewFile {
    NewFile {
        role: role.to_owned(),
        version,
        data: data.as_bytes().to_vec(),
    }
}

fn sha(data: &str) -> String {
    hex::encode(Sha256::digest(data.as_bytes()))
}

fn is_conflict(r: &Result<(), StoreError>, role: &str, version: u64) -> bool {
    matches!(r, Err(StoreError::VersionConflict { role: r, version: v }) if r == role && *v == version)
}

fn key(role: &str, key_id: &str, secs: i64) -> StoredKey {
    StoredKey {
        gun: GUN.to_owned(),
        role: role.to_owned(),
        key_id: key_id.to_owned(),
        algorithm: "ed25519".to_owned(),
        public: key_id.as_bytes().to_vec(),
        sealed_private: vec![7; 40],
        created_at: Utc
            .timestamp_opt(1_700_000_000 + secs, 123_456_789)
            .unwrap(),
    }
}

// ----- contract -----

async fn contract_publish_and_read<S: MetadataStore>(s: &S) {
    assert_eq!(s.current(GUN, "root").await.unwrap(), None);
    s.publish(
        GUN,
        vec![file("root", 1, "root-1"), file("targets", 1, "targets-1")],
        None,
    )
    .await
    .unwrap();
    s.publish(GUN, vec![file("targets", 2, "targets-2")], None)
        .await
        .unwrap();

    let cur = s.current(GUN, "targets").await.unwrap().unwrap();
    assert_eq!(
        (cur.role.as_str(), cur.version, cur.data.as_slice()),
        ("targets", 2, &b"targets-2"[..])
    );
    assert_eq!(cur.sha256, sha("targets-2"));

    let v1 = s.by_version(GUN, "targets", 1).await.unwrap().unwrap();
    assert_eq!(v1.data, b"targets-1");
    assert_eq!(s.by_version(GUN, "targets", 3).await.unwrap(), None);
    assert_eq!(s.by_version(GUN, "targets", u64::MAX).await.unwrap(), None);

    let by_sum = s
        .by_checksum(GUN, "targets", &sha("targets-1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_sum.version, 1);
    let upper = sha("targets-1").to_uppercase();
    assert_eq!(s.by_checksum(GUN, "targets", &upper).await.unwrap(), None);
    assert_eq!(
        s.by_checksum(GUN, "root", &sha("targets-1")).await.unwrap(),
        None
    );

    let all = s.current_all(GUN).await.unwrap();
    let got: Vec<_> = all.iter().map(|f| (f.role.as_str(), f.version)).collect();
    assert_eq!(got, [("root", 1), ("targets", 2)]);
    assert!(s.current_all("other.com/app").await.unwrap().is_empty());
}

async fn contract_version_must_increase<S: MetadataStore>(s: &S) {
    s.publish(GUN, vec![file("targets", 5, "t5")], None)
        .await
        .unwrap();
    for v in [5, 4, 0] {
        let r = s
            .publish(
                GUN,
                vec![file("snapshot", 1, "s1"), file("targets", v, "tx")],
                Some((1, sha("ts"))),
            )
            .await;
        assert!(is_conflict(&r, "targets", v), "{v}: {r:?}");
    }
    // Nothing of the rejected batches was written.
    assert_eq!(s.current(GUN, "snapshot").await.unwrap(), None);
    assert_eq!(s.current(GUN, "targets").await.unwrap().unwrap().version, 5);
    assert!(s.changefeed(None, 0, 100).await.unwrap().is_empty());
}

async fn contract_duplicate_role_in_batch<S: MetadataStore>(s: &S) {
    let r = s
        .publish(
            GUN,
            vec![file("targets", 1, "a"), file("targets", 2, "b")],
            None,
        )
        .await;
    assert!(is_conflict(&r, "targets", 2), "{r:?}");
    assert_eq!(s.current(GUN, "targets").await.unwrap(), None);
}

async fn contract_version_range<S: MetadataStore>(s: &S) {
    // C04: the int32 boundary is nothing special.
    s.publish(GUN, vec![file("targets", 2_147_483_647, "a")], None)
        .await
        .unwrap();
    s.publish(GUN, vec![file("targets", 2_147_483_648, "b")], None)
        .await
        .unwrap();

    let r = s
        .publish(
            GUN,
            vec![file("root", 1, "r"), file("targets", 1 << 63, "c")],
            None,
        )
        .await;
    assert!(matches!(r, Err(StoreError::OutOfRange { .. })), "{r:?}");
    let r = s
        .publish(GUN, vec![file("root", 1, "r")], Some((1 << 63, sha("ts"))))
        .await;
    assert!(matches!(r, Err(StoreError::OutOfRange { .. })), "{r:?}");
    assert_eq!(s.current(GUN, "root").await.unwrap(), None);

    let max = u64::try_from(i64::MAX).unwrap();
    s.publish(GUN, vec![file("targets", max, "max")], None)
        .await
        .unwrap();
    let cur = s.current(GUN, "targets").await.unwrap().unwrap();
    assert_eq!(cur.version, max);
    let r = s
        .publish(GUN, vec![file("targets", max, "again")], None)
        .await;
    assert!(is_conflict(&r, "targets", max), "{r:?}");
    // Another role of the GUN is unaffected.
    s.publish(GUN, vec![file("root", 1, "r")], None)
        .await
        .unwrap();
}

async fn contract_concurrent_publishes<S: MetadataStore + Clone>(s: &S) {
    const WRITERS: u64 = 16;
    for round in 1..=20u64 {
        let tasks: Vec<_> = (0..WRITERS)
            .map(|w| {
                let s = s.clone();
                tokio::spawn(async move {
                    let data = format!("round {round} writer {w}");
                    let ts = sha(&data);
                    s.publish(GUN, vec![file("targets", round, &data)], Some((round, ts)))
                        .await
                })
            })
            .collect();
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(()) => ok += 1,
                Err(StoreError::VersionConflict { role, version }) => {
                    assert_eq!((role.as_str(), version), ("targets", round));
                }
                Err(e) => panic!("round {round}: {e:?}"),
            }
        }
        assert_eq!(ok, 1, "round {round}");
        assert_eq!(
            s.current(GUN, "targets").await.unwrap().unwrap().version,
            round
        );
    }
    // One changefeed record per committed publish.
    let feed = s.changefeed(Some(GUN), 0, 100).await.unwrap();
    let versions: Vec<_> = feed.iter().map(|c| c.version).collect();
    assert_eq!(versions, (1..=20).collect::<Vec<_>>());
}

async fn contract_delete_gun<S: MetadataStore>(s: &S) {
    let app2 = "example.com/app2";
    s.publish(
        GUN,
        vec![file("root", 1, "r"), file("targets", 1, "t")],
        None,
    )
    .await
    .unwrap();
    s.publish(app2, vec![file("root", 1, "r2")], Some((1, sha("ts2"))))
        .await
        .unwrap();
    s.publish("example.com", vec![file("root", 1, "r3")], None)
        .await
        .unwrap();

    s.delete_gun(GUN).await.unwrap();
    assert!(s.current_all(GUN).await.unwrap().is_empty());
    assert_eq!(s.current_all(app2).await.unwrap().len(), 1);
    assert_eq!(s.current_all("example.com").await.unwrap().len(), 1);

    let feed = s.changefeed(None, 0, 100).await.unwrap();
    assert_eq!(feed.len(), 2);
    let del = &feed[1];
    assert_eq!(
        (
            del.gun.as_str(),
            del.version,
            del.sha256.as_str(),
            del.category.as_str()
        ),
        (GUN, 0, "", "deletion")
    );
    assert_eq!(feed[0].category, "update");

    // The GUN can be published again from version 1.
    s.publish(GUN, vec![file("root", 1, "r")], None)
        .await
        .unwrap();
    // Deleting a GUN with no files records nothing (Notary 0.7).
    s.delete_gun("nothing.example.com/x").await.unwrap();
    assert_eq!(s.changefeed(None, 0, 100).await.unwrap().len(), 2);
}

async fn contract_changefeed_paging<S: MetadataStore>(s: &S) {
    let other = "example.com/other";
    // ids 1..=6: GUN gets 1, 3, 5 and `other` gets 2, 4, 6.
    for v in 1..=3u64 {
        for gun in [GUN, other] {
            let data = format!("{gun} {v}");
            s.publish(
                gun,
                vec![file("timestamp", v, &data)],
                Some((v, sha(&data))),
            )
            .await
            .unwrap();
        }
    }
    let ids = |c: Vec<notary_server::storage::ChangeRecord>| -> Vec<i64> {
        c.into_iter().map(|c| c.id).collect()
    };
    let all = s.changefeed(None, 0, 100).await.unwrap();
    assert_eq!(all[0].sha256, sha(&format!("{GUN} 1")));
    assert_eq!((all[0].version, all[0].category.as_str()), (1, "update"));
    assert_eq!(ids(all), [1, 2, 3, 4, 5, 6]);

    assert_eq!(ids(s.changefeed(None, 0, 2).await.unwrap()), [1, 2]);
    assert_eq!(ids(s.changefeed(None, 2, 2).await.unwrap()), [3, 4]);
    assert_eq!(
        ids(s.changefeed(None, 6, 2).await.unwrap()),
        Vec::<i64>::new()
    );
    // Backwards: the last ones, ascending.
    assert_eq!(ids(s.changefeed(None, -1, -2).await.unwrap()), [5, 6]);
    assert_eq!(ids(s.changefeed(None, 5, -2).await.unwrap()), [3, 4]);
    assert_eq!(ids(s.changefeed(None, 2, -5).await.unwrap()), [1]);
    // Go: a negative change_id pages backwards whatever the sign of records.
    assert_eq!(ids(s.changefeed(None, -1, 3).await.unwrap()), [4, 5, 6]);
    assert_eq!(
        ids(s.changefeed(None, 0, 0).await.unwrap()),
        Vec::<i64>::new()
    );
    assert_eq!(ids(s.changefeed(None, 0, i64::MIN).await.unwrap()).len(), 6);
    // Per GUN.
    assert_eq!(
        ids(s.changefeed(Some(GUN), 0, 100).await.unwrap()),
        [1, 3, 5]
    );
    assert_eq!(ids(s.changefeed(Some(GUN), 1, 1).await.unwrap()), [3]);
    assert_eq!(
        ids(s.changefeed(Some(other), -1, -2).await.unwrap()),
        [4, 6]
    );
    assert!(s
        .changefeed(Some("example.com"), 0, 100)
        .await
        .unwrap()
        .is_empty());
}

async fn contract_keys<S: MetadataStore>(s: &S) {
    assert!(s.keys(GUN, "timestamp").await.unwrap().is_empty());
    s.insert_key(key("timestamp", "k1", 1), vec![])
        .await
        .unwrap();
    s.insert_key(key("timestamp", "k2", 2), vec![])
        .await
        .unwrap();
    s.insert_key(key("snapshot", "s1", 3), vec![])
        .await
        .unwrap();
    let got = s.keys(GUN, "timestamp").await.unwrap();
    assert_eq!(got, [key("timestamp", "k2", 2), key("timestamp", "k1", 1)]);

    // k3 replaces k1; dropping an unknown or other-role id is harmless.
    s.insert_key(
        key("timestamp", "k3", 4),
        vec!["k1".into(), "s1".into(), "nope".into()],
    )
    .await
    .unwrap();
    let ids: Vec<_> = s
        .keys(GUN, "timestamp")
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.key_id)
        .collect();
    assert_eq!(ids, ["k3", "k2"]);
    assert_eq!(s.keys(GUN, "snapshot").await.unwrap().len(), 1);
    assert!(s
        .keys("example.com/app2", "timestamp")
        .await
        .unwrap()
        .is_empty());

    // Server keys survive a GUN deletion.
    s.publish(GUN, vec![file("root", 1, "r")], None)
        .await
        .unwrap();
    s.delete_gun(GUN).await.unwrap();
    assert_eq!(s.keys(GUN, "timestamp").await.unwrap().len(), 2);
}

async fn contract_kek_params<S: MetadataStore>(s: &S) {
    assert_eq!(s.kek_params().await.unwrap(), None);
    let first = KekParams {
        salt: vec![1; 16],
        check: vec![2; 48],
    };
    let second = KekParams {
        salt: vec![3; 16],
        check: vec![4; 48],
    };
    assert_eq!(s.init_kek_params(first.clone()).await.unwrap(), first);
    assert_eq!(s.init_kek_params(second).await.unwrap(), first);
    assert_eq!(s.kek_params().await.unwrap(), Some(first));
}

async fn contract_ping<S: MetadataStore>(s: &S) {
    s.ping().await.unwrap();
}

// ----- SQLite -----

struct Fixture {
    _dir: TempDir,
    path: PathBuf,
    store: SqliteStore,
}

async fn sqlite() -> Fixture {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("data").join("notary.db");
    let store = SqliteStore::open(&path).await.unwrap();
    Fixture {
        _dir: dir,
        path,
        store,
    }
}

async fn reopen(f: &Fixture) -> SqliteStore {
    f.store.close().await;
    SqliteStore::open(&f.path).await.unwrap()
}

#[tokio::test]
async fn sqlite_publish_and_read() {
    contract_publish_and_read(&sqlite().await.store).await;
}

#[tokio::test]
async fn sqlite_version_must_increase() {
    contract_version_must_increase(&sqlite().await.store).await;
}

#[tokio::test]
async fn sqlite_duplicate_role_in_batch() {
    contract_duplicate_role_in_batch(&sqlite().await.store).await;
}

#[tokio::test]
async fn sqlite_version_range() {
    contract_version_range(&sqlite().await.store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_concurrent_publishes() {
    contract_concurrent_publishes(&sqlite().await.store).await;
}

#[tokio::test]
async fn sqlite_delete_gun() {
    contract_delete_gun(&sqlite().await.store).await;
}

#[tokio::test]
async fn sqlite_changefeed_paging() {
    contract_changefeed_paging(&sqlite().await.store).await;
}

#[tokio::test]
async fn sqlite_keys() {
    contract_keys(&sqlite().await.store).await;
}

#[tokio::test]
async fn sqlite_kek_params() {
    contract_kek_params(&sqlite().await.store).await;
}

#[tokio::test]
async fn sqlite_ping() {
    contract_ping(&sqlite().await.store).await;
}

#[tokio::test]
async fn sqlite_pragmas_after_reopen() {
    let f = sqlite().await;
    assert_eq!(f.store.pragmas().await.unwrap(), ("wal".to_owned(), 2));
    let store = reopen(&f).await;
    assert_eq!(store.pragmas().await.unwrap(), ("wal".to_owned(), 2));
    store.close().await;
    // WAL is a property of the file itself: a plain connection sees it too.
    assert_eq!(raw_journal_mode(&f.path).await, "wal");
}

async fn raw_journal_mode(path: &Path) -> String {
    use sqlx::Connection;
    let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
    let mut conn = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    mode
}

#[tokio::test]
async fn sqlite_reopen_persists_data() {
    let f = sqlite().await;
    f.store
        .publish(GUN, vec![file("root", 1, "r")], Some((1, sha("ts"))))
        .await
        .unwrap();
    f.store
        .insert_key(key("timestamp", "k1", 1), vec![])
        .await
        .unwrap();
    let store = reopen(&f).await;
    let root = store.current(GUN, "root").await.unwrap().unwrap();
    assert_eq!(root.data, b"r");
    assert_eq!(store.changefeed(None, 0, 10).await.unwrap().len(), 1);
    assert_eq!(
        store.keys(GUN, "timestamp").await.unwrap(),
        [key("timestamp", "k1", 1)]
    );
    // Migrations are not re-applied.
    let r = store.publish(GUN, vec![file("root", 1, "r")], None).await;
    assert!(is_conflict(&r, "root", 1), "{r:?}");
}

#[cfg(unix)]
#[tokio::test]
async fn sqlite_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let f = sqlite().await;
    let mode = std::fs::metadata(&f.path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let dir = std::fs::metadata(f.path.parent().unwrap()).unwrap();
    assert_eq!(dir.permissions().mode() & 0o077, 0);
}

#[tokio::test]
async fn sqlite_created_at_round_trips_nanoseconds() {
    let f = sqlite().await;
    let k = key("timestamp", "k1", 1);
    f.store.insert_key(k.clone(), vec![]).await.unwrap();
    let got = f.store.keys(GUN, "timestamp").await.unwrap();
    assert_eq!(got[0].created_at, k.created_at);
}
