//! `notary-server`: the Notary 0.7 HTTP API on embedded SQLite, validated with `tuf-core`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod storage;
pub mod validate;
