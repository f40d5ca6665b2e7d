//! `notary-client`: the library behind our `notary` CLI, a drop-in for Go `notary` 0.7.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod changelist;
pub mod cli;
pub mod config;
pub mod keystore;
pub mod passphrase;
pub mod remote;
pub mod trustdir;
pub mod tuf_client;
pub mod tuf_export;
pub mod tuf_repo;
pub mod tuf_repo_server;
pub mod update;
#[cfg(feature = "yubikey")]
pub mod yubikey;
