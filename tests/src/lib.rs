//! Shared helpers for the cross-crate tests.
//!
//! The interop peers live outside Cargo: python-tuf sits in a venv that
//! `scripts/setup-python.sh` creates (`scripts/test.sh` runs it before `cargo test`); the Go
//! `notary` CLI and `notary-server` come from the Debian package `notary` ([`notary_cli`]).
//! A missing peer is a loud failure, never a skip: these helpers panic with the command
//! that installs it. They are test-harness code, hence the `clippy::panic` allowances.

pub mod notary_cli;
pub mod static_server;
pub mod token_issuer;
pub mod tuf_dir;
pub mod tuf_forge;
pub mod tuf_repos;
pub mod tuf_server;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (the workspace directory holding `Cargo.toml`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Path to the python interpreter of the project venv.
///
/// `$NOTARY_RS_PYTHON` if set, else `<repo>/.venv/bin/python`.
///
/// # Panics
///
/// If the interpreter does not exist: the python-tuf peer is not installed, and a test
/// that needs it must fail rather than pass vacuously.
#[allow(clippy::panic)] // test harness: a missing peer must fail the test loudly
pub fn python() -> PathBuf {
    let path = std::env::var_os("NOTARY_RS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv").join("bin").join("python"));
    if !path.exists() {
        panic!(
            "python-tuf venv missing: run scripts/setup-python.sh (looked for {})",
            path.display()
        );
    }
    path
}

/// Path of a script in `<repo>/tests/python/`.
pub fn python_script(name: &str) -> PathBuf {
    repo_root().join("tests").join("python").join(name)
}

/// The shared reference directory (fixtures, reference notes).
///
/// `$NOTARY_RS_SHARED` if set, else `<repo>/../shared` (CI lays `shared/` beside the clone).
///
/// # Panics
///
/// If the directory does not exist.
#[allow(clippy::panic)] // test harness: missing fixtures must fail the test loudly
pub fn shared_dir() -> PathBuf {
    let path = std::env::var_os("NOTARY_RS_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("..").join("shared"));
    if !path.is_dir() {
        panic!(
            "shared directory missing: expected {} (set NOTARY_RS_SHARED to override)",
            path.display()
        );
    }
    path
}

/// Runs the venv python with `args` and returns its output (stdout and stderr captured).
///
/// # Panics
///
/// If the venv is missing (see [`python`]) or the interpreter cannot be started.
#[allow(clippy::panic)] // test harness: a peer that cannot start must fail the test loudly
pub fn run_python(args: &[&OsStr]) -> Output {
    let py = python();
    match Command::new(&py).args(args).output() {
        Ok(out) => out,
        Err(e) => panic!("cannot run {}: {e}", py.display()),
    }
}
