//! Every scenario captured from a real Go Notary 0.7 server (`shared/fixtures/notary-0.7/`)
//! goes through the whole client workflow: root chain from `1.root.json`, timestamp ->
//! snapshot -> targets -> delegations; the resulting target list must equal what the real
//! `notary list` printed in the fixture transcript. Tampered copies are rejected and leave
//! the trusted set unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use tuf_core::error::UpdateError;
use tuf_core::name::Gun;
use tuf_core::search::TargetLookup;
use tuf_core::trusted_set::{RepoConfig, TimestampUpdate, TrustedSet};

/// The fixtures were captured on 2026-11-24; their timestamps expire on 2026-12-08.
fn capture_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
}

fn fixtures() -> PathBuf {
    let candidates = [
        std::env::var_os("NOTARY_RS_SHARED").map(PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared")),
    ];
    for c in candidates.into_iter().flatten() {
        let p = c.join("fixtures/notary-0.7");
        if p.is_dir() {
            return p;
        }
    }
    panic!("shared/fixtures/notary-0.7 not found: set NOTARY_RS_SHARED to the shared/ directory");
}

const SCENARIOS: &[(&str, &str)] = &[
    ("fresh", "example.com/app"),
    ("three-targets", "example.com/app"),
    ("server-snapshot", "example.com/app"),
    ("delegation", "example.com/app"),
    ("before-root-rotation", "example.com/app"),
    ("root-rotation", "example.com/app"),
    ("root-rotation-2", "example.com/app"),
    ("special-chars", "example.com/chars"),
    ("signer-ecdsa", "example.com/signer"),
    ("signer-ed25519", "example.com/signer"),
];

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{}/{name}: {e}", dir.display()))
}

/// Walks a scenario's server files like a fresh client; returns the set and the root versions.
fn refresh(server: &Path, gun: &str) -> Result<(TrustedSet, u64), UpdateError> {
    let config = RepoConfig::notary(Gun::parse(gun).unwrap());
    let mut set = TrustedSet::new(config, &read(server, "1.root.json"), capture_time())?;
    let mut n = 2;
    while server.join(format!("{n}.root.json")).exists() {
        set.update_root(&read(server, &format!("{n}.root.json")))?;
        n += 1;
    }
    assert_eq!(
        set.root().raw_bytes(),
        read(server, "root.json"),
        "the chain ends at the served root.json"
    );
    assert_eq!(
        set.update_timestamp(&read(server, "timestamp.json"))?,
        TimestampUpdate::Updated
    );
    set.update_snapshot(&read(server, "snapshot.json"))?;
    set.update_targets(&read(server, "targets.json"))?;
    loop {
        let pending = set.pending_delegations();
        let Some((delegator, role)) = pending.first() else {
            break;
        };
        let file = format!("{role}.json");
        set.update_delegated(delegator, role, &read(server, &file))?;
    }
    let versions = set.root().header.version;
    Ok((set, versions))
}

/// One `notary list` row: name, sha256 hex, size, role.
type Row = (String, String, u64, String);

