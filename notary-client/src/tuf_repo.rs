//! `tuf-repo`: writes TUF 1.0 repositories as plain directories that any static web server
//! can serve (`REPO/metadata/`, `REPO/targets/`).
//!
//! Every command except `init` and `gen-key` first loads the current repository by
//! **verifying** it with tuf-core's [`TrustedSet`] (TUF 1.0 dialect) over the local files, as
//! a fresh client would: `1.root.json` is the trust anchor, `N.root.json` are applied in
//! order, `root.json` must be the newest of them, then `timestamp.json`, the snapshot and
//! targets it names, and every delegated role listed in the snapshot and reachable from
//! targets. Only then is it edited with [`RepoEditor::from_trusted`], signed with the keys in
//! the key directory, and the result verified again (new files over the old ones) before
//! anything is written. A repository that does not verify, or keys that do not match the
//! roles, make the command fail with nothing written.
//!
//! Files are written with the names [`SignedFile::tuf_file_names`] gives (consistent
//! snapshots: `N.root.json`, `V.targets.json`, `V.snapshot.json`, `V.<role>.json`):
//! versioned files are never overwritten (hard link of a fully written temporary file, which
//! fails if the name exists); `root.json` and `timestamp.json` are replaced by rename, the
//! timestamp last, so a reader sees either the old or the new repository.
//!
//! The repository can also be a TUF 1.0 collection of `notary-server`, named by its URL
//! `http(s)://HOST/v2/<gun>/_tuf/`: see [`crate::tuf_repo_server`] (pinned first root in
//! `KEYDIR/1.root.json`, snapshot and timestamp signed by the server unless KEYDIR holds
//! their keys, metadata and target files published in one request).
//!
//! Key directory: `root.pem`, `targets.pem`, `snapshot.pem`, `timestamp.pem` and
//! `delegation.<percent-encoded role>.pem` (delegated roles; for hash bins the bin name
//! prefix), unencrypted PKCS#8 PEM, Ed25519 or P-256 (see [`crate::tuf_export::key_file`]).
//! Every `*.pem` file of the directory is offered to the editor as a signer; the editor only
//! signs with keys a role authorises.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};
use tuf_core::crypto::{Signer, SoftwareSigner};
use tuf_core::editor::{
    sign_role, EditError, InitialKeys, Lifetimes, RepoEditor, SignPlan, SignedFile,
};
use tuf_core::error::UpdateError;
use tuf_core::name::RoleName;
use tuf_core::path_match::{delegation_covers, is_succinct_bin, succinct_bin_for};
use tuf_core::repo_load::{load_tuf_repository, LoadError, Previous};
use tuf_core::role::{
    DelegatedRole, DelegatedRoles, PathSpec, RoleKeys, SuccinctRoles, TargetEntry, Targets,
    Threshold, Timestamp, TopRole,
};
use tuf_core::trusted_set::TrustedSet;
use tuf_core::Dialect;

use crate::tuf_client::safe_relative_path;
use crate::tuf_export::{io, key_file, key_of, load_key, output_names, write_key, ExportError};
use crate::tuf_repo_server::{as_signers, holds, pinned_root_file, server_plan, ServerRepo};

/// `tuf-repo`: create and maintain a TUF 1.0 repository in a directory served as static
/// files.
///
/// Every command verifies the repository first (1.root.json is the trust anchor) and refuses,
/// with nothing written, if it does not verify or the keys in KEYDIR do not match the roles.
/// Layout: REPO/metadata/ (1.root.json, N.root.json, root.json, timestamp.json,
/// V.snapshot.json, V.targets.json, V.<role>.json; consistent snapshots) and REPO/targets/
/// (each target as targets/<dir>/<hash>.<basename>, targets/<hash>.<dir>/<basename> and
/// targets/<path>). Keys: KEYDIR/root.pem,
/// targets.pem, snapshot.pem, timestamp.pem, delegation.<role>.pem (unencrypted PKCS#8 PEM).
#[derive(Debug, Parser)]
#[command(name = "tuf-repo", version)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The key directory and whether missing keys are generated.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// Directory of PKCS#8 PEM keys (root.pem, targets.pem, snapshot.pem, timestamp.pem,
    /// delegation.<role>.pem).
    #[arg(long = "keys", value_name = "KEYDIR")]
    pub keys: PathBuf,
}

/// Type of generated keys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum KeyType {
    /// Ed25519.
    #[default]
    Ed25519,
    /// ECDSA P-256.
    P256,
}

impl KeyType {
    fn generate(self) -> SoftwareSigner {
        match self {
            Self::Ed25519 => SoftwareSigner::generate_ed25519(),
            Self::P256 => SoftwareSigner::generate_p256(),
        }
    }
}

