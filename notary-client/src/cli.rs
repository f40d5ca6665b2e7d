//! The `notary` command line: argument parsing, dispatch, and Go-compatible output and exit
//! codes (`* fatal: …` on stdout, exit 1).

mod args;
#[cfg(feature = "yubikey")]
mod ceremony;
mod commands;
mod context;
mod delegation;
mod keys;
mod output;
mod publish;
mod rotate;
mod signers;
#[cfg(feature = "yubikey")]
mod yubikey;

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;

pub use args::{Cli, Command, DelegationCommand, Global, KeyCommand, RootCommand, YubikeyCommand};
use commands::Fatal;
use context::Context;

/// Runs the CLI with the process arguments; returns the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.global.version {
        return print(commands::version());
    }
    let Some(command) = cli.command else {
        let _ = <Cli as clap::CommandFactory>::command().print_help();
        return ExitCode::SUCCESS;
    };
    if matches!(command, Command::Version) {
        return print(commands::version());
    }
    // Signing a ceremony request needs neither a trust directory nor a server.
    if let Command::Root {
        command:
            RootCommand::Sign {
                request,
                yubikey,
                output,
            },
    } = &command
    {
        return print(root_sign(request, *yubikey, output));
    }
    let mut ctx = match Context::new(&cli.global) {
        Ok(c) => c,
        Err(e) => return print(Err(e)),
    };
    let result = match command {
        Command::Init {
            gun,
            publish,
            root_yubikeys,
            root_threshold,
            ..
        } if !root_yubikeys.is_empty() => init_with_yubikeys(
            &mut ctx,
            &gun,
            publish,
            &root_yubikeys,
            root_threshold,
            cli.global.attestation_ca.as_deref(),
        ),
        Command::Init {
            gun,
            publish,
            root_key,
            root_cert,
            ..
        } => commands::init(
            &mut ctx,
            &gun,
            publish,
            root_key.as_deref(),
            root_cert.as_deref(),
        ),
        Command::Add {
            gun,
            target,
            file,
            custom,
            roles,
            publish,
        } => commands::add(
            &mut ctx,
            &gun,
            &target,
            &file,
            custom.as_deref(),
            &roles,
            publish,
        ),
        Command::Addhash {
            gun,
            target,
            size,
            custom,
            roles,
            sha256,
            sha512,
            publish,
        } => commands::addhash(
            &mut ctx,
            &gun,
            &target,
            size,
            sha256.as_deref(),
            sha512.as_deref(),
            custom.as_deref(),
            &roles,
            publish,
        ),
        Command::Remove {
            gun,
            target,
            roles,
            publish,
        } => commands::remove(&mut ctx, &gun, &target, &roles, publish),
        Command::List { gun, roles, output } => {
            commands::list(&mut ctx, &gun, &roles, output == "json")
        }
        Command::Lookup {
            gun,
            target,
            output,
        } => commands::lookup(&mut ctx, &gun, &target, output == "json"),
        Command::Verify {
            gun,
            target,
            input,
            output,
            quiet,
        } => commands::verify(
            &mut ctx,
            &gun,
            &target,
            input.as_deref(),
            output.as_deref(),
            quiet,
        ),
        Command::Publish { gun } => commands::publish(&mut ctx, &gun),
        Command::Status { gun, output } => commands::status(&ctx, &gun, output == "json"),
        Command::Reset { gun, all, number } => commands::reset(&ctx, &gun, all, &number),
        Command::Delete { gun, remote } => commands::delete(&mut ctx, &gun, remote),
        Command::Key { command } => match command {
            KeyCommand::List { output } => keys::key_list(&ctx, output == "json"),
            KeyCommand::Generate {
                algorithm,
                role,
                output,
            } => keys::key_generate(&mut ctx, algorithm.as_deref(), &role, output.as_deref()),
            KeyCommand::Rotate {
                gun,
                role,
                keys: new_keys,
                legacy,
                server_managed,
                yubikeys,
                threshold,
            } => keys::key_rotate(
                &mut ctx,
                &gun,
                &role,
                &new_keys,
                legacy,
                server_managed,
                &rotate::YubikeyTarget {
                    serials: yubikeys,
                    threshold,
                    attestation_ca: cli.global.attestation_ca.clone(),
                },
            ),
            KeyCommand::Import { files, gun, role } => {
                keys::key_import(&mut ctx, &files, gun.as_deref(), role.as_deref())
            }
            KeyCommand::Export {
                guns,
                keys: ids,
                output,
            } => keys::key_export(&ctx, &guns, &ids, output.as_deref()),
            KeyCommand::Remove { key_id } => keys::key_remove(&ctx, &key_id),
            KeyCommand::Passwd { key_id } => keys::key_passwd(&mut ctx, &key_id),
        },
        Command::Witness {
            gun,
            roles,
            publish,
        } => delegation::witness(&mut ctx, &gun, &roles, publish),
        Command::Delegation { command } => match command {
            DelegationCommand::List { gun, output } => {
                delegation::list(&mut ctx, &gun, output == "json")
            }
            DelegationCommand::Add {
                gun,
                role,
                key_files,
                all_paths,
                paths,
                publish,
            } => delegation::add(
                &mut ctx, &gun, &role, &key_files, all_paths, &paths, publish,
            ),
            DelegationCommand::Remove {
                gun,
                role,
                key_ids,
                all_paths,
                paths,
                yes,
                publish,
            } => delegation::remove(
                &mut ctx, &gun, &role, &key_ids, all_paths, &paths, yes, publish,
            ),
            DelegationCommand::Purge {
                gun,
                keys: ids,
                publish,
            } => delegation::purge(&mut ctx, &gun, &ids, publish),
        },
        Command::Yubikey { command } => yubikey_command(&ctx, command, &cli.global),
        Command::Root { command } => root_command(&mut ctx, command, &cli.global),
        Command::Version => commands::version(),
    };
    print(result)
}

