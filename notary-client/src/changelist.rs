//! The file changelist of a repository (`tuf/<gun>/changelist/`), byte-compatible with Go
//! `notary` 0.7's `FileChangelist`.
//!
//! Each staged change is one file named `<%020d unix nanos>_<uuid v4>.change` holding Go's
//! `json.Marshal` of a `TUFChange`:
//!
//! ```json
//! {"action":"create","role":"targets","type":"target","path":"v1","data":"<base64>"}
//! ```
//!
//! `data` is a Go `[]byte`: standard base64 with padding, or `null` when empty (Go writes
//! `null` for deletes, witnesses and delegation removals). Strings are escaped the way Go's
//! encoder does it (`<`, `>`, `&`, U+2028 and U+2029 as `\u....`), so a file written here is
//! identical to the one Go would write for the same change.
//!
//! Changes are ordered by file name. Go's `List` (used by `notary status`) skips files it cannot
//! parse with a warning, while its iterator (used by `publish`) fails on them; see
//! [`Changelist::list_lenient`] and [`Changelist::list`]. Indices for `reset -n` count every
//! non-directory entry, like Go's `Remove`. The only entries ignored are our own leftover
//! temporary files (`.<name>.<uuid>.tmp`, from an interrupted atomic write).

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::trustdir::{create_private_dir_all, write_private_file, RepoDir, TrustDirError};

/// Errors from the changelist.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChangelistError {
    /// A filesystem operation failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Writing through the trust directory failed.
    #[error(transparent)]
    TrustDir(#[from] TrustDirError),
    /// A change file that is not a valid `TUFChange`.
    #[error("invalid change file {}: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

fn io_err(op: &'static str, path: &Path) -> impl FnOnce(io::Error) -> ChangelistError + use<> {
    let path = path.to_path_buf();
    move |source| ChangelistError::Io { op, path, source }
}

/// What a change does (Go `changelist.ActionCreate` / `ActionUpdate` / `ActionDelete`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// `"create"`.
    Create,
    /// `"update"`.
    Update,
    /// `"delete"`.
    Delete,
}

impl Action {
    /// The JSON / status-table spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a change applies to (Go `changelist.Type*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// `"target"`: add or remove a target in a targets role.
    Target,
    /// `"delegation"`: create, update or delete a delegation.
    Delegation,
    /// `"witness"`: re-sign a delegated role as is.
    Witness,
    /// `"role"`: a root-role key change (Go `TypeBaseRole`; written by Go's key rotation).
    #[serde(rename = "role")]
    BaseRole,
}

impl ChangeKind {
    /// The JSON / status-table spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Target => "target",
            Self::Delegation => "delegation",
            Self::Witness => "witness",
            Self::BaseRole => "role",
        }
    }
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One staged change (Go `changelist.TUFChange`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// `action`.
    pub action: Action,
    /// `role`: the role the change applies to (`targets`, `targets/releases`, `targets/*`).
    #[serde(rename = "role", default, deserialize_with = "null_as_default")]
    pub scope: String,
    /// `type`.
    #[serde(rename = "type")]
    pub kind: ChangeKind,
    /// `path`: the target name; empty for delegations and witnesses.
    #[serde(default, deserialize_with = "null_as_default")]
    pub path: String,
    /// `data`: the payload ([`target_data`], [`DelegationChange`]), base64 in JSON, `null`
    /// when empty.
    #[serde(
        default,
        serialize_with = "ser_go_bytes_or_null",
        deserialize_with = "de_go_bytes"
    )]
    pub data: Vec<u8>,
}

impl Change {
    /// The file contents Go would write for this change (`json.Marshal(TUFChange)`).
    pub fn to_go_json(&self) -> Vec<u8> {
        // Serialising a plain struct of strings and bytes cannot fail.
        let raw = serde_json::to_vec(self).unwrap_or_default();
        go_escape_compact(&raw, true)
    }

