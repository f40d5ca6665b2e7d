//! `notary-client`: the library behind our `notary` CLI, a drop-in for Go `notary` 0.7.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
