//! Export of a Notary 0.7 collection as a TUF 1.0 repository.
//!
//! [`export`] first verifies the source, as served or cached (`root.json` and the
//! `N.root.json` chain, `timestamp.json`, `snapshot.json`, `targets.json`,
//! `targets/<role>.json`), with tuf-core's [`TrustedSet`] in the Notary dialect. Only then it
//! builds a new TUF 1.0 repository with [`RepoEditor`] holding the targets a Notary client
//! resolves (each in the role that resolves it, with its length, hashes and `custom`), with the
//! same delegation tree, signed with keys the admin chooses. Nothing of the Notary signatures
//! or keys is carried over: the TUF repository is a new trust root (its `1.root.json`).
//!
//! Mapping rules (each applied rule is also stated in [`ExportResult::report`]):
//!
//! - Role names are kept: `targets/releases` stays `targets/releases` (TUF 1.0 allows any
//!   name); its metadata file is `<V>.targets%2Freleases.json` (the percent-encoded name TUF
//!   clients request), and [`write_repository`] also writes `<V>.targets/releases.json` for
//!   static HTTP servers that decode `%2F` before looking up the file.
//! - Notary delegation paths are string prefixes (`""` = everything); TUF 1.0 paths are
//!   shell-style patterns matched per `/`-separated component (`*` never crosses `/`). A
//!   prefix `P` with `k` components becomes `P*`, `P*/*`, `P*/*/*`, … up to the depth of the
//!   deepest exported target path (at least one pattern), with glob metacharacters of `P`
//!   escaped (`*` → `[*]`, `?` → `[?]`, `[` → `[[]`). So `""` → `*`, `*/*`, …; `"qa/"` →
//!   `qa/*`, `qa/*/*`, …; `"qa"` → `qa*`, `qa*/*`, …. Target paths deeper than the deepest
//!   exported one are not covered: re-export (or edit the delegation) before adding them.
//!   `path_hash_prefixes` mean the same in both formats and are kept.
//! - Each delegated role gets the admin's key for it with threshold 1, replacing the Notary
//!   delegation keys and threshold; delegations stay non-terminating (Notary has no
//!   terminating delegations) and keep their order.
//! - Targets: exactly what a Notary client lists; an entry a delegated role lists but may not
//!   sign, or that an earlier role in search order shadows, is left out and reported.
//! - Hashes: Notary's base64 digests are decoded and written as hex (all algorithms kept).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use tuf_core::crypto::{Key, Signer, SoftwareSigner};
use tuf_core::editor::{EditError, InitialKeys, RepoEditor, SignPlan, SignedFile};
use tuf_core::error::UpdateError;
use tuf_core::name::{percent_encode_segment, Gun, NameError, RoleName};
use tuf_core::role::{DelegatedRole, PathSpec, RoleKeys, TargetEntry, Targets, Threshold};
use tuf_core::trusted_set::{RepoConfig, TrustedSet};
use tuf_core::Dialect;

use crate::keystore::pem;

/// Where the Notary metadata comes from and how it is checked.
#[derive(Clone, Debug)]
pub struct ExportSource {
    /// Directory of Notary metadata as served or cached (see the module docs).
    pub dir: PathBuf,
    /// The collection's GUN (root certificates must name it).
    pub gun: Gun,
    /// Reference time for verifying the source (expiry checks); separate from the signing
    /// time of the export.
    pub verify_at: DateTime<Utc>,
    /// `consistent_snapshot` of the exported root (TUF 1.0 default: on).
    pub consistent_snapshot: bool,
}

impl ExportSource {
    /// A source in `dir` for `gun`, verified at `verify_at`, exported with consistent
    /// snapshots.
    pub fn new(dir: impl Into<PathBuf>, gun: Gun, verify_at: DateTime<Utc>) -> Self {
        Self {
            dir: dir.into(),
            gun,
            verify_at,
            consistent_snapshot: true,
        }
    }
}

/// The admin's signing keys for the exported repository (each role gets all of its keys,
/// threshold 1).
#[derive(Debug, Default)]
pub struct ExportKeys {
    /// Root keys.
    pub root: Vec<SoftwareSigner>,
    /// Top-level targets keys.
    pub targets: Vec<SoftwareSigner>,
    /// Snapshot keys.
    pub snapshot: Vec<SoftwareSigner>,
    /// Timestamp keys.
    pub timestamp: Vec<SoftwareSigner>,
    /// One key per delegated role, by role name (e.g. `targets/releases`).
    pub delegations: BTreeMap<String, SoftwareSigner>,
}