/// `tuf-repo` commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new repository: metadata/ (1.root.json, root.json, 1.targets.json,
    /// 1.snapshot.json, timestamp.json) and targets/.
    Init {
        /// Repository directory (its metadata/ must not exist), or a notary-server collection
        /// URL (http(s)://HOST/v2/<gun>/_tuf/) without a root yet.
        repo: PathBuf,
        /// Key directory.
        #[command(flatten)]
        keys: KeyArgs,
        /// Generate missing key files (mode 0600; the directory 0700 if created).
        #[arg(long)]
        generate_keys: bool,
        /// Type of generated keys.
        #[arg(long, value_enum, default_value_t = KeyType::Ed25519)]
        key_type: KeyType,
        /// Lifetimes in days: `N` for every role, or `ROLE=N` (root, targets, snapshot,
        /// timestamp); repeatable. Defaults: root 365, targets 90, snapshot 7, timestamp 1.
        #[arg(long, value_name = "N|ROLE=N")]
        expires_days: Vec<String>,
    },
    /// Add targets: PATH FILE [PATH FILE ...]. Each FILE is copied to
    /// targets/<dir>/<hash>.<basename>, targets/<hash>.<dir>/<basename> (one per hash) and
    /// targets/<PATH>.
    Add {
        /// Repository directory, or a notary-server collection URL
        /// (http(s)://HOST/v2/<gun>/_tuf/).
        repo: PathBuf,
        /// Key directory.
        #[command(flatten)]
        keys: KeyArgs,
        /// Role that lists the targets: `targets`, a delegated role, or a hash-bin name
        /// prefix (the bin is chosen from each path).
        #[arg(long, default_value = "targets")]
        role: String,
        /// Target path and local file, in pairs.
        #[arg(value_name = "PATH FILE", required = true, num_args = 2..)]
        items: Vec<String>,
    },
    /// Remove targets from a role's metadata (the target files stay: clients on the previous
    /// metadata may still fetch them).
    Remove {
        /// Repository directory, or a notary-server collection URL
        /// (http(s)://HOST/v2/<gun>/_tuf/).
        repo: PathBuf,
        /// Key directory.
        #[command(flatten)]
        keys: KeyArgs,
        /// Role that lists the targets (as for `add`).
        #[arg(long, default_value = "targets")]
        role: String,
        /// Target paths.
        #[arg(required = true)]
        paths: Vec<String>,
    },
    /// Delegate target paths to a role (replaces an existing delegation of that name).
    Delegate {
        /// Repository directory, or a notary-server collection URL
        /// (http(s)://HOST/v2/<gun>/_tuf/).
        repo: PathBuf,
        /// Key directory.
        #[command(flatten)]
        keys: KeyArgs,
        /// Delegated role name.
        #[arg(long)]
        role: String,
        /// Delegating role.
        #[arg(long, default_value = "targets")]
        parent: String,
        /// TUF path pattern (`*` does not cross `/`); repeatable.
        #[arg(long = "paths", required = true)]
        paths: Vec<String>,
        /// Stop the search after this role's subtree.
        #[arg(long)]
        terminating: bool,
        /// Private key (PKCS#8 PEM) of the role; copied to KEYDIR/delegation.<role>.pem.
        /// Default: that file, generated with --generate-keys if missing.
        #[arg(long, value_name = "PEM")]
        key: Option<PathBuf>,
        /// Generate the role's key if KEYDIR has none.
        #[arg(long)]
        generate_keys: bool,
        /// Type of a generated key.
        #[arg(long, value_enum, default_value_t = KeyType::Ed25519)]
        key_type: KeyType,
    },
    /// Delegate everything of a role to TAP 15 succinct hash bins `<prefix>-<hex>` (the
    /// role must not delegate otherwise); every bin starts empty.
    DelegateBins {
        /// Repository directory, or a notary-server collection URL
        /// (http(s)://HOST/v2/<gun>/_tuf/).
        repo: PathBuf,
        /// Key directory.
        #[command(flatten)]
        keys: KeyArgs,
        /// Number of leading bits of SHA-256(path) selecting the bin (1..=9).
        #[arg(long)]
        bit_length: u8,
        /// Bin name prefix.
        #[arg(long)]
        prefix: String,
        /// Delegating role.
        #[arg(long, default_value = "targets")]
        parent: String,
        /// Private key (PKCS#8 PEM) shared by the bins; copied to
        /// KEYDIR/delegation.<prefix>.pem. Default: that file, generated with
        /// --generate-keys if missing.
        #[arg(long, value_name = "PEM")]
        key: Option<PathBuf>,
        /// Generate the bins' key if KEYDIR has none.
        #[arg(long)]
        generate_keys: bool,
        /// Type of a generated key.
        #[arg(long, value_enum, default_value_t = KeyType::Ed25519)]
        key_type: KeyType,
    },
    /// Replace the key of a top-level role (threshold 1). A new root is signed by the old
    /// and the new root key. The new key becomes KEYDIR/<role>.pem; the old file is kept as
    /// <role>.pem.retired-<keyid prefix>.
    Rotate {
        /// Repository directory, or a notary-server collection URL
        /// (http(s)://HOST/v2/<gun>/_tuf/).
        repo: PathBuf,
        /// Key directory.
        #[command(flatten)]
        keys: KeyArgs,
        /// Role whose key is replaced.
        #[arg(long, value_parser = ["root", "targets", "snapshot", "timestamp"])]
        role: String,
        /// The new private key (PKCS#8 PEM).
        #[arg(long, value_name = "PEM", required_unless_present = "server_key")]
        new_key: Option<PathBuf>,
        /// Timestamp or snapshot of a server collection: rotate to a new key held by the
        /// server (`POST .../keys/<role>.key`); the server signs with it from then on.
        #[arg(long, conflicts_with = "new_key")]
        server_key: bool,
    },
    /// Re-sign a role (bumping its version) to expire in N days from now.
    Expire {
        /// Repository directory, or a notary-server collection URL
        /// (http(s)://HOST/v2/<gun>/_tuf/).
        repo: PathBuf,
        /// Key directory.
        #[command(flatten)]
        keys: KeyArgs,
        /// Role (top-level or delegated).
        #[arg(long)]
        role: String,
        /// Days from now.
        #[arg(long)]
        days: u32,
        /// Load a repository whose metadata has expired (signatures are still verified).
        #[arg(long)]
        allow_expired: bool,
    },
    /// Re-sign the timestamp (new version, new expiry).
    Refresh {
        /// Repository directory, or a notary-server collection URL
        /// (http(s)://HOST/v2/<gun>/_tuf/).
        repo: PathBuf,
        /// Key directory.
        #[command(flatten)]
        keys: KeyArgs,
        /// Days from now (default 1).
        #[arg(long)]
        days: Option<u32>,
        /// Load a repository whose metadata has expired (signatures are still verified).
        #[arg(long)]
        allow_expired: bool,
    },
    /// Generate a private key file (PKCS#8 PEM, mode 0600; never overwrites).
    GenKey {
        /// Output file.
        path: PathBuf,
        /// Key type.
        #[arg(long, value_enum, default_value_t = KeyType::Ed25519)]
        key_type: KeyType,
    },
}

