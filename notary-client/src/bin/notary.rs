//! `notary`: a drop-in replacement for the Go `notary` 0.7 CLI.

fn main() -> std::process::ExitCode {
    notary_client::cli::main()
}