/// One exported target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportedTarget {
    /// Target path.
    pub path: String,
    /// TUF role that lists it.
    pub role: String,
    /// Length, hashes and `custom`, as in the source.
    pub entry: TargetEntry,
}

/// The signed TUF 1.0 repository and what was mapped.
#[derive(Clone, Debug)]
pub struct ExportResult {
    /// Signed metadata in dependency order (root, delegated roles, targets, snapshot,
    /// timestamp).
    pub files: Vec<SignedFile>,
    /// Human-readable mapping report, one line per fact.
    pub report: Vec<String>,
    /// Every exported target.
    pub targets: Vec<ExportedTarget>,
    /// `consistent_snapshot` of the exported root.
    pub consistent_snapshot: bool,
}

/// Why an export failed. Nothing is written when it fails.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The Notary source did not verify.
    #[error("source {file} rejected: {source}")]
    Verify {
        /// The rejected file (relative to the source directory).
        file: String,
        /// The trusted set's reason.
        source: Box<UpdateError>,
    },
    /// No key was given for a delegated role of the source.
    #[error("no signing key given for delegated role {role}")]
    MissingDelegationKey {
        /// The role.
        role: String,
    },
    /// A name could not be mapped.
    #[error("{0}")]
    Name(#[from] NameError),
    /// The editor refused (e.g. a role without keys).
    #[error(transparent)]
    Edit(Box<EditError>),
    /// The output cannot be written as asked.
    #[error("{}: {reason}", path.display())]
    Output {
        /// The output path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A key file is unusable.
    #[error("key file {}: {reason}", path.display())]
    KeyFile {
        /// The key file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl From<EditError> for ExportError {
    fn from(e: EditError) -> Self {
        Self::Edit(Box::new(e))
    }
}

fn read(dir: &Path, file: &str) -> Result<Vec<u8>, ExportError> {
    let path = dir.join(file);
    fs::read(&path).map_err(|source| ExportError::Io { path, source })
}

fn rejected(file: &str) -> impl FnOnce(UpdateError) -> ExportError + '_ {
    move |source| ExportError::Verify {
        file: file.to_owned(),
        source: Box::new(source),
    }
}

/// Verifies the Notary source like a fresh client (root chain from `1.root.json` if present,
/// else `root.json`; timestamp, snapshot, targets, every delegated role in the snapshot) and
/// returns the trusted set.
///
/// # Errors
/// [`ExportError::Verify`] naming the first rejected file, [`ExportError::Io`].
pub fn verify_source(source: &ExportSource) -> Result<TrustedSet, ExportError> {
    let dir = &source.dir;
    let config = RepoConfig::notary(source.gun.clone());
    let first = if dir.join("1.root.json").is_file() {
        "1.root.json"
    } else {
        "root.json"
    };
    let mut set =
        TrustedSet::new(config, &read(dir, first)?, source.verify_at).map_err(rejected(first))?;
    loop {
        let file = format!("{}.root.json", set.root().header.version.saturating_add(1));
        if !dir.join(&file).is_file() {
            break;
        }
        let bytes = read(dir, &file)?;
        set.update_root(&bytes).map_err(rejected(&file))?;
    }
    if first != "root.json" && dir.join("root.json").is_file() {
        let served = read(dir, "root.json")?;
        if served != set.root().raw_bytes() {
            set.update_root(&served).map_err(rejected("root.json"))?;
        }
    }
    set.ensure_root_fresh().map_err(rejected("root.json"))?;
    set.update_timestamp(&read(dir, "timestamp.json")?)
        .map_err(rejected("timestamp.json"))?;
    set.update_snapshot(&read(dir, "snapshot.json")?)
        .map_err(rejected("snapshot.json"))?;
    set.update_targets(&read(dir, "targets.json")?)
        .map_err(rejected("targets.json"))?;
    let max = set.config().limits.max_listed_roles;
    let mut loaded: u32 = 0;
    while let Some((delegator, role)) = set.pending_delegations().into_iter().next() {
        if loaded >= max {
            return Err(ExportError::Verify {
                file: format!("{role}.json"),
                source: Box::new(UpdateError::OutOfOrder {
                    role,
                    reason: "too many delegated roles",
                }),
            });
        }
        // Notary role names are `targets/...` with safe segments (checked when parsed).
        let file = format!("{role}.json");
        let bytes = read(dir, &file)?;
        set.update_delegated(&delegator, &role, &bytes)
            .map_err(rejected(&file))?;
        loaded += 1;
    }
    Ok(set)
}

/// The trusted metadata of `role` (top-level `targets` or a loaded delegated role).
fn role_meta<'a>(set: &'a TrustedSet, role: &str) -> Option<&'a Targets> {
    if role == "targets" {
        return set.targets().map(|v| &**v);
    }
    set.delegated_roles()
        .find(|((_, r), _)| r == role)
        .map(|(_, v)| &**v)
}

