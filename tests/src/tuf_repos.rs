//! Shared pieces for the tests that build TUF 1.0 repositories with our editor and hand them to
//! other implementations (python-tuf, tough): top-level signers, signing, file helpers.
//! Test-harness code: failures panic with the path or step.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::Path;

use chrono::Utc;
use serde_json::Value;
use tuf_core::crypto::{Key, Signer, SoftwareSigner};
use tuf_core::editor::{InitialKeys, RepoEditor, SignPlan, SignedFile};
use tuf_core::Dialect;

/// The TUF 1.0 metadata key of a signer.
pub fn key(s: &SoftwareSigner) -> Key {
    Key::from_public_key(Dialect::TufSpec, s.public_key().clone())
}

/// One signer per top-level role.
pub struct TopSigners {
    /// Root.
    pub root: SoftwareSigner,
    /// Targets.
    pub targets: SoftwareSigner,
    /// Snapshot.
    pub snapshot: SoftwareSigner,
    /// Timestamp.
    pub timestamp: SoftwareSigner,
}

impl TopSigners {
    /// Four fresh signers made by `make`.
    pub fn new(make: fn() -> SoftwareSigner) -> Self {
        Self {
            root: make(),
            targets: make(),
            snapshot: make(),
            timestamp: make(),
        }
    }

    /// A new TUF 1.0 repository with these keys (threshold 1 each).
    pub fn editor(&self) -> RepoEditor {
        RepoEditor::create(
            Dialect::TufSpec,
            InitialKeys {
                root: vec![key(&self.root)],
                targets: vec![key(&self.targets)],
                snapshot: vec![key(&self.snapshot)],
                timestamp: vec![key(&self.timestamp)],
            },
            Utc::now(),
        )
    }

    /// All four, for signing.
    pub fn all(&self) -> Vec<&dyn Signer> {
        vec![&self.root, &self.targets, &self.snapshot, &self.timestamp]
    }
}

/// Signs everything that changed, with snapshot and timestamp, at the current time.
pub fn sign(ed: &mut RepoEditor, signers: &[&dyn Signer]) -> Vec<SignedFile> {
    ed.sign(signers, Utc::now(), SignPlan::default()).unwrap()
}

/// Reads a JSON file.
pub fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Recursively copies a directory.
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), &target).unwrap();
        }
    }
}