/// Why a command failed. Nothing is written to the repository when it fails.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RepoError {
    /// The repository does not verify.
    #[error("repository does not verify: {file}: {source}")]
    Verify {
        /// The rejected file (relative to `metadata/`).
        file: String,
        /// The trusted set's reason.
        source: Box<UpdateError>,
    },
    /// A file could not be read or written, or a key file is unusable.
    #[error(transparent)]
    File(#[from] ExportError),
    /// The editor refused (e.g. the keys do not meet a role's threshold).
    #[error("refused: {0}")]
    Edit(Box<EditError>),
    /// The command cannot be applied as asked.
    #[error("refused: {0}")]
    Refused(String),
}

impl From<EditError> for RepoError {
    fn from(e: EditError) -> Self {
        Self::Edit(Box::new(e))
    }
}

impl From<std::io::Error> for RepoError {
    fn from(e: std::io::Error) -> Self {
        Self::Refused(e.to_string())
    }
}

fn refused(msg: impl Into<String>) -> RepoError {
    RepoError::Refused(msg.into())
}

/// Parses `args` (without the program name) and runs the command. Returns the lines to
/// print (written files, generated keys).
///
/// # Errors
/// A usage error (as a clap error, which knows how to print itself), or the first failure.
pub fn run(args: &[OsString]) -> Result<Result<Vec<String>, RepoError>, clap::Error> {
    let cli = Cli::try_parse_from(
        std::iter::once(OsString::from("tuf-repo")).chain(args.iter().cloned()),
    )?;
    Ok(execute(cli.command, Utc::now()))
}

/// Reads a file of `metadata/` (`None` if it does not exist).
type Reader<'a> = dyn Fn(&str) -> Result<Option<Vec<u8>>, RepoError> + 'a;

fn disk_reader(repo: &Path) -> impl Fn(&str) -> Result<Option<Vec<u8>>, RepoError> {
    let dir = repo.join("metadata");
    move |name: &str| {
        let path = dir.join(name);
        match fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ExportError::Io { path, source: e }.into()),
        }
    }
}

/// Verifies a repository like a fresh client at `now` (see the module docs) and returns the
/// trusted set.
///
/// # Errors
/// [`RepoError::Verify`] naming the first rejected file, I/O errors.
pub fn verify_repository(repo: &Path, now: DateTime<Utc>) -> Result<TrustedSet, RepoError> {
    verify_with(&disk_reader(repo), now)
}

fn verify_with(read: &Reader<'_>, now: DateTime<Utc>) -> Result<TrustedSet, RepoError> {
    load_tuf_repository(read, Previous::default(), now).map_err(|e| match e {
        LoadError::Read(e) => e,
        LoadError::Missing { file } => RepoError::Verify {
            source: Box::new(UpdateError::OutOfOrder {
                role: file.clone(),
                reason: "file missing",
            }),
            file,
        },
        LoadError::Rejected { file, source } => RepoError::Verify { file, source },
        other => refused(other.to_string()),
    })
}

/// Verifies the repository at `now`; with `allow_expired`, an expired role is tolerated by
/// verifying again just before its expiry (signatures, hashes and versions still checked).
fn load(repo: &Path, now: DateTime<Utc>, allow_expired: bool) -> Result<TrustedSet, RepoError> {
    load_with(&|at| verify_repository(repo, at), now, allow_expired)
}

/// [`load`] with any verifier (a directory or a server).
fn load_with(
    verify: &dyn Fn(DateTime<Utc>) -> Result<TrustedSet, RepoError>,
    now: DateTime<Utc>,
    allow_expired: bool,
) -> Result<TrustedSet, RepoError> {
    let mut at = now;
    for _ in 0..8 {
        match verify(at) {
            Err(RepoError::Verify { file, source }) if allow_expired => match *source {
                UpdateError::Expired { expires, .. } if expires < at => {
                    at = expires - Duration::seconds(1);
                }
                other => {
                    return Err(RepoError::Verify {
                        file,
                        source: Box::new(other),
                    })
                }
            },
            other => return other,
        }
    }
    verify(at)
}

/// Every `*.pem` key in `dir`, sorted by file name.
fn keyring(dir: &Path) -> Result<Vec<SoftwareSigner>, RepoError> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "pem") && p.is_file())
        .collect();
    files.sort();
    files.iter().map(|p| Ok(load_key(p)?)).collect()
}

/// Each top-level key file in `dir` must hold a key of that role in `root`.
fn check_top_keys(dir: &Path, set: &TrustedSet) -> Result<(), RepoError> {
    let root = set.root();
    for role in TopRole::ALL {
        let path = key_file(dir, role.as_str());
        if !path.exists() {
            continue;
        }
        let id = key_of(&load_key(&path)?).key_id();
        if !root.role(role).keyids.contains(&id) {
            return Err(refused(format!(
                "{} is not a {} key of root v{} (key id {})",
                path.display(),
                role.as_str(),
                root.header.version,
                id.to_hex()
            )));
        }
    }
    Ok(())
}

/// The delegation edges of a verified repository.
#[derive(Default)]
struct Edges {
    /// Role name -> (delegator, paths).
    roles: BTreeMap<String, (String, PathSpec)>,
    /// Succinct delegations: (delegator, bins).
    bins: Vec<(String, SuccinctRoles)>,
}

impl Edges {
    fn of(set: &TrustedSet) -> Self {
        let mut out = Self::default();
        let top = set.targets().map(|t| ("targets".to_owned(), &**t));
        let all = top.into_iter().chain(
            set.delegated_roles()
                .map(|((_, role), v)| (role.clone(), &**v)),
        );
        for (name, meta) in all {
            out.add(&name, meta);
        }
        out
    }

    fn add(&mut self, name: &str, meta: &Targets) {
        match meta.delegations.as_ref().map(|d| &d.roles) {
            Some(DelegatedRoles::List(list)) => {
                for r in list {
                    self.roles.insert(
                        r.name.as_str().to_owned(),
                        (name.to_owned(), r.paths.clone()),
                    );
                }
            }
            Some(DelegatedRoles::Succinct(s)) => self.bins.push((name.to_owned(), s.clone())),
            None => {}
        }
    }

    /// The role that lists `path` when the user names `role` (a bin prefix selects the bin).
    fn resolve(&self, role: &str, path: &str) -> String {
        self.bins
            .iter()
            .find(|(_, s)| s.name_prefix == role)
            .map_or_else(|| role.to_owned(), |(_, s)| succinct_bin_for(s, path))
    }