/// Delegated role names of a verified source, parents before children.
pub fn delegated_role_names(set: &TrustedSet) -> Vec<String> {
    let mut out = Vec::new();
    let mut queue = vec!["targets".to_owned()];
    let mut seen = BTreeSet::new();
    while let Some(parent) = queue.pop() {
        if !seen.insert(parent.clone()) {
            continue;
        }
        let Some(meta) = role_meta(set, &parent) else {
            continue;
        };
        for d in meta.delegated_roles() {
            out.push(d.name.as_str().to_owned());
            queue.insert(0, d.name.as_str().to_owned());
        }
    }
    out
}

/// Escapes TUF glob metacharacters so that `s` matches itself literally.
fn escape_glob(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '*' | '?' | '[' => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            _ => out.push(c),
        }
    }
    out
}

/// TUF 1.0 patterns covering every path of at most `max_depth` components that starts with
/// the Notary prefix `prefix` (see the module docs).
pub fn prefix_to_globs(prefix: &str, max_depth: usize) -> Vec<String> {
    let depth = prefix.split('/').count();
    let base = format!("{}*", escape_glob(prefix));
    (depth..=depth.max(max_depth))
        .map(|d| format!("{base}{}", "/*".repeat(d - depth)))
        .collect()
}

/// The TUF 1.0 key of a signer.
pub(crate) fn key_of(s: &SoftwareSigner) -> Key {
    Key::from_public_key(Dialect::TufSpec, s.public_key().clone())
}

fn key_ids(keys: &[SoftwareSigner]) -> String {
    keys.iter()
        .map(|k| key_of(k).key_id().to_hex())
        .collect::<Vec<_>>()
        .join(", ")
}

