//! `notary delegation ...` and `notary witness` (being written).

use std::path::PathBuf;

use super::commands::Fatal;
use super::context::Context;

type Result<T> = std::result::Result<T, Fatal>;

fn todo_cmd(name: &str) -> Result<String> {
    Err(Fatal(format!("{name} is not available in this build yet")))
}

/// `notary witness GUN ROLE...`.
pub fn witness(
    _ctx: &mut Context,
    _gun: &str,
    _roles: &[String],
    _publish: bool,
) -> Result<String> {
    todo_cmd("witness")
}

/// `notary delegation list GUN`.
pub fn list(_ctx: &mut Context, _gun: &str, _json: bool) -> Result<String> {
    todo_cmd("delegation list")
}

/// `notary delegation add GUN ROLE PEM...`.
pub fn add(
    _ctx: &mut Context,
    _gun: &str,
    _role: &str,
    _files: &[PathBuf],
    _all_paths: bool,
    _paths: &[String],
    _publish: bool,
) -> Result<String> {
    todo_cmd("delegation add")
}

/// `notary delegation remove GUN ROLE [KEYID...]`.
#[allow(clippy::too_many_arguments)]
pub fn remove(
    _ctx: &mut Context,
    _gun: &str,
    _role: &str,
    _ids: &[String],
    _all_paths: bool,
    _paths: &[String],
    _yes: bool,
    _publish: bool,
) -> Result<String> {
    todo_cmd("delegation remove")
}

/// `notary delegation purge GUN --key ID...`.
pub fn purge(_ctx: &mut Context, _gun: &str, _ids: &[String], _publish: bool) -> Result<String> {
    todo_cmd("delegation purge")
}
