//! `tuf-core`: one verified TUF model for both wire dialects.
//!
//! Pure: bytes and time in, decisions and bytes out; no I/O, no clock, no network.
//!
//! - [`json`]: strict parsing of untrusted bytes (duplicate keys, floats, depth and size are
//!   errors) and the canonical JSON that signatures are over.
//! - [`crypto`]: keys (ed25519, ECDSA P-256, RSA-PSS, Notary X.509 root certificates), key
//!   ids per dialect, verification, the [`crypto::Signer`] trait and software signers.
//! - [`dialect::Dialect`]: Notary 0.7 or TUF 1.0, configured by the caller, never sniffed.
//! - [`role`]: root, targets (+ delegations), snapshot, timestamp, and their codecs.
//! - [`envelope`]: [`envelope::Signed`] (parsed, untrusted) -> [`envelope::Verified`], which
//!   only the threshold check (distinct public keys) mints.
//! - [`trusted_set::TrustedSet`]: the client update workflow (TUF spec §5) as a state
//!   machine, with target search over delegations in [`search`].
//! - [`editor::RepoEditor`]: build, change and sign repositories; refuses to emit metadata
//!   its own verifier would reject.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod crypto;
pub mod dialect;
pub mod editor;
pub mod envelope;
pub mod error;
pub mod json;
pub mod name;
pub mod path_match;
pub mod repo_load;
pub mod role;
pub mod search;
pub mod target;
mod threshold;
mod time;
pub mod trusted_set;

pub use dialect::Dialect;
pub use time::format_expires;