    /// Parses a change file's contents.
    ///
    /// # Errors
    /// The JSON error (bad JSON, unknown `action` or `type`, bad base64 in `data`).
    pub fn from_json(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

/// A changelist directory: `tuf/<gun>/changelist/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changelist {
    dir: PathBuf,
}

/// The result of a lenient listing: the changes that parsed, and an error for each file that
/// did not (Go logs those as warnings and skips them).
#[derive(Debug, Default)]
pub struct Listing {
    /// Parsed changes, in file-name order.
    pub changes: Vec<Change>,
    /// One [`ChangelistError::Corrupt`] (or I/O error) per skipped file.
    pub skipped: Vec<ChangelistError>,
}

impl Changelist {
    /// Opens (creating it with mode 0700 if needed, as Go's `NewFileChangelist` does) the
    /// changelist of `repo`.
    ///
    /// # Errors
    /// [`ChangelistError::TrustDir`] if the directory cannot be created.
    pub fn open(repo: &RepoDir) -> Result<Self, ChangelistError> {
        let dir = repo.changelist_dir();
        create_private_dir_all(&dir)?;
        Ok(Self { dir })
    }

    /// The changelist directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Names of all non-directory entries, sorted by name (Go `getFileNames`).
    fn file_names(&self) -> Result<Vec<String>, ChangelistError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err("reading directory", &self.dir)(e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_err("reading directory", &self.dir))?;
            // Go uses Lstat: a symlink is listed as a file.
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_our_temp_file(&name) {
                continue;
            }
            names.push(name);
        }
        names.sort();
        Ok(names)
    }

    fn read_change(&self, name: &str) -> Result<Change, ChangelistError> {
        let path = self.dir.join(name);
        let bytes = fs::read(&path).map_err(io_err("reading", &path))?;
        Change::from_json(&bytes).map_err(|e| ChangelistError::Corrupt {
            path,
            reason: e.to_string(),
        })
    }

    /// All changes in order, failing on the first file that cannot be read or parsed (what
    /// Go's changelist iterator does during `publish`).
    ///
    /// # Errors
    /// [`ChangelistError::Corrupt`] naming the bad file, or an I/O error.
    pub fn list(&self) -> Result<Vec<Change>, ChangelistError> {
        self.file_names()?
            .iter()
            .map(|n| self.read_change(n))
            .collect()
    }

    /// All changes that parse, in order, plus an error per skipped file (Go's `List`, used by
    /// `notary status`).
    ///
    /// # Errors
    /// An I/O error if the directory itself cannot be read.
    pub fn list_lenient(&self) -> Result<Listing, ChangelistError> {
        let mut listing = Listing::default();
        for name in self.file_names()? {
            match self.read_change(&name) {
                Ok(c) => listing.changes.push(c),
                Err(e) => listing.skipped.push(e),
            }
        }
        Ok(listing)
    }

    /// Whether there are no (parseable) staged changes, as `notary status` decides it.
    ///
    /// # Errors
    /// An I/O error if the directory cannot be read.
    pub fn is_empty(&self) -> Result<bool, ChangelistError> {
        Ok(self.list_lenient()?.changes.is_empty())
    }

    /// Stages `change`: writes it atomically (mode 0600) as
    /// `<%020d unix nanos>_<uuid>.change` and returns the file name. The timestamp is bumped
    /// past the newest existing entry if the clock has not moved, so files sort in the order
    /// they were added.
    ///
    /// # Errors
    /// An I/O error if the file cannot be written.
    pub fn add(&self, change: &Change) -> Result<String, ChangelistError> {
        create_private_dir_all(&self.dir)?;
        let mut nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let newest = self
            .file_names()?
            .iter()
            .filter_map(|n| parse_change_file_name(n))
            .max();
        if let Some(newest) = newest {
            if newest >= nanos {
                nanos = newest.saturating_add(1);
            }
        }
        let name = change_file_name(nanos, &uuid::Uuid::new_v4());
        write_private_file(&self.dir.join(&name), &change.to_go_json())?;
        Ok(name)
    }

    /// Removes every staged change (Go `Clear`: every file in the directory).
    ///
    /// # Errors
    /// An I/O error naming the file that could not be removed.
    pub fn clear(&self) -> Result<(), ChangelistError> {
        for name in self.file_names()? {
            let path = self.dir.join(&name);
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err("removing", &path)(e)),
            }
        }
        Ok(())
    }

    /// Removes the changes at `indexes` (positions in file-name order over every non-directory
    /// entry, as Go's `Remove`; out-of-range indexes are ignored), for `notary reset -n`.
    ///
    /// # Errors
    /// An I/O error naming the file that could not be removed.
    pub fn remove(&self, indexes: &[usize]) -> Result<(), ChangelistError> {
        for (i, name) in self.file_names()?.iter().enumerate() {
            if !indexes.contains(&i) {
                continue;
            }
            let path = self.dir.join(name);
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err("removing", &path)(e)),
            }
        }
        Ok(())
    }
}

