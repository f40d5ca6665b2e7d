//! The per-repository part of a trust directory: `<trust_dir>/tuf/<gun>/`.
//!
//! Layout (identical to Go `notary` 0.7, so either client can use the other's directory):
//!
//! ```text
//! <trust_dir>/tuf/<gun>/metadata/root.json
//! <trust_dir>/tuf/<gun>/metadata/targets/releases.json   (delegations in sub-directories)
//! <trust_dir>/tuf/<gun>/changelist/<%020d unix nanos>_<uuid>.change
//! ```
//!
//! GUNs keep their `/` and `:` characters (`tuf/localhost:5000/app/`). Every path is built from
//! a [`Gun`] or [`RoleName`] that was validated at the edge, and each segment is checked again
//! here before it touches the filesystem. Files are written atomically with mode 0600 and the
//! directories this module creates get mode 0700, whatever the umask.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tuf_core::name::{Gun, RoleName};

/// Errors from the trust directory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustDirError {
    /// A filesystem operation failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done (`reading`, `writing`, ...).
        op: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A role name that cannot be turned into a file name safely.
    #[error("role name {role:?} cannot be stored in the trust directory: {reason}")]
    UnsafeRoleName {
        /// The role name.
        role: String,
        /// Why it was refused.
        reason: &'static str,
    },
}

fn io_err(op: &'static str, path: &Path) -> impl FnOnce(io::Error) -> TrustDirError + use<> {
    let path = path.to_path_buf();
    move |source| TrustDirError::Io { op, path, source }
}

/// The directory of one repository inside a trust directory: `<trust_dir>/tuf/<gun>/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoDir {
    trust_dir: PathBuf,
    gun: Gun,
    root: PathBuf,
}

impl RepoDir {
    /// The repository directory of `gun` under `trust_dir`. Nothing is created on disk.
    ///
    /// The GUN's `/`-separated segments become directories (`Gun::parse` already refused empty,
    /// `.` and `..` segments and backslashes); `:` is kept as is, like Go.
    pub fn new(trust_dir: &Path, gun: &Gun) -> Self {
        let mut root = trust_dir.join("tuf");
        for seg in gun.as_str().split('/') {
            root.push(seg);
        }
        Self {
            trust_dir: trust_dir.to_path_buf(),
            gun: gun.clone(),
            root,
        }
    }

    /// The trust directory this repository lives in.
    pub fn trust_dir(&self) -> &Path {
        &self.trust_dir
    }

    /// The repository's GUN.
    pub fn gun(&self) -> &Gun {
        &self.gun
    }

    /// `<trust_dir>/tuf/<gun>`.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// `<trust_dir>/tuf/<gun>/metadata`.
    pub fn metadata_dir(&self) -> PathBuf {
        self.root.join("metadata")
    }

    /// `<trust_dir>/tuf/<gun>/changelist`.
    pub fn changelist_dir(&self) -> PathBuf {
        self.root.join("changelist")
    }

    /// The cached metadata file of `role`: `metadata/root.json`,
    /// `metadata/targets/releases.json`, ...
    ///
    /// # Errors
    /// [`TrustDirError::UnsafeRoleName`] if a segment of the name is empty, `.`, `..`, or holds
    /// a NUL or backslash (only possible for TUF-spec role names; Notary names never do).
    pub fn metadata_path(&self, role: &RoleName) -> Result<PathBuf, TrustDirError> {
        let name = role.as_str();
        let unsafe_name = |reason| TrustDirError::UnsafeRoleName {
            role: name.to_owned(),
            reason,
        };
        let mut path = self.metadata_dir();
        let mut segments = name.split('/').peekable();
        while let Some(seg) = segments.next() {
            if seg.is_empty() || seg == "." || seg == ".." {
                return Err(unsafe_name("empty, '.' or '..' path segment"));
            }
            if seg.contains(['\0', '\\']) {
                return Err(unsafe_name("NUL or backslash"));
            }
            if segments.peek().is_some() {
                path.push(seg);
            } else {
                path.push(format!("{seg}.json"));
            }
        }
        Ok(path)
    }

    /// Reads the cached metadata of `role`; `Ok(None)` if there is none.
    ///
    /// # Errors
    /// [`TrustDirError`] on an unsafe role name or an I/O error other than "not found".
    pub fn read_metadata(&self, role: &RoleName) -> Result<Option<Vec<u8>>, TrustDirError> {
        let path = self.metadata_path(role)?;
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err("reading", &path)(e)),
        }
    }

    /// Atomically replaces the cached metadata of `role` (file 0600, new directories 0700).
    ///
    /// # Errors
    /// [`TrustDirError`] on an unsafe role name or an I/O error.
    pub fn write_metadata(&self, role: &RoleName, bytes: &[u8]) -> Result<(), TrustDirError> {
        let path = self.metadata_path(role)?;
        write_private_file(&path, bytes)
    }

    /// Removes the cached metadata of `role`; absent is fine.
    ///
    /// # Errors
    /// [`TrustDirError`] on an unsafe role name or an I/O error other than "not found".
    pub fn remove_metadata(&self, role: &RoleName) -> Result<(), TrustDirError> {
        let path = self.metadata_path(role)?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err("removing", &path)(e)),
        }
    }

    /// Removes `<trust_dir>/tuf/<gun>` with everything in it (metadata and changelist), as
    /// `notary delete` does. Absent is fine; keys under `private/` are not touched.
    ///
    /// # Errors
    /// [`TrustDirError::Io`] if the removal fails.
    pub fn delete_all(&self) -> Result<(), TrustDirError> {
        match fs::remove_dir_all(&self.root) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err("removing", &self.root)(e)),
        }
    }
}

/// Creates `dir` and any missing parents, giving every directory it creates mode 0700
/// (set explicitly, so the umask does not matter). Existing directories are left alone.
///
/// # Errors
/// [`TrustDirError::Io`] if a directory cannot be created.
pub fn create_private_dir_all(dir: &Path) -> Result<(), TrustDirError> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_private_dir_all(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => set_mode(dir, 0o700),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(io_err("creating directory", dir)(e)),
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory (mode 0600),
/// fsync, rename over `path`, fsync of the directory. Missing directories are created with
/// mode 0700.
///
/// # Errors
/// [`TrustDirError::Io`] naming the file or directory that failed.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> Result<(), TrustDirError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    create_private_dir_all(&dir)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.{}.tmp", uuid::Uuid::new_v4()));
    let result = write_tmp_and_rename(&tmp, path, bytes);
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    sync_dir(&dir)
}

fn write_tmp_and_rename(tmp: &Path, path: &Path, bytes: &[u8]) -> Result<(), TrustDirError> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(tmp).map_err(io_err("creating", tmp))?;
    set_mode(tmp, 0o600)?;
    file.write_all(bytes).map_err(io_err("writing", tmp))?;
    file.sync_all().map_err(io_err("syncing", tmp))?;
    drop(file);
    fs::rename(tmp, path).map_err(io_err("renaming into place", path))
}

fn sync_dir(dir: &Path) -> Result<(), TrustDirError> {
    #[cfg(unix)]
    {
        let d = fs::File::open(dir).map_err(io_err("opening directory", dir))?;
        d.sync_all().map_err(io_err("syncing directory", dir))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> Result<(), TrustDirError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
            .map_err(io_err("setting permissions of", path))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}
