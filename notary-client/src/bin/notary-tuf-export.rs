//! `notary-tuf-export`: converts a Notary 0.7 collection into a TUF 1.0 repository.
//!
//! The Notary metadata in `--from` is verified first (nothing is written if it does not
//! verify); the export is then signed with the keys in `--keys` and written to
//! `--to/metadata/`. The mapping report is printed on stdout.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::Parser;
use notary_client::tuf_export::{
    delegated_role_names, export, load_keys, verify_source, write_repository, ExportError,
    ExportSource,
};
use tuf_core::name::Gun;

/// Export a Notary 0.7 collection as a TUF 1.0 repository.
///
/// FROM holds the collection's metadata as a Notary server serves it or a client caches it:
/// root.json (and 1.root.json, 2.root.json, ... if present), timestamp.json, snapshot.json,
/// targets.json and targets/<role>.json for delegated roles. It is verified like a fresh
/// Notary client would (trusting 1.root.json, else root.json) before anything is built.
///
/// KEYDIR holds unencrypted PKCS#8 PEM private keys (Ed25519 or ECDSA P-256): root.pem,
/// targets.pem, snapshot.pem, timestamp.pem, and delegation.<percent-encoded role>.pem for
/// each delegated role (e.g. delegation.targets%2Freleases.pem). --generate-keys creates
/// missing ones (Ed25519, mode 0600).
///
/// Mapping: role names are kept; Notary path prefixes become TUF glob patterns, one per
/// path depth up to the deepest target ("" -> "*", "*/*", ...; "qa/" -> "qa/*", ...);
/// targets keep length, hashes (written as hex) and custom data.
/// The output is TO/metadata/ (it must not exist yet), written atomically.
#[derive(Debug, Parser)]
#[command(name = "notary-tuf-export", version)]
struct Args {
    /// The collection's GUN, e.g. example.com/app.
    #[arg(long)]
    gun: String,
    /// Directory of the Notary metadata.
    #[arg(long)]
    from: PathBuf,
    /// Output repository directory (TO/metadata/ is created).
    #[arg(long)]
    to: PathBuf,
    /// Directory of the signing keys.
    #[arg(long)]
    keys: PathBuf,
    /// Create missing key files in KEYDIR.
    #[arg(long)]
    generate_keys: bool,
    /// Verify the source as of this RFC 3339 time instead of now (e.g. to export an archived
    /// collection whose timestamp has expired). The export is always signed at the current
    /// time.
    #[arg(long, value_name = "RFC3339")]
    verify_at: Option<DateTime<Utc>>,
    /// Export with consistent_snapshot false (unversioned snapshot/targets file names).
    #[arg(long)]
    no_consistent_snapshot: bool,
}

fn run(args: Args) -> Result<(), ExportError> {
    let now = Utc::now();
    let gun = Gun::parse(&args.gun)?;
    let mut source = ExportSource::new(&args.from, gun, args.verify_at.unwrap_or(now));
    source.consistent_snapshot = !args.no_consistent_snapshot;
    let set = verify_source(&source)?;
    let roles = delegated_role_names(&set);
    let (keys, notes) = load_keys(&args.keys, &roles, args.generate_keys)?;
    for n in notes {
        println!("{n}");
    }
    let result = export(source, keys, now)?;
    for line in &result.report {
        println!("{line}");
    }
    let written = write_repository(&args.to, &result, result.consistent_snapshot)?;
    for p in written {
        println!("wrote {}", p.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("notary-tuf-export: {e}");
            ExitCode::FAILURE
        }
    }
}