    /// Whether `role` may sign `path`: every edge from `targets` down to it covers the path.
    fn check_covers(&self, role: &str, path: &str) -> Result<(), RepoError> {
        let mut current = role.to_owned();
        for _ in 0..64 {
            if current == "targets" {
                return Ok(());
            }
            let (parent, covers) = if let Some((parent, spec)) = self.roles.get(&current) {
                (
                    parent.clone(),
                    delegation_covers(Dialect::TufSpec, spec, path),
                )
            } else if let Some((parent, s)) =
                self.bins.iter().find(|(_, s)| is_succinct_bin(s, &current))
            {
                (parent.clone(), succinct_bin_for(s, path) == current)
            } else {
                return Err(refused(format!("no delegated role {current}")));
            };
            if !covers {
                return Err(refused(format!(
                    "{path:?} is outside the paths delegated to {current} (by {parent}); \
                     clients would not accept it from {role}"
                )));
            }
            current = parent;
        }
        Err(refused(format!("delegation chain of {role} too deep")))
    }
}

/// The local path of a target (`targets/<path>`), refusing paths that could escape.
fn target_dest(repo: &Path, path: &str) -> Result<PathBuf, RepoError> {
    let rel = safe_relative_path(path).map_err(|e| refused(e.to_string()))?;
    Ok(repo.join("targets").join(rel))
}

/// Copies `data` to `targets/<dir>/<hash>.<basename>` and `targets/<hash>.<dir>/<basename>`
/// for each hash of `entry` and to `targets/<path>` (temporary file, fsync, rename). Returns
/// the written paths.
fn write_target(
    repo: &Path,
    path: &str,
    entry: &TargetEntry,
    data: &[u8],
) -> Result<Vec<PathBuf>, RepoError> {
    let plain = target_dest(repo, path)?;
    let parent = plain
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| repo.join("targets"));
    let base = path.rsplit('/').next().unwrap_or(path);
    let mut dests: Vec<PathBuf> = entry
        .hashes
        .values()
        .map(|h| parent.join(format!("{}.{base}", hex::encode(h))))
        .collect();
    if path.contains('/') {
        // tough 0.24 asks for `<hash>.<whole path>` (python-tuf and the spec's examples for
        // `<dir>/<hash>.<basename>`): serve both spellings.
        for h in entry.hashes.values() {
            dests.push(target_dest(repo, &format!("{}.{path}", hex::encode(h)))?);
        }
    }
    dests.push(plain);
    for dest in &dests {
        let dir = dest.parent().unwrap_or(&parent);
        fs::create_dir_all(dir).map_err(io(dir))?;
        let tmp = dir.join(format!(".tuf-repo-tmp-{}", std::process::id()));
        write_synced(&tmp, data)?;
        fs::rename(&tmp, dest).map_err(io(dest))?;
    }
    Ok(dests)
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), RepoError> {
    let mut f = fs::File::create(path).map_err(io(path))?;
    f.write_all(bytes).map_err(io(path))?;
    f.sync_all().map_err(io(path))?;
    Ok(())
}

/// `metadata/` names and bytes of the signed files.
fn planned(files: &[SignedFile], consistent: bool) -> Vec<(String, Vec<u8>)> {
    files
        .iter()
        .flat_map(|f| {
            output_names(f, consistent)
                .into_iter()
                .map(|n| (n, f.bytes.clone()))
        })
        .collect()
}

/// Whether a metadata file name is replaced on update (rather than kept forever).
fn replaceable(name: &str, consistent: bool) -> bool {
    !consistent || name == "root.json" || name == "timestamp.json"
}

/// Verifies the repository as it will be after writing `files`, then writes them (versioned
/// names first, never overwritten; `root.json`, then `timestamp.json` last, by rename).
fn commit(
    repo: &Path,
    files: &[SignedFile],
    consistent: bool,
    now: DateTime<Utc>,
) -> Result<Vec<String>, RepoError> {
    commit_after(repo, files, consistent, now, || Ok(Vec::new()))
}

/// [`commit`], running `before_write` (e.g. copying target files) once the result has
/// verified and before any metadata is written.
fn commit_after(
    repo: &Path,
    files: &[SignedFile],
    consistent: bool,
    now: DateTime<Utc>,
    before_write: impl FnOnce() -> Result<Vec<String>, RepoError>,
) -> Result<Vec<String>, RepoError> {
    let plan = planned(files, consistent);
    let dir = repo.join("metadata");
    for (name, _) in &plan {
        if !replaceable(name, consistent) && dir.join(name).exists() {
            return Err(refused(format!(
                "{} already exists; versioned metadata is never overwritten",
                dir.join(name).display()
            )));
        }
    }
    let overlay: BTreeMap<&str, &[u8]> = plan
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let disk = disk_reader(repo);
    let reader = |name: &str| match overlay.get(name) {
        Some(b) => Ok(Some(b.to_vec())),
        None => disk(name),
    };
    verify_with(&reader, now).map_err(|e| refused(format!("the result would not verify: {e}")))?;
    let mut pre = before_write()?;

    fs::create_dir_all(&dir).map_err(io(&dir))?;
    let mut order: Vec<&(String, Vec<u8>)> = plan.iter().collect();
    order.sort_by_key(|(n, _)| match n.as_str() {
        "timestamp.json" => 2,
        "root.json" => 1,
        _ => 0,
    });
    let mut temps = Vec::new();
    let result = (|| {
        for (i, (_, bytes)) in order.iter().enumerate() {
            let tmp = dir.join(format!(".tuf-repo-tmp-{}-{i}", std::process::id()));
            temps.push(tmp.clone());
            write_synced(&tmp, bytes)?;
        }
        let mut written = Vec::new();
        for ((name, _), tmp) in order.iter().zip(&temps) {
            let dest = dir.join(name);
            if replaceable(name, consistent) {
                fs::rename(tmp, &dest).map_err(io(&dest))?;
            } else {
                fs::hard_link(tmp, &dest).map_err(io(&dest))?;
            }
            written.push(format!("wrote {}", dest.display()));
        }
        if let Ok(d) = fs::File::open(&dir) {
            // Best effort: persist the renames.
            let _ = d.sync_all();
        }
        Ok(written)
    })();
    let result = result.map(|w| {
        pre.extend(w);
        pre
    });
    for tmp in &temps {
        let _ = fs::remove_file(tmp);
    }
    result
}