fn quoted(list: &[String]) -> String {
    list.iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Verifies the Notary collection in `source` (at `source.verify_at`), then builds and signs
/// (at `now`) a TUF 1.0 repository with the same targets and delegation tree, signed with
/// `keys`. See the module docs for the mapping rules.
///
/// # Errors
/// [`ExportError::Verify`] when the source does not verify (nothing is built),
/// [`ExportError::MissingDelegationKey`], [`ExportError::Edit`] (e.g. a role without keys).
pub fn export(
    source: ExportSource,
    keys: ExportKeys,
    now: DateTime<Utc>,
) -> Result<ExportResult, ExportError> {
    let set = verify_source(&source)?;
    let mut report = Vec::new();
    report.push(format!(
        "source: Notary collection {} verified at {}: root v{}, timestamp v{}, snapshot v{}, \
         targets v{}, {} delegated role(s) loaded",
        source.gun,
        source.verify_at.to_rfc3339(),
        set.root().header.version,
        set.timestamp().map_or(0, |t| t.header.version),
        set.snapshot().map_or(0, |s| s.header.version),
        set.targets().map_or(0, |t| t.header.version),
        set.delegated_roles().count(),
    ));

    let listed: Vec<ExportedTarget> = set
        .list_targets()
        .into_iter()
        .map(|t| ExportedTarget {
            path: t.path.to_owned(),
            role: t.role,
            entry: t.entry.clone(),
        })
        .collect();
    let max_depth = listed
        .iter()
        .map(|t| t.path.split('/').count())
        .max()
        .unwrap_or(1);

    let mut editor = RepoEditor::create(
        Dialect::TufSpec,
        InitialKeys {
            root: keys.root.iter().map(key_of).collect(),
            targets: keys.targets.iter().map(key_of).collect(),
            snapshot: keys.snapshot.iter().map(key_of).collect(),
            timestamp: keys.timestamp.iter().map(key_of).collect(),
        },
        now,
    );
    editor.set_consistent_snapshot(source.consistent_snapshot);
    report.push(format!(
        "root: Notary root v{} (X.509 certificate keys) -> new TUF root v1 with root key(s) [{}], \
         targets [{}], snapshot [{}], timestamp [{}], each threshold 1; consistent_snapshot {}; \
         the Notary root history is not carried over (clients trust the new 1.root.json)",
        set.root().header.version,
        key_ids(&keys.root),
        key_ids(&keys.targets),
        key_ids(&keys.snapshot),
        key_ids(&keys.timestamp),
        source.consistent_snapshot,
    ));

    // Delegations, parents before children, in each parent's order.
    let mut used_keys: BTreeSet<&str> = BTreeSet::new();
    let mut queue = vec!["targets".to_owned()];
    let mut seen = BTreeSet::new();
    while let Some(parent) = queue.pop() {
        if !seen.insert(parent.clone()) {
            continue;
        }
        let Some(meta) = role_meta(&set, &parent) else {
            continue;
        };
        for d in meta.delegated_roles() {
            let name = d.name.as_str();
            let signer =
                keys.delegations
                    .get(name)
                    .ok_or_else(|| ExportError::MissingDelegationKey {
                        role: name.to_owned(),
                    })?;
            used_keys.insert(name);
            let key = key_of(signer);
            let (paths, mapping) = match &d.paths {
                PathSpec::Patterns(prefixes) => {
                    let mut globs: Vec<String> = Vec::new();
                    let mut lines = Vec::new();
                    for p in prefixes {
                        let g = prefix_to_globs(p, max_depth);
                        lines.push(format!("prefix {p:?} -> [{}]", quoted(&g)));
                        for x in g {
                            if !globs.contains(&x) {
                                globs.push(x);
                            }
                        }
                    }
                    if lines.is_empty() {
                        lines.push("no paths -> no patterns (covers nothing)".into());
                    }
                    (PathSpec::Patterns(globs), lines.join("; "))
                }
                PathSpec::HashPrefixes(h) => (
                    PathSpec::HashPrefixes(h.clone()),
                    format!("path_hash_prefixes [{}] kept", quoted(h)),
                ),
            };
            report.push(format!(
                "delegation {parent} -> {name}: role name kept; Notary threshold {} of {} key(s) \
                 -> threshold 1 with key {}; {mapping} (patterns cover paths up to {max_depth} \
                 component(s))",
                d.keys.threshold.get(),
                d.keys.keyids.len(),
                key.key_id().to_hex(),
            ));
            let role = DelegatedRole {
                name: RoleName::delegated(Dialect::TufSpec, name)?,
                keys: RoleKeys {
                    keyids: vec![key.key_id()],
                    threshold: Threshold::ONE,
                },
                terminating: d.terminating,
                paths,
            };
            editor.add_delegation(&parent, role, vec![key])?;
            if set.delegated(&parent, name).is_some() {
                queue.insert(0, name.to_owned());
            } else {
                report.push(format!(
                    "delegation {name}: no metadata in the source's snapshot; exported as an \
                     empty role"
                ));
            }
        }
    }
    for role in keys.delegations.keys() {
        if !used_keys.contains(role.as_str()) {
            report.push(format!(
                "key for {role} unused: the source does not delegate to it"
            ));
        }
    }

    // Targets: what a Notary client resolves, each in the role that resolves it.
    let mut by_role: BTreeMap<&str, Vec<(String, TargetEntry)>> = BTreeMap::new();
    for t in &listed {
        by_role
            .entry(t.role.as_str())
            .or_default()
            .push((t.path.clone(), t.entry.clone()));
        let sha = t.entry.sha256_hex().unwrap_or_else(|| "-".into());
        let custom = if t.entry.custom.is_some() {
            ", custom kept"
        } else {
            ""
        };
        let algs: Vec<&str> = t.entry.hashes.keys().map(String::as_str).collect();
        report.push(format!(
            "target {:?} in {}: {} bytes, sha256 {sha}, hashes [{}] base64 -> hex{custom}",
            t.path,
            t.role,
            t.entry.length,
            algs.join(", "),
        ));
    }
    for (role, entries) in by_role {
        editor.add_targets(role, entries)?;
    }
    let exported: BTreeSet<(&str, &str)> = listed
        .iter()
        .map(|t| (t.path.as_str(), t.role.as_str()))
        .collect();
    let mut roles = vec!["targets".to_owned()];
    roles.extend(delegated_role_names(&set));
    for role in &roles {
        let Some(meta) = role_meta(&set, role) else {
            continue;
        };
        for path in meta.targets.keys() {
            if !exported.contains(&(path.as_str(), role.as_str())) {
                report.push(format!(
                    "not exported: {path:?} listed by {role}, which a Notary client does not \
                     resolve it from (outside the role's paths, or shadowed by an earlier role)"
                ));
            }
        }
    }

    let signers: Vec<&dyn Signer> = keys
        .root
        .iter()
        .chain(&keys.targets)
        .chain(&keys.snapshot)
        .chain(&keys.timestamp)
        .chain(keys.delegations.values())
        .map(|s| s as &dyn Signer)
        .collect();
    let files = editor.sign(&signers, now, SignPlan::default())?;
    for f in &files {
        report.push(format!(
            "signed {} v{} ({} bytes) at {}",
            f.role,
            f.version,
            f.bytes.len(),
            now.to_rfc3339()
        ));
    }
    Ok(ExportResult {
        files,
        report,
        targets: listed,
        consistent_snapshot: source.consistent_snapshot,
    })
}

/// The relative paths (under `metadata/`) a file is written to: [`SignedFile::tuf_file_names`],
/// plus, for a role name containing `/`, the same name with the `/` kept (what a static HTTP
/// server that decodes `%2F` looks up).
pub(crate) fn output_names(f: &SignedFile, consistent: bool) -> Vec<String> {
    let mut names = f.tuf_file_names(consistent);
    let safe = f
        .role
        .split('/')
        .all(|s| !s.is_empty() && s != "." && s != "..");
    if f.role.contains('/') && safe {
        let enc = percent_encode_segment(&f.role);
        let decoded: Vec<String> = names.iter().map(|n| n.replace(&enc, &f.role)).collect();
        names.extend(decoded);
    }
    names
}

/// Maps an I/O error on `path` to [`ExportError::Io`].
pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Io {
        path: path.to_owned(),
        source,
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(io(parent))?;
    }
    let mut f = fs::File::create(path).map_err(io(path))?;
    f.write_all(bytes).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

/// Writes the exported metadata to `dir/metadata/` under the names TUF 1.0 clients request
/// (`1.root.json`, `root.json`, `timestamp.json`, `<V>.snapshot.json`, `<V>.targets.json`,
/// `<V>.<percent-encoded role>.json`, or unversioned names without consistent snapshots; see
/// the module docs for role names with `/`). Atomic: the files are written to a staging
/// directory that is renamed to `metadata/` at the end. Returns the written paths.
///
/// # Errors
/// `metadata/` already exists, `consistent` differs from the exported root's setting, or an
/// I/O error.
pub fn write_repository(
    dir: &Path,
    result: &ExportResult,
    consistent: bool,
) -> Result<Vec<PathBuf>, ExportError> {
    let out = dir.join("metadata");
    if consistent != result.consistent_snapshot {
        return Err(ExportError::Output {
            path: out,
            reason: format!(
                "the exported root says consistent_snapshot {}, not {consistent}",
                result.consistent_snapshot
            ),
        });
    }
    if out.exists() {
        return Err(ExportError::Output {
            path: out,
            reason: "already exists; refusing to overwrite".into(),
        });
    }
    fs::create_dir_all(dir).map_err(io(dir))?;
    let staging = dir.join(format!(".metadata.staging-{}", std::process::id()));
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(io(&staging))?;
    }
    fs::create_dir(&staging).map_err(io(&staging))?;
    let written = (|| {
        let mut written = Vec::new();
        for f in &result.files {
            for name in output_names(f, consistent) {
                write_synced(&staging.join(&name), &f.bytes)?;
                written.push(out.join(name));
            }
        }
        fs::rename(&staging, &out).map_err(io(&out))?;
        if let Ok(d) = fs::File::open(dir) {
            // Best effort: persist the rename.
            let _ = d.sync_all();
        }
        Ok(written)
    })();
    if written.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    written
}