#[cfg(feature = "yubikey")]
fn init_with_yubikeys(
    ctx: &mut Context,
    gun: &str,
    publish: bool,
    serials: &[u32],
    threshold: Option<u32>,
    ca: Option<&std::path::Path>,
) -> Result<String, Fatal> {
    yubikey::init_with_yubikeys(ctx, gun, publish, serials, threshold, ca)
}

#[cfg(feature = "yubikey")]
fn yubikey_command(
    ctx: &Context,
    command: YubikeyCommand,
    global: &Global,
) -> Result<String, Fatal> {
    match command {
        YubikeyCommand::List { output } => yubikey::list(output == "json"),
        YubikeyCommand::Enrol {
            serial,
            allow_default_secrets,
            replace_key,
            pin_policy,
            mgm_key_out,
        } => yubikey::enrol(
            ctx,
            &yubikey::EnrolOptions {
                serial,
                allow_default_secrets,
                replace_key,
                pin_policy,
                mgm_key_out,
                attestation_ca: global.attestation_ca.clone(),
            },
        ),
    }
}

#[cfg(feature = "yubikey")]
fn root_command(ctx: &mut Context, command: RootCommand, global: &Global) -> Result<String, Fatal> {
    let ca = global.attestation_ca.as_deref();
    match command {
        RootCommand::Request {
            gun,
            yubikeys,
            threshold,
            output,
        } => ceremony::request(ctx, &gun, &yubikeys, threshold, ca, &output),
        RootCommand::Sign {
            request,
            yubikey,
            output,
        } => root_sign(&request, yubikey, &output),
        RootCommand::Import {
            gun,
            request,
            signatures,
        } => ceremony::import(ctx, &gun, &request, &signatures),
    }
}

#[cfg(feature = "yubikey")]
fn root_sign(
    request: &std::path::Path,
    serial: u32,
    output: &std::path::Path,
) -> Result<String, Fatal> {
    ceremony::sign(request, serial, output)
}

#[cfg(not(feature = "yubikey"))]
const NO_YUBIKEY: &str = "this notary was built without YubiKey support (cargo feature `yubikey`)";

#[cfg(not(feature = "yubikey"))]
fn init_with_yubikeys(
    _: &mut Context,
    _: &str,
    _: bool,
    _: &[u32],
    _: Option<u32>,
    _: Option<&std::path::Path>,
) -> Result<String, Fatal> {
    Err(Fatal(NO_YUBIKEY.into()))
}

#[cfg(not(feature = "yubikey"))]
fn yubikey_command(_: &Context, _: YubikeyCommand, _: &Global) -> Result<String, Fatal> {
    Err(Fatal(NO_YUBIKEY.into()))
}

#[cfg(not(feature = "yubikey"))]
fn root_command(_: &mut Context, _: RootCommand, _: &Global) -> Result<String, Fatal> {
    Err(Fatal(NO_YUBIKEY.into()))
}

#[cfg(not(feature = "yubikey"))]
fn root_sign(_: &std::path::Path, _: u32, _: &std::path::Path) -> Result<String, Fatal> {
    Err(Fatal(NO_YUBIKEY.into()))
}

fn print(result: Result<String, Fatal>) -> ExitCode {
    let mut stdout = std::io::stdout();
    match result {
        Ok(text) => {
            let _ = stdout.write_all(text.as_bytes());
            ExitCode::SUCCESS
        }
        Err(Fatal(msg)) => {
            let _ = writeln!(stdout, "\n* fatal: {msg}");
            ExitCode::FAILURE
        }
    }
}
