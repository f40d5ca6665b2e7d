//! `tuf-repo`: writes TUF 1.0 repositories to a directory any static web server can serve.
//! Exit status 0 on success, 1 on any failure (nothing written), 2 on usage errors; see
//! `tuf-repo --help` and `docs/tuf-repo.md`.
#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    match std::panic::catch_unwind(|| notary_client::tuf_repo::run(&args)) {
        Ok(Err(usage)) => {
            let _ = usage.print();
            ExitCode::from(u8::try_from(usage.exit_code()).unwrap_or(2))
        }
        Ok(Ok(Ok(lines))) => {
            for l in lines {
                println!("{l}");
            }
            ExitCode::SUCCESS
        }
        Ok(Ok(Err(e))) => {
            eprintln!("tuf-repo: {e}");
            ExitCode::from(1)
        }
        Err(_) => {
            eprintln!("tuf-repo: internal error (panic)");
            ExitCode::from(1)
        }
    }
}
