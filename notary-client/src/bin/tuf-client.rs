//! `tuf-client`: a TUF 1.0 client CLI (`init`, `refresh`, `download`) for conformance suites.
//! Exit status 0 on success, 1 on any failure (panics included), message on stderr.
#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    match std::panic::catch_unwind(|| notary_client::tuf_client::run(&args)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("tuf-client: {e}");
            ExitCode::from(1)
        }
        Err(_) => {
            eprintln!("tuf-client: internal error (panic)");
            ExitCode::from(1)
        }
    }
}
