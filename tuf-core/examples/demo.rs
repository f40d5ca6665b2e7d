//! Sign-and-verify demo: builds a Notary 0.7 collection and a TUF 1.0 repository in memory,
//! verifies them with the client workflow, looks targets up, and shows a tampered file being
//! rejected.
//!
//! `cargo run --release -p tuf-core --example demo`

use std::collections::BTreeMap;
use std::error::Error;

use chrono::Utc;
use tuf_core::crypto::{Key, Signer, SoftwareSigner};
use tuf_core::editor::{notary_root_key, InitialKeys, Lifetimes, RepoEditor, SignPlan, SignedFile};
use tuf_core::name::{Gun, RoleName};
use tuf_core::role::{DelegatedRole, PathSpec, RoleKeys, TargetEntry, Threshold};
use tuf_core::search::TargetLookup;
use tuf_core::trusted_set::{RepoConfig, TrustedSet};
use tuf_core::Dialect;

fn by_role(files: &[SignedFile]) -> BTreeMap<&str, &[u8]> {
    files
        .iter()
        .map(|f| (f.role.as_str(), f.bytes.as_slice()))
        .collect()
}

fn lookup(
    set: &mut TrustedSet,
    files: &BTreeMap<&str, &[u8]>,
    path: &str,
) -> Result<String, Box<dyn Error>> {
    loop {
        match set.find_target(path)? {
            TargetLookup::Found { entry, role } => {
                return Ok(format!(
                    "{path}: sha256 {} ({} bytes), signed by {role}",
                    entry.sha256_hex().unwrap_or_default(),
                    entry.length
                ))
            }
            TargetLookup::NotFound => return Ok(format!("{path}: not found")),
            TargetLookup::NeedRole { delegator, role } => {
                let bytes = files.get(role.as_str()).ok_or("missing delegated role")?;
                set.update_delegated(&delegator, &role, bytes)?;
            }
        }
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let now = Utc::now();

    // --- Notary 0.7: what `notary init` + `notary add` + `notary publish` produce ----------
    let gun = Gun::parse("docker.io/library/alpine")?;
    let (root, targets, snapshot, timestamp) = (
        SoftwareSigner::generate_p256(),
        SoftwareSigner::generate_p256(),
        SoftwareSigner::generate_p256(),
        SoftwareSigner::generate_ed25519(),
    );
    let key = |s: &SoftwareSigner| Key::from_public_key(Dialect::Notary, s.public_key().clone());
    let keys = InitialKeys {
        root: vec![notary_root_key(
            &root,
            &gun,
            now,
            Lifetimes::default_for(Dialect::Notary).root,
        )?],
        targets: vec![key(&targets)],
        snapshot: vec![key(&snapshot)],
        timestamp: vec![key(&timestamp)],
    };
    let mut editor = RepoEditor::create(Dialect::Notary, keys, now);
    editor.add_target(
        "targets",
        "3.20",
        TargetEntry::for_data(b"alpine 3.20 manifest"),
    )?;
    editor.add_target(
        "targets",
        "latest",
        TargetEntry::for_data(b"alpine 3.20 manifest"),
    )?;
    let signers: [&dyn Signer; 4] = [&root, &targets, &snapshot, &timestamp];
    let files = editor.sign(&signers, now, SignPlan::default())?;
    println!("Notary 0.7 collection {gun}:");
    for f in &files {
        println!("  {}.json v{} ({} bytes)", f.role, f.version, f.bytes.len());
    }
    let m = by_role(&files);
    let mut set = TrustedSet::new(RepoConfig::notary(gun.clone()), m["root"], now)?;
    set.update_timestamp(m["timestamp"])?;
    set.update_snapshot(m["snapshot"])?;
    set.update_targets(m["targets"])?;
    for t in set.list_targets() {
        println!(
            "  verified {:<8} {}  {} bytes",
            t.path,
            t.entry.sha256_hex().unwrap_or_default(),
            t.entry.length
        );
    }

    // A one-byte change to the timestamp's signature is refused.
    let mut bad = m["timestamp"].to_vec();
    if let Some(i) = bad.windows(7).position(|w| w == b"\"sig\":\"") {
        bad[i + 7] = if bad[i + 7] == b'A' { b'B' } else { b'A' };
    }
    let mut fresh = TrustedSet::new(RepoConfig::notary(gun), m["root"], now)?;
    match fresh.update_timestamp(&bad) {
        Err(e) => println!("  tampered timestamp rejected: {e}"),
        Ok(_) => return Err("tampered timestamp accepted".into()),
    }

    // --- TUF 1.0: a repository with a delegation, as python-tuf/tough/go-tuf read it -------
    let signer = SoftwareSigner::generate_ed25519();
    let team = SoftwareSigner::generate_p256();
    let tkey = |s: &SoftwareSigner| Key::from_public_key(Dialect::TufSpec, s.public_key().clone());
    let keys = InitialKeys {
        root: vec![tkey(&signer)],
        targets: vec![tkey(&signer)],
        snapshot: vec![tkey(&signer)],
        timestamp: vec![tkey(&signer)],
    };
    let mut editor = RepoEditor::create(Dialect::TufSpec, keys, now);
    editor.add_target("targets", "README.md", TargetEntry::for_data(b"# hello"))?;
    editor.add_delegation(
        "targets",
        DelegatedRole {
            name: RoleName::delegated(Dialect::TufSpec, "team-a")?,
            keys: RoleKeys {
                keyids: vec![tkey(&team).key_id()],
                threshold: Threshold::ONE,
            },
            terminating: true,
            paths: PathSpec::Patterns(vec!["team-a/*".into()]),
        },
        vec![tkey(&team)],
    )?;
    editor.add_target(
        "team-a",
        "team-a/app-1.0.tar.gz",
        TargetEntry::for_data(b"app 1.0"),
    )?;
    let signers: [&dyn Signer; 2] = [&signer, &team];
    let files = editor.sign(&signers, now, SignPlan::default())?;
    println!("TUF 1.0 repository:");
    for f in &files {
        println!(
            "  {} ({} bytes)",
            f.tuf_file_names(true).join(", "),
            f.bytes.len()
        );
    }
    let m = by_role(&files);
    let mut set = TrustedSet::new(RepoConfig::tuf(), m["root"], now)?;
    set.update_timestamp(m["timestamp"])?;
    set.update_snapshot(m["snapshot"])?;
    set.update_targets(m["targets"])?;
    for path in [
        "README.md",
        "team-a/app-1.0.tar.gz",
        "team-a/nested/x",
        "team-b/y",
    ] {
        println!("  {}", lookup(&mut set, &m, path)?);
    }
    Ok(())
}
