//! `notary-server`: the Notary 0.7 HTTP API on embedded SQLite, validated with `tuf-core`, and
//! TUF 1.0 repositories for the collections configured with that dialect.
//!
//! [`app::app`] builds the router from an [`app::AppState`]; the `notary-server` binary adds
//! configuration, TLS and graceful shutdown.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod app;
pub mod config;
pub mod dialects;
pub mod error;
mod handlers;
pub mod metrics;
pub mod online;
pub mod path;
pub mod storage;
mod tuf_handlers;
pub mod tuf_publish;
pub mod validate;
pub mod vault;

pub use app::{app, AppState};