/// The rows of the last `notary list <gun>` before the line that records the capture of
/// `scenario` in `transcripts/e2e-client.txt`.
fn transcript_list(scenario: &str, gun: &str) -> Option<Vec<Row>> {
    let text = std::fs::read_to_string(fixtures().join("transcripts/e2e-client.txt")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let capture = lines
        .iter()
        .position(|l| l.starts_with(&format!("(fixture {scenario} captured")))?;
    let cmd = format!("$ notary list {gun}");
    let start = lines[..capture].iter().rposition(|l| l.trim_end() == cmd)?;
    let mut rows = Vec::new();
    for l in &lines[start + 1..] {
        if l.starts_with("[exit") {
            break;
        }
        if l.is_empty()
            || l.starts_with("NAME")
            || l.starts_with("----")
            || l.starts_with("No targets")
        {
            continue;
        }
        let cols: Vec<&str> = l
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(cols.len(), 4, "unexpected list row {l:?}");
        rows.push((
            cols[0].to_owned(),
            cols[1].to_owned(),
            cols[2].parse().unwrap(),
            cols[3].to_owned(),
        ));
    }
    Some(rows)
}

fn listed(set: &TrustedSet) -> Vec<Row> {
    set.list_targets()
        .into_iter()
        .map(|t| {
            (
                t.path.to_owned(),
                t.entry.sha256_hex().unwrap(),
                t.entry.length,
                t.role,
            )
        })
        .collect()
}

#[test]
fn every_notary_scenario_verifies_and_lists_what_notary_listed() {
    let root = fixtures();
    let mut compared = 0;
    for (scenario, gun) in SCENARIOS {
        let server = root.join(scenario).join("server");
        let (set, root_version) =
            refresh(&server, gun).unwrap_or_else(|e| panic!("{scenario}: {e}"));
        let got = listed(&set);
        match transcript_list(scenario, gun) {
            Some(expected) => {
                assert_eq!(
                    got, expected,
                    "{scenario}: target list differs from `notary list`"
                );
                compared += 1;
            }
            None => {
                // signer-* were captured with a server + notary-signer setup outside the e2e
                // transcript: one target `v1` of 3 bytes in `targets`.
                assert!(
                    scenario.starts_with("signer-"),
                    "{scenario}: no transcript list"
                );
                assert_eq!(got.len(), 1, "{scenario}");
                assert_eq!(
                    (got[0].0.as_str(), got[0].2, got[0].3.as_str()),
                    ("v1", 3, "targets")
                );
            }
        }
        // Every listed target can also be found by the search.
        for (name, _, len, role) in &got {
            match set.find_target(name).unwrap() {
                TargetLookup::Found { entry, role: r } => {
                    assert_eq!(
                        (entry.length, r.as_str()),
                        (*len, role.as_str()),
                        "{scenario} {name}"
                    )
                }
                other => panic!("{scenario}: {name}: {other:?}"),
            }
        }
        let expected_root = match *scenario {
            "before-root-rotation" => 6,
            "root-rotation" => 7,
            "root-rotation-2" => 8,
            "server-snapshot" | "delegation" | "signer-ecdsa" | "signer-ed25519" => 2,
            _ => 1,
        };
        assert_eq!(root_version, expected_root, "{scenario}: root chain length");
    }
    assert_eq!(compared, 8, "scenarios compared against the transcript");
}

#[test]
fn client_caches_verify_against_the_servers_chain() {
    // The client's own cache (as Go notary left it) is what a returning client holds: its
    // timestamp must verify as a rollback reference once the chain is walked.
    for (scenario, gun) in SCENARIOS {
        let dir = fixtures().join(scenario);
        let cache = dir.join("client-cache");
        if !cache.is_dir() {
            continue;
        }
        let server = dir.join("server");
        let config = RepoConfig::notary(Gun::parse(gun).unwrap());
        let mut set = TrustedSet::new(config, &read(&cache, "root.json"), capture_time())
            .unwrap_or_else(|e| panic!("{scenario}: cached root: {e}"));
        let start = set.root().header.version + 1;
        for n in start.. {
            let f = server.join(format!("{n}.root.json"));
            if !f.exists() {
                break;
            }
            set.update_root(&std::fs::read(f).unwrap()).unwrap();
        }
        set.load_cached_timestamp(&read(&cache, "timestamp.json"))
            .unwrap_or_else(|e| panic!("{scenario}: cached timestamp: {e}"));
        let up = set
            .update_timestamp(&read(&server, "timestamp.json"))
            .unwrap();
        assert!(matches!(
            up,
            TimestampUpdate::Updated | TimestampUpdate::Unchanged
        ));
    }
}

#[test]
fn target_contents_from_the_transcript_verify() {
    let server = fixtures().join("three-targets/server");
    let (set, _) = refresh(&server, "example.com/app").unwrap();
    let TargetLookup::Found { entry, .. } = set.find_target("v1").unwrap() else {
        panic!("v1 not found")
    };
    // `notary verify example.com/app v1 < file1.txt` printed "hello world v1".
    tuf_core::target::verify_target("v1", entry, b"hello world v1\n").unwrap();
    assert!(tuf_core::target::verify_target("v1", entry, b"hello world v2\n").is_err());
    assert!(tuf_core::target::verify_target("v1", entry, b"hello world v1").is_err());
    assert_eq!(set.find_target("nope").unwrap(), TargetLookup::NotFound);
}

/// The exact bytes of every trusted role.
fn state(set: &TrustedSet) -> Vec<Option<Vec<u8>>> {
    vec![
        Some(set.root().raw_bytes().to_vec()),
        set.timestamp().map(|v| v.raw_bytes().to_vec()),
        set.snapshot().map(|v| v.raw_bytes().to_vec()),
        set.targets().map(|v| v.raw_bytes().to_vec()),
    ]
}

/// Replaces the first occurrence of `from` after `"signed":` with `to` (same length).
fn tamper(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let s = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(s.contains(from), "{from:?} not in file");
    s.replacen(from, to, 1).into_bytes()
}

/// Changes one character of the base64 `sig` of the first signature.
fn tamper_signature(bytes: &[u8]) -> Vec<u8> {
    let s = String::from_utf8(bytes.to_vec()).unwrap();
    let i = s.find("\"sig\":\"").unwrap() + 7;
    let mut b = s.into_bytes();
    b[i] = if b[i] == b'A' { b'B' } else { b'A' };
    b
}

#[test]
fn tampered_copies_are_rejected_and_change_nothing() {
    for (scenario, gun) in SCENARIOS {
        let server = fixtures().join(scenario).join("server");
        let config = RepoConfig::notary(Gun::parse(gun).unwrap());
        let root1 = read(&server, "1.root.json");

        // One byte of root changed: its own signature no longer verifies.
        let bad_root = tamper(&root1, "\"version\":1", "\"version\":2");
        assert!(matches!(
            TrustedSet::new(config.clone(), &bad_root, capture_time()),
            Err(UpdateError::Threshold { .. })
        ));
        assert!(matches!(
            TrustedSet::new(config.clone(), &tamper_signature(&root1), capture_time()),
            Err(UpdateError::Threshold { .. })
        ));

        let (fresh, _) = refresh(&server, gun).unwrap();
        // A fresh set with the same root chain, at the point before timestamp.
        let mut set =
            TrustedSet::new(config.clone(), set_root_bytes(&fresh), capture_time()).unwrap();
        let before = state(&set);
        let ts = read(&server, "timestamp.json");
        // One signature byte.
        assert!(
            matches!(
                set.update_timestamp(&tamper_signature(&ts)),
                Err(UpdateError::Threshold { .. })
            ),
            "{scenario}"
        );
        // One byte of signed content (the version digit).
        let v = fresh.timestamp().unwrap().header.version;
        let ts_bad = tamper(
            &ts,
            &format!("\"version\":{v}"),
            &format!("\"version\":{}", v + 1),
        );
        assert_eq!(ts_bad.iter().zip(&ts).filter(|(a, b)| a != b).count(), 1);
        assert!(
            matches!(
                set.update_timestamp(&ts_bad),
                Err(UpdateError::Threshold { .. })
            ),
            "{scenario}"
        );
        assert_eq!(
            state(&set),
            before,
            "{scenario}: rejected timestamp changed the set"
        );

        set.update_timestamp(&ts).unwrap();
        let snap = read(&server, "snapshot.json");
        // One hash: the snapshot's bytes no longer match the timestamp's hashes.
        let before = state(&set);
        let snap_bad = tamper(&snap, "\"sha256\":\"", "\"sha256\":\"A");
        assert!(set.update_snapshot(&snap_bad).is_err(), "{scenario}");
        assert_eq!(
            state(&set),
            before,
            "{scenario}: rejected snapshot changed the set"
        );
        set.update_snapshot(&snap).unwrap();

        let targets = read(&server, "targets.json");
        let before = state(&set);
        let targets_bad = tamper(&targets, "\"_type\":\"Targets\"", "\"_type\":\"Targetz\"");
        assert!(set.update_targets(&targets_bad).is_err(), "{scenario}");
        assert!(matches!(
            set.update_targets(&tamper_signature(&targets)),
            Err(UpdateError::HashMismatch { .. } | UpdateError::LengthMismatch { .. })
        ));
        assert_eq!(
            state(&set),
            before,
            "{scenario}: rejected targets changed the set"
        );
        set.update_targets(&targets).unwrap();
        fresh.ensure_root_fresh().unwrap();
    }
}

fn set_root_bytes(set: &TrustedSet) -> &[u8] {
    set.root().raw_bytes()
}