/// Whether `name` is one of the temporary files [`write_private_file`] creates before the
/// rename (`.<name>.<uuid>.tmp`); a crash can leave one behind and it must not break `publish`.
fn is_our_temp_file(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".tmp")
}

/// The file name Go gives a change: `fmt.Sprintf("%020d_%s.change", UnixNano, uuid)`.
pub fn change_file_name(unix_nanos: u128, id: &uuid::Uuid) -> String {
    format!("{unix_nanos:020}_{}.change", id.hyphenated())
}

/// The timestamp of a file name in Go's format, or `None` for any other name.
pub fn parse_change_file_name(name: &str) -> Option<u128> {
    let stem = name.strip_suffix(".change")?;
    let (nanos, id) = stem.split_once('_')?;
    if nanos.len() < 20 || !nanos.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    uuid::Uuid::try_parse(id).ok()?;
    nanos.parse().ok()
}

// ---------------------------------------------------------------------------------------------
// Payloads

/// A target's metadata as staged by `notary add` (Go `data.FileMeta`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetData {
    /// `length`.
    pub length: u64,
    /// `hashes`: algorithm name → digest bytes (base64 in JSON).
    #[serde(default, serialize_with = "ser_hashes", deserialize_with = "de_hashes")]
    pub hashes: BTreeMap<String, Vec<u8>>,
    /// `custom`: arbitrary JSON, omitted when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<serde_json::Value>,
}

/// The `data` of a target change, exactly as Go builds it:
/// `{"length":15,"hashes":{"sha256":"<b64>","sha512":"<b64>"},"custom":...}` — fields in that
/// order, hash names sorted, `custom` omitted when `None`.
pub fn target_data(
    length: u64,
    hashes: &BTreeMap<String, Vec<u8>>,
    custom: Option<&serde_json::Value>,
) -> Vec<u8> {
    let meta = TargetData {
        length,
        hashes: hashes.clone(),
        custom: custom.cloned(),
    };
    let raw = serde_json::to_vec(&meta).unwrap_or_default();
    go_escape_compact(&raw, true)
}

/// Like [`target_data`] with `custom` given as the raw bytes of a JSON document (what Go does
/// with `--custom <file>`: a `json.RawMessage` keeps the document's key order and is only
/// compacted and HTML-escaped).
///
/// # Errors
/// The JSON error if `custom` is not valid JSON.
pub fn target_data_raw(
    length: u64,
    hashes: &BTreeMap<String, Vec<u8>>,
    custom: Option<&[u8]>,
) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = target_data(length, hashes, None);
    if let Some(raw) = custom {
        serde_json::from_slice::<serde::de::IgnoredAny>(raw)?;
        out.pop(); // the closing '}'
        out.extend_from_slice(b",\"custom\":");
        out.extend_from_slice(&go_escape_compact(raw, false));
        out.push(b'}');
    }
    Ok(out)
}

/// Parses the `data` of a target change.
///
/// # Errors
/// The JSON error if it is not a `FileMeta` object.
pub fn parse_target_data(data: &[u8]) -> Result<TargetData, serde_json::Error> {
    serde_json::from_slice(data)
}

