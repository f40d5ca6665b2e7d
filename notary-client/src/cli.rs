//! The `notary` command line: argument parsing, dispatch, and Go-compatible output and exit
//! codes (`* fatal: …` on stdout, exit 1).

mod args;
mod commands;
mod context;
mod delegation;
mod keys;
mod output;
mod publish;
mod rotate;

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;

pub use args::{Cli, Command, DelegationCommand, Global, KeyCommand};
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
    let mut ctx = match Context::new(&cli.global) {
        Ok(c) => c,
        Err(e) => return print(Err(e)),
    };
    let result = match command {
        Command::Init {
            gun,
            publish,
            root_key,
            root_cert,
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
            } => keys::key_rotate(&mut ctx, &gun, &role, &new_keys, legacy, server_managed),
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
        Command::Version => commands::version(),
    };
    print(result)
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