/// Loads the key of a new delegated role: `--key` (to be installed in KEYDIR), the KEYDIR
/// file, or a generated one. Returns the signer and, if it must be installed, the path.
fn delegation_key(
    keydir: &Path,
    role: &str,
    key: Option<&Path>,
    generate: bool,
    key_type: KeyType,
) -> Result<(SoftwareSigner, Option<PathBuf>), RepoError> {
    let dest = key_file(keydir, role);
    match key {
        Some(p) => {
            let signer = load_key(p)?;
            if dest.exists() {
                let have = key_of(&load_key(&dest)?).key_id();
                if have != key_of(&signer).key_id() {
                    return Err(refused(format!(
                        "{} already holds a different key for {role}",
                        dest.display()
                    )));
                }
                return Ok((signer, None));
            }
            Ok((signer, Some(dest)))
        }
        None if dest.exists() => Ok((load_key(&dest)?, None)),
        None if generate => Ok((key_type.generate(), Some(dest))),
        None => Err(refused(format!(
            "no key for {role}: {} is missing (give --key or --generate-keys)",
            dest.display()
        ))),
    }
}

/// An edit of a verified repository, signed and committed (to a directory) or published (to
/// a server collection).
struct Session {
    repo: PathBuf,
    keydir: PathBuf,
    set: TrustedSet,
    editor: RepoEditor,
    now: DateTime<Utc>,
    server: Option<ServerRepo>,
    /// Target files to publish with the metadata (server collections).
    targets_out: Vec<(String, Vec<u8>)>,
}

impl Session {
    fn open(
        repo: &Path,
        keydir: &Path,
        now: DateTime<Utc>,
        allow_expired: bool,
    ) -> Result<Self, RepoError> {
        let server = ServerRepo::parse(repo).map_err(refused)?;
        let set = match &server {
            Some(s) => {
                s.check_pinned_root(keydir).map_err(refused)?;
                let read = |name: &str| s.read(name).map_err(refused);
                load_with(&|at| verify_with(&read, at), now, allow_expired)?
            }
            None => load(repo, now, allow_expired)?,
        };
        check_top_keys(keydir, &set)?;
        let editor = RepoEditor::from_trusted(&set)?;
        Ok(Self {
            repo: repo.to_owned(),
            keydir: keydir.to_owned(),
            set,
            editor,
            now,
            server,
            targets_out: Vec::new(),
        })
    }

    /// Signs with every key of KEYDIR plus `extra`, then commits.
    fn finish(self, extra: &[&SoftwareSigner]) -> Result<Vec<String>, RepoError> {
        self.finish_after(extra, || Ok(Vec::new()))
    }

    /// [`Session::finish`], running `before_write` once the result has verified.
    fn finish_after(
        mut self,
        extra: &[&SoftwareSigner],
        before_write: impl FnOnce() -> Result<Vec<String>, RepoError>,
    ) -> Result<Vec<String>, RepoError> {
        let ring = keyring(&self.keydir)?;
        let signers: Vec<&dyn Signer> = ring
            .iter()
            .chain(extra.iter().copied())
            .map(|s| s as &dyn Signer)
            .collect();
        if let Some(server) = &self.server {
            let plan = server_plan(self.editor.root(), &signers);
            let files = self.editor.sign(&signers, self.now, plan)?;
            return server.publish(&files, &self.targets_out).map_err(refused);
        }
        let files = self.editor.sign(&signers, self.now, SignPlan::default())?;
        let consistent = self.editor.root().consistent_snapshot;
        commit_after(&self.repo, &files, consistent, self.now, before_write)
    }

    /// Re-signs only the timestamp (same snapshot, next version, expiring at `expires`).
    ///
    /// [`RepoEditor::from_trusted`] does not carry the trusted snapshot's bytes, so the
    /// editor cannot describe the current snapshot in a new timestamp without re-signing the
    /// snapshot too; this signs the timestamp alone with [`sign_role`] against root's
    /// timestamp role, as the editor would.
    fn finish_timestamp(self, expires: DateTime<Utc>) -> Result<Vec<String>, RepoError> {
        let Some(current) = self.set.timestamp() else {
            return Err(refused("no trusted timestamp"));
        };
        let mut ts: Timestamp = (**current).clone();
        ts.header.version = ts.header.version.saturating_add(1);
        ts.header.expires = expires;
        let ring = keyring(&self.keydir)?;
        let signers = as_signers(&ring);
        let root = self.set.root();
        if self.server.is_some() && !holds(root, TopRole::Timestamp, &signers) {
            return Err(refused(
                "the server signs this collection's timestamp (and re-signs it a week before \
                 it expires); there is nothing to re-sign here",
            ));
        }
        let auth = [(root.keys.clone(), root.role(TopRole::Timestamp).clone())];
        let bytes = sign_role(Dialect::TufSpec, "timestamp", &ts, &signers, &auth)?;
        let file = SignedFile {
            role: "timestamp".into(),
            version: ts.header.version,
            bytes,
        };
        if let Some(server) = &self.server {
            return server.publish(&[file], &[]).map_err(refused);
        }
        commit(&self.repo, &[file], root.consistent_snapshot, self.now)
    }
}

/// Parses `--expires-days` values into lifetimes.
fn lifetimes(values: &[String]) -> Result<Lifetimes, RepoError> {
    let mut l = Lifetimes::default_for(Dialect::TufSpec);
    for v in values {
        let (role, days) = match v.split_once('=') {
            Some((r, d)) => (Some(r), d),
            None => (None, v.as_str()),
        };
        let days: u32 =
            days.parse().ok().filter(|d| *d > 0).ok_or_else(|| {
                refused(format!("--expires-days {v}: not a positive number of days"))
            })?;
        let d = Duration::days(i64::from(days));
        match role {
            None => {
                l = Lifetimes {
                    root: d,
                    targets: d,
                    snapshot: d,
                    timestamp: d,
                }
            }
            Some("root") => l.root = d,
            Some("targets") => l.targets = d,
            Some("snapshot") => l.snapshot = d,
            Some("timestamp") => l.timestamp = d,
            Some(other) => return Err(refused(format!("--expires-days: unknown role {other}"))),
        }
    }
    Ok(l)
}