/// A public key inside a delegation change (Go `data.TUFKey` in a `data.KeyList`):
/// `{"keytype":"ecdsa-x509","keyval":{"public":"<b64>","private":null}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeKey {
    /// `keytype` (`ecdsa`, `ecdsa-x509`, `rsa-x509`, `ed25519`, ...).
    pub keytype: String,
    /// `keyval`.
    pub keyval: ChangeKeyVal,
}

/// The `keyval` of a [`ChangeKey`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeKeyVal {
    /// `public`: the public key (or certificate) bytes, base64 in JSON.
    #[serde(
        serialize_with = "ser_go_bytes_or_null",
        deserialize_with = "de_go_bytes"
    )]
    pub public: Vec<u8>,
    /// `private`: always `null` for keys in a changelist.
    #[serde(
        default,
        serialize_with = "ser_opt_go_bytes",
        deserialize_with = "de_opt_go_bytes"
    )]
    pub private: Option<Vec<u8>>,
}

/// The `data` of a delegation change (Go `changelist.TUFDelegation`). Every field is
/// `omitempty` in Go and is omitted here when empty/zero/false; JSON names in Go's order:
/// `new_name`, `threshold`, `add_keys`, `remove_keys`, `add_paths`, `remove_paths`,
/// `clear_paths`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegationChange {
    /// `new_name`: rename target (unused by the 0.7 CLI).
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub new_name: String,
    /// `threshold`.
    #[serde(
        rename = "threshold",
        default,
        skip_serializing_if = "is_zero",
        deserialize_with = "null_as_default"
    )]
    pub new_threshold: i64,
    /// `add_keys`: a Notary key list.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub add_keys: Vec<ChangeKey>,
    /// `remove_keys`: key IDs.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub remove_keys: Vec<String>,
    /// `add_paths` (`[""]` means all paths).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub add_paths: Vec<String>,
    /// `remove_paths`.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub remove_paths: Vec<String>,
    /// `clear_paths`.
    #[serde(
        rename = "clear_paths",
        default,
        skip_serializing_if = "is_false",
        deserialize_with = "null_as_default"
    )]
    pub clear_all_paths: bool,
}

impl DelegationChange {
    /// The `data` bytes Go would write (`json.Marshal(&TUFDelegation{...})`).
    pub fn to_go_json(&self) -> Vec<u8> {
        let raw = serde_json::to_vec(self).unwrap_or_default();
        go_escape_compact(&raw, true)
    }
}

/// Parses the `data` of a delegation change.
///
/// # Errors
/// The JSON error if it is not a `TUFDelegation` object.
pub fn parse_delegation_data(data: &[u8]) -> Result<DelegationChange, serde_json::Error> {
    serde_json::from_slice(data)
}

// ---------------------------------------------------------------------------------------------
// `notary status`