/// The key file of `role` in a key directory: `root.pem`, `targets.pem`, `snapshot.pem`,
/// `timestamp.pem`, or `delegation.<percent-encoded role>.pem` for a delegated role.
pub fn key_file(dir: &Path, role: &str) -> PathBuf {
    match role {
        "root" | "targets" | "snapshot" | "timestamp" => dir.join(format!("{role}.pem")),
        _ => dir.join(format!("delegation.{}.pem", percent_encode_segment(role))),
    }
}

/// Loads an unencrypted PKCS#8 PEM (`PRIVATE KEY`) Ed25519 or P-256 key.
///
/// # Errors
/// [`ExportError::KeyFile`], [`ExportError::Io`].
pub fn load_key(path: &Path) -> Result<SoftwareSigner, ExportError> {
    let bad = |reason: String| ExportError::KeyFile {
        path: path.to_owned(),
        reason,
    };
    let text = fs::read_to_string(path).map_err(io(path))?;
    let block = pem::decode_first(&text).map_err(bad)?;
    if block.label != "PRIVATE KEY" {
        return Err(bad(format!(
            "PEM label {:?}, expected \"PRIVATE KEY\" (unencrypted PKCS#8)",
            block.label
        )));
    }
    SoftwareSigner::from_pkcs8_der(&block.der).map_err(|e| bad(e.to_string()))
}