fn top_role(name: &str) -> Option<TopRole> {
    TopRole::ALL.into_iter().find(|r| r.as_str() == name)
}

fn init(
    repo: &Path,
    keydir: &Path,
    generate: bool,
    key_type: KeyType,
    expires: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<String>, RepoError> {
    let lifetimes = lifetimes(expires)?;
    let server = ServerRepo::parse(repo).map_err(refused)?;
    let meta = repo.join("metadata");
    match &server {
        None if meta.exists() => {
            return Err(refused(format!(
                "{} already exists; refusing to overwrite",
                meta.display()
            )));
        }
        Some(s) => {
            if s.read("root.json").map_err(refused)?.is_some() {
                return Err(refused(format!("{} already has a root", s.url())));
            }
            let pin = pinned_root_file(keydir);
            if pin.exists() {
                return Err(refused(format!(
                    "{} exists: this key directory already belongs to a collection",
                    pin.display()
                )));
            }
        }
        None => {}
    }
    let mut out = Vec::new();
    let mut new_keys = Vec::new();
    let mut signers = Vec::new();
    let mut role_keys: Vec<Vec<tuf_core::crypto::Key>> = Vec::new();
    for role in ["root", "targets", "snapshot", "timestamp"] {
        let path = key_file(keydir, role);
        let server_held = matches!(role, "snapshot" | "timestamp") && !path.exists();
        if let (Some(s), true) = (&server, server_held) {
            // Left to the server: it signs with its own key for this collection.
            role_keys.push(vec![s.server_key(role, false).map_err(refused)?]);
            continue;
        }
        let signer = if path.exists() {
            load_key(&path)?
        } else if generate {
            new_keys.push((path, signers.len()));
            key_type.generate()
        } else {
            return Err(refused(format!(
                "{} is missing (use --generate-keys)",
                path.display()
            )));
        };
        role_keys.push(vec![key_of(&signer)]);
        signers.push(signer);
    }
    let mut keys = role_keys.into_iter();
    let mut editor = RepoEditor::create(
        Dialect::TufSpec,
        InitialKeys {
            root: keys.next().unwrap_or_default(),
            targets: keys.next().unwrap_or_default(),
            snapshot: keys.next().unwrap_or_default(),
            timestamp: keys.next().unwrap_or_default(),
        },
        now,
    );
    editor.set_lifetimes(lifetimes);
    editor.set_consistent_snapshot(true);
    let refs = as_signers(&signers);
    let plan = match &server {
        Some(_) => server_plan(editor.root(), &refs),
        None => SignPlan::default(),
    };
    let files = editor.sign(&refs, now, plan)?;
    if !new_keys.is_empty() && !keydir.exists() {
        fs::create_dir_all(keydir).map_err(io(keydir))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            fs::set_permissions(keydir, fs::Permissions::from_mode(0o700)).map_err(io(keydir))?;
        }
    }
    for (path, i) in &new_keys {
        if let Some(s) = signers.get(*i) {
            write_key(path, s)?;
            out.push(format!(
                "generated key {} in {}",
                key_of(s).key_id().to_hex(),
                path.display()
            ));
        }
    }
    if let Some(s) = &server {
        let root = files
            .iter()
            .find(|f| f.role == "root")
            .ok_or_else(|| refused("no root was signed"))?;
        let published = s.publish(&files, &[]);
        let published = match published {
            Ok(p) => p,
            Err(e) => {
                for (path, _) in &new_keys {
                    let _ = fs::remove_file(path);
                }
                return Err(refused(e));
            }
        };
        let pin = pinned_root_file(keydir);
        write_synced(&pin, &root.bytes)?;
        out.extend(published);
        out.push(format!("pinned the first root as {}", pin.display()));
        return Ok(out);
    }
    let targets = repo.join("targets");
    fs::create_dir_all(&targets).map_err(io(&targets))?;
    out.extend(commit(repo, &files, true, now)?);
    Ok(out)
}