/// The table `notary status` prints after `Unpublished changes for <gun>:\n\n`, byte for byte
/// as Go's `tabwriter` (min width 4, padding 4, spaces) lays it out: every column but the last
/// is padded to its widest cell (in characters) plus 4 spaces; the `PATH` column is not padded,
/// so delegation and witness rows end in the 4 spaces after `TYPE`.
pub fn status_table(changes: &[Change]) -> String {
    let mut rows: Vec<[String; 5]> = vec![
        ["#", "ACTION", "SCOPE", "TYPE", "PATH"].map(str::to_owned),
        ["-", "------", "-----", "----", "----"].map(str::to_owned),
    ];
    for (i, c) in changes.iter().enumerate() {
        rows.push([
            i.to_string(),
            c.action.as_str().to_owned(),
            c.scope.clone(),
            c.kind.as_str().to_owned(),
            c.path.clone(),
        ]);
    }
    let mut widths = [0usize; 4];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count() + 4).max(4);
        }
    }
    let mut out = String::new();
    for row in &rows {
        for (w, cell) in widths.iter().zip(row.iter()) {
            out.push_str(cell);
            out.push_str(&" ".repeat(w - cell.chars().count()));
        }
        out.push_str(&row[4]);
        out.push('\n');
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Go JSON compatibility helpers

/// Rewrites compact-or-not JSON into what Go's encoder emits: whitespace outside strings is
/// dropped, `<` `>` `&` U+2028 U+2029 inside strings become `\u003c` `\u003e` `\u0026`
/// `\u2028` `\u2029`, and (when `short_escapes_to_go` is set, i.e. the input came from
/// serde_json) `\b` / `\f` become `\u0008` / `\u000c` as Go 1.19 writes them.
fn go_escape_compact(input: &[u8], short_escapes_to_go: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut in_string = false;
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if !in_string {
            if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                out.push(b);
            }
            if b == b'"' {
                in_string = true;
            }
            i += 1;
            continue;
        }
        match b {
            b'"' => {
                in_string = false;
                out.push(b);
            }
            b'\\' => {
                let next = input.get(i + 1).copied();
                match next {
                    Some(b'b') if short_escapes_to_go => out.extend_from_slice(b"\\u0008"),
                    Some(b'f') if short_escapes_to_go => out.extend_from_slice(b"\\u000c"),
                    Some(n) => {
                        out.push(b'\\');
                        out.push(n);
                    }
                    None => out.push(b'\\'),
                }
                i += 2;
                continue;
            }
            b'<' => out.extend_from_slice(b"\\u003c"),
            b'>' => out.extend_from_slice(b"\\u003e"),
            b'&' => out.extend_from_slice(b"\\u0026"),
            0xE2 if input.get(i + 1) == Some(&0x80)
                && matches!(input.get(i + 2), Some(0xA8 | 0xA9)) =>
            {
                if input.get(i + 2) == Some(&0xA8) {
                    out.extend_from_slice(b"\\u2028");
                } else {
                    out.extend_from_slice(b"\\u2029");
                }
                i += 3;
                continue;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    out
}

/// Go decodes `[]byte` with `base64.StdEncoding`: padding required, `\r`/`\n` ignored, and
/// non-zero trailing bits accepted.
const GO_STD: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

fn go_b64_decode<E: serde::de::Error>(s: &str) -> Result<Vec<u8>, E> {
    let cleaned: String = s.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    GO_STD
        .decode(cleaned.as_bytes())
        .map_err(|e| E::custom(format!("invalid base64: {e}")))
}

fn go_b64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn ser_go_bytes_or_null<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    if bytes.is_empty() {
        s.serialize_none()
    } else {
        s.serialize_str(&go_b64_encode(bytes))
    }
}

fn de_go_bytes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(Vec::new()),
        Some(s) => go_b64_decode(&s),
    }
}

// serde's `serialize_with` hands over `&Option<Vec<u8>>`.
#[allow(clippy::ref_option)]
fn ser_opt_go_bytes<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
    match bytes {
        None => s.serialize_none(),
        Some(b) => s.serialize_str(&go_b64_encode(b)),
    }
}

fn de_opt_go_bytes<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) => go_b64_decode(&s).map(Some),
    }
}

fn ser_hashes<S: Serializer>(hashes: &BTreeMap<String, Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(hashes.len()))?;
    for (k, v) in hashes {
        if v.is_empty() {
            map.serialize_entry(k, &Option::<String>::None)?;
        } else {
            map.serialize_entry(k, &go_b64_encode(v))?;
        }
    }
    map.end()
}

fn de_hashes<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Vec<u8>>, D::Error> {
    let raw = Option::<BTreeMap<String, Option<String>>>::deserialize(d)?.unwrap_or_default();
    raw.into_iter()
        .map(|(k, v)| {
            let bytes = match v {
                None => Vec::new(),
                Some(s) => go_b64_decode(&s)?,
            };
            Ok((k, bytes))
        })
        .collect()
}

/// Go decodes `null` into a zero value; serde would refuse it for strings, vectors and numbers.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `skip_serializing_if` passes a reference
fn is_zero(n: &i64) -> bool {
    *n == 0
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_false(b: &bool) -> bool {
    !*b
}