/// Writes a new Ed25519 key as unencrypted PKCS#8 PEM with mode 0600 (never overwrites).
///
/// # Errors
/// [`ExportError::Io`] (including when the file exists).
pub fn generate_key(path: &Path) -> Result<SoftwareSigner, ExportError> {
    let signer = SoftwareSigner::generate_ed25519();
    write_key(path, &signer)?;
    Ok(signer)
}

/// Writes `signer` as unencrypted PKCS#8 PEM with mode 0600 (never overwrites).
///
/// # Errors
/// [`ExportError::Io`] (including when the file exists).
pub(crate) fn write_key(path: &Path, signer: &SoftwareSigner) -> Result<(), ExportError> {
    let text = zeroize::Zeroizing::new(pem::encode("PRIVATE KEY", &[], &signer.to_pkcs8_der()));
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(io(path))?;
    f.write_all(text.as_bytes()).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

/// Loads the export keys for the top-level roles and `delegated` roles from `dir` (see
/// [`key_file`]); with `generate`, missing files are created first (the directory too, mode
/// 0700). Returns the keys and one line per generated file.
///
/// # Errors
/// A missing key file without `generate`, an unusable key file, I/O errors.
pub fn load_keys(
    dir: &Path,
    delegated: &[String],
    generate: bool,
) -> Result<(ExportKeys, Vec<String>), ExportError> {
    if generate && !dir.exists() {
        fs::create_dir_all(dir).map_err(io(dir))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io(dir))?;
        }
    }
    let mut notes = Vec::new();
    let mut get = |role: &str| -> Result<SoftwareSigner, ExportError> {
        let path = key_file(dir, role);
        if generate && !path.exists() {
            let s = generate_key(&path)?;
            notes.push(format!(
                "generated {role} key {} in {}",
                key_of(&s).key_id().to_hex(),
                path.display()
            ));
            return Ok(s);
        }
        load_key(&path)
    };
    let mut keys = ExportKeys {
        root: vec![get("root")?],
        targets: vec![get("targets")?],
        snapshot: vec![get("snapshot")?],
        timestamp: vec![get("timestamp")?],
        delegations: BTreeMap::new(),
    };
    for role in delegated {
        keys.delegations.insert(role.clone(), get(role)?);
    }
    Ok((keys, notes))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use tuf_core::path_match::glob_matches;

    #[test]
    fn prefixes_map_to_globs_per_depth() {
        assert_eq!(prefix_to_globs("", 3), ["*", "*/*", "*/*/*"]);
        assert_eq!(prefix_to_globs("qa/", 3), ["qa/*", "qa/*/*"]);
        assert_eq!(prefix_to_globs("qa", 1), ["qa*"]);
        assert_eq!(prefix_to_globs("a/b/c/", 1), ["a/b/c/*"]);
        assert_eq!(prefix_to_globs("x*[?", 1), ["x[*][[][?]*"]);
    }

    #[test]
    fn globs_cover_exactly_the_prefixed_paths() {
        let paths = [
            "latest",
            "qa/x",
            "qa/x/y",
            "qa",
            "qab/c",
            "q",
            "release/1.0",
        ];
        for prefix in ["", "qa/", "qa", "release/", "x*[?"] {
            let globs = prefix_to_globs(prefix, 3);
            for p in paths {
                let glob = globs.iter().any(|g| glob_matches(g, p));
                assert_eq!(glob, p.starts_with(prefix), "{prefix:?} {p:?} {globs:?}");
            }
        }
        assert!(glob_matches(&prefix_to_globs("x*[?", 1)[0], "x*[?tail"));
    }
}
