//! Pure TUF core. See crate README.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod crypto;
pub mod dialect;
pub mod json;