fn add(
    repo: &Path,
    keydir: &Path,
    role: &str,
    items: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<String>, RepoError> {
    if !items.len().is_multiple_of(2) {
        return Err(refused("add takes PATH FILE pairs"));
    }
    let mut session = Session::open(repo, keydir, now, false)?;
    let edges = Edges::of(&session.set);
    let mut staged = Vec::new();
    for pair in items.chunks_exact(2) {
        let [path, file] = pair else { continue };
        target_dest(repo, path)?;
        let data = fs::read(file).map_err(io(Path::new(file)))?;
        let entry = TargetEntry::for_data(&data);
        let actual = edges.resolve(role, path);
        edges.check_covers(&actual, path)?;
        session.editor.add_target(&actual, path, entry.clone())?;
        session.targets_out.push((path.clone(), data.clone()));
        staged.push((path.clone(), entry, data, actual));
    }
    // Target files once the signed result has verified, before the metadata: metadata
    // never names a file that is not there.
    session.finish_after(&[], || {
        let mut out = Vec::new();
        for (path, entry, data, role) in &staged {
            for p in write_target(repo, path, entry, data)? {
                out.push(format!("wrote {} ({path} in {role})", p.display()));
            }
        }
        Ok(out)
    })
}

fn remove(
    repo: &Path,
    keydir: &Path,
    role: &str,
    paths: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<String>, RepoError> {
    let mut session = Session::open(repo, keydir, now, false)?;
    let edges = Edges::of(&session.set);
    for path in paths {
        let actual = edges.resolve(role, path);
        if !session.editor.remove_target(&actual, path)? {
            return Err(refused(format!("{path:?} is not listed by {actual}")));
        }
    }
    session.finish(&[])
}

/// Arguments of `delegate`.
struct DelegateArgs<'a> {
    role: &'a str,
    parent: &'a str,
    paths: &'a [String],
    terminating: bool,
    key: Option<&'a Path>,
    generate: bool,
    key_type: KeyType,
}

fn install_key(
    path: Option<&Path>,
    signer: &SoftwareSigner,
    out: &mut Vec<String>,
) -> Result<(), RepoError> {
    if let Some(p) = path {
        write_key(p, signer)?;
        out.push(format!(
            "installed key {} as {}",
            key_of(signer).key_id().to_hex(),
            p.display()
        ));
    }
    Ok(())
}

/// Installs a new key file before committing; removes it again if the commit fails.
fn finish_with_key(
    session: Session,
    install: Option<&Path>,
    signer: &SoftwareSigner,
) -> Result<Vec<String>, RepoError> {
    let mut out = Vec::new();
    install_key(install, signer, &mut out)?;
    match session.finish(&[signer]) {
        Ok(written) => {
            out.extend(written);
            Ok(out)
        }
        Err(e) => {
            if let Some(p) = install {
                let _ = fs::remove_file(p);
            }
            Err(e)
        }
    }
}

fn delegate(
    repo: &Path,
    keydir: &Path,
    a: &DelegateArgs<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<String>, RepoError> {
    let name = RoleName::delegated(Dialect::TufSpec, a.role)
        .map_err(|e| refused(format!("role {:?}: {e}", a.role)))?;
    if a.paths.iter().any(String::is_empty) {
        return Err(refused("empty path pattern"));
    }
    let mut session = Session::open(repo, keydir, now, false)?;
    let edges = Edges::of(&session.set);
    if edges
        .bins
        .iter()
        .any(|(_, s)| s.name_prefix == a.role || is_succinct_bin(s, a.role))
    {
        return Err(refused(format!("{} is a hash-bin name", a.role)));
    }
    let (signer, install) = delegation_key(keydir, a.role, a.key, a.generate, a.key_type)?;
    let key = key_of(&signer);
    let role = DelegatedRole {
        name,
        keys: RoleKeys {
            keyids: vec![key.key_id()],
            threshold: Threshold::ONE,
        },
        terminating: a.terminating,
        paths: PathSpec::Patterns(a.paths.to_vec()),
    };
    session.editor.add_delegation(a.parent, role, vec![key])?;
    finish_with_key(session, install.as_deref(), &signer)
}

/// Arguments of `delegate-bins`.
struct BinArgs<'a> {
    bit_length: u8,
    prefix: &'a str,
    parent: &'a str,
    key: Option<&'a Path>,
    generate: bool,
    key_type: KeyType,
}

fn delegate_bins(
    repo: &Path,
    keydir: &Path,
    a: &BinArgs<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<String>, RepoError> {
    if !(1..=9).contains(&a.bit_length) {
        return Err(refused("--bit-length must be 1..=9"));
    }
    RoleName::delegated(Dialect::TufSpec, a.prefix)
        .map_err(|e| refused(format!("prefix {:?}: {e}", a.prefix)))?;
    let mut session = Session::open(repo, keydir, now, false)?;
    match session
        .editor
        .targets(a.parent)
        .and_then(|t| t.delegations.as_ref())
        .map(|d| &d.roles)
    {
        Some(DelegatedRoles::List(l)) if !l.is_empty() => {
            return Err(refused(format!(
                "{} already delegates to {} role(s); hash bins would replace them",
                a.parent,
                l.len()
            )))
        }
        Some(DelegatedRoles::Succinct(s)) => {
            return Err(refused(format!(
                "{} already delegates to hash bins {}-*",
                a.parent, s.name_prefix
            )))
        }
        _ => {}
    }
    let (signer, install) = delegation_key(keydir, a.prefix, a.key, a.generate, a.key_type)?;
    let key = key_of(&signer);
    let bins = SuccinctRoles {
        keys: RoleKeys {
            keyids: vec![key.key_id()],
            threshold: Threshold::ONE,
        },
        bit_length: a.bit_length,
        name_prefix: a.prefix.to_owned(),
    };
    session
        .editor
        .set_succinct_delegation(a.parent, bins, vec![key])?;
    finish_with_key(session, install.as_deref(), &signer)
}

/// Hands `role` (timestamp or snapshot) of a server collection to a new server-held key:
/// the server makes a pending key, the next root names it (signed by the root keys here), and
/// the server signs with it from then on. A local key file for the role is retired.
fn rotate_to_server_key(
    repo: &Path,
    keydir: &Path,
    role: &str,
    now: DateTime<Utc>,
) -> Result<Vec<String>, RepoError> {
    let top = match role {
        "timestamp" => TopRole::Timestamp,
        "snapshot" => TopRole::Snapshot,
        _ => {
            return Err(refused(
                "--server-key is for the timestamp and snapshot roles",
            ))
        }
    };
    let mut session = Session::open(repo, keydir, now, false)?;
    let server = session
        .server
        .as_ref()
        .ok_or_else(|| refused("--server-key needs a server collection URL as REPO"))?;
    let key = server.server_key(role, true).map_err(refused)?;
    let id = key.key_id().to_hex();
    session
        .editor
        .set_role_keys(top, vec![key], Threshold::ONE)?;
    let mut out = session.finish(&[])?;
    out.push(format!("{role} is now signed by the server's key {id}"));
    let old_file = key_file(keydir, role);
    if old_file.exists() {
        let retired = keydir.join(format!("{role}.pem.retired-server"));
        fs::rename(&old_file, &retired).map_err(io(&retired))?;
        out.push(format!("retired old key as {}", retired.display()));
    }
    Ok(out)
}

fn rotate(
    repo: &Path,
    keydir: &Path,
    role: &str,
    new_key: &Path,
    now: DateTime<Utc>,
) -> Result<Vec<String>, RepoError> {
    let top = top_role(role).ok_or_else(|| refused(format!("{role} is not a top-level role")))?;
    let signer = load_key(new_key)?;
    let key = key_of(&signer);
    let mut session = Session::open(repo, keydir, now, false)?;
    let current = &session.editor.root().role(top).keyids;
    if current.len() == 1 && current.contains(&key.key_id()) {
        return Err(refused(format!("{role} already uses that key")));
    }
    let old_file = key_file(keydir, role);
    if !old_file.exists() && top == TopRole::Root {
        return Err(refused(format!(
            "{} is missing: the new root must be signed by the current root key",
            old_file.display()
        )));
    }
    session
        .editor
        .set_role_keys(top, vec![key.clone()], Threshold::ONE)?;
    if top != TopRole::Root {
        // Re-sign the role with its new key.
        session.editor.touch(role);
    }
    let mut out = session.finish(&[&signer])?;
    // The metadata is written: make the new key the role's key file.
    let same = fs::canonicalize(new_key).ok() == fs::canonicalize(&old_file).ok();
    if !same {
        if old_file.exists() {
            let old_id = key_of(&load_key(&old_file)?).key_id().to_hex();
            let retired = keydir.join(format!(
                "{role}.pem.retired-{}",
                old_id.get(..16).unwrap_or(&old_id)
            ));
            fs::rename(&old_file, &retired).map_err(io(&retired))?;
            out.push(format!("retired old key as {}", retired.display()));
        }
        install_key(Some(&old_file), &signer, &mut out)?;
    }
    Ok(out)
}

fn expire(
    repo: &Path,
    keydir: &Path,
    role: &str,
    days: u32,
    allow_expired: bool,
    now: DateTime<Utc>,
) -> Result<Vec<String>, RepoError> {
    let mut session = Session::open(repo, keydir, now, allow_expired)?;
    if top_role(role).is_none() && session.editor.targets(role).is_none() {
        return Err(refused(format!("no role {role} in this repository")));
    }
    let expires = now + Duration::days(i64::from(days));
    if role == "timestamp" {
        return session.finish_timestamp(expires);
    }
    session.editor.set_expires(role, expires);
    session.finish(&[])
}

fn refresh(
    repo: &Path,
    keydir: &Path,
    days: Option<u32>,
    allow_expired: bool,
    now: DateTime<Utc>,
) -> Result<Vec<String>, RepoError> {
    let session = Session::open(repo, keydir, now, allow_expired)?;
    let lifetime = match days {
        Some(d) => Duration::days(i64::from(d)),
        None => Lifetimes::default_for(Dialect::TufSpec).timestamp,
    };
    session.finish_timestamp(now + lifetime)
}

/// Runs one command at `now`.
///
/// # Errors
/// See [`RepoError`]; nothing is written to the repository on error.
pub fn execute(command: Command, now: DateTime<Utc>) -> Result<Vec<String>, RepoError> {
    match command {
        Command::Init {
            repo,
            keys,
            generate_keys,
            key_type,
            expires_days,
        } => init(
            &repo,
            &keys.keys,
            generate_keys,
            key_type,
            &expires_days,
            now,
        ),
        Command::Add {
            repo,
            keys,
            role,
            items,
        } => add(&repo, &keys.keys, &role, &items, now),
        Command::Remove {
            repo,
            keys,
            role,
            paths,
        } => remove(&repo, &keys.keys, &role, &paths, now),
        Command::Delegate {
            repo,
            keys,
            role,
            parent,
            paths,
            terminating,
            key,
            generate_keys,
            key_type,
        } => delegate(
            &repo,
            &keys.keys,
            &DelegateArgs {
                role: &role,
                parent: &parent,
                paths: &paths,
                terminating,
                key: key.as_deref(),
                generate: generate_keys,
                key_type,
            },
            now,
        ),
        Command::DelegateBins {
            repo,
            keys,
            bit_length,
            prefix,
            parent,
            key,
            generate_keys,
            key_type,
        } => delegate_bins(
            &repo,
            &keys.keys,
            &BinArgs {
                bit_length,
                prefix: &prefix,
                parent: &parent,
                key: key.as_deref(),
                generate: generate_keys,
                key_type,
            },
            now,
        ),
        Command::Rotate {
            repo,
            keys,
            role,
            new_key,
            server_key,
        } => match new_key {
            Some(k) if !server_key => rotate(&repo, &keys.keys, &role, &k, now),
            _ => rotate_to_server_key(&repo, &keys.keys, &role, now),
        },
        Command::Expire {
            repo,
            keys,
            role,
            days,
            allow_expired,
        } => expire(&repo, &keys.keys, &role, days, allow_expired, now),
        Command::Refresh {
            repo,
            keys,
            days,
            allow_expired,
        } => refresh(&repo, &keys.keys, days, allow_expired, now),
        Command::GenKey { path, key_type } => {
            let s = key_type.generate();
            write_key(&path, &s)?;
            Ok(vec![format!(
                "generated key {} in {}",
                key_of(&s).key_id().to_hex(),
                path.display()
            )])
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn expires_days_parse() {
        let l = lifetimes(&["30".into(), "timestamp=2".into()]).unwrap();
        assert_eq!(l.root, Duration::days(30));
        assert_eq!(l.timestamp, Duration::days(2));
        assert!(lifetimes(&["x=1".into()]).is_err());
        assert!(lifetimes(&["0".into()]).is_err());
    }

    #[test]
    fn init_add_and_tamper() {
        let tmp = tempfile::tempdir().unwrap();
        let (repo, keys) = (tmp.path().join("repo"), tmp.path().join("keys"));
        let now = Utc::now();
        init(&repo, &keys, true, KeyType::Ed25519, &[], now).unwrap();
        let f = tmp.path().join("f.txt");
        fs::write(&f, b"hello").unwrap();
        add(
            &repo,
            &keys,
            "targets",
            &["d/f.txt".into(), f.to_string_lossy().into_owned()],
            now,
        )
        .unwrap();
        let set = verify_repository(&repo, now).unwrap();
        assert!(set.targets().unwrap().targets.contains_key("d/f.txt"));
        let p = repo.join("metadata/2.targets.json");
        let mut b = fs::read(&p).unwrap();
        b[10] ^= 1;
        fs::write(&p, b).unwrap();
        assert!(matches!(
            refresh(&repo, &keys, None, false, now),
            Err(RepoError::Verify { .. })
        ));
    }
}
