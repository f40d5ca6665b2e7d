//! Strict JSON for untrusted bytes and the canonical JSON writer used for signing.
//!
//! The parser rejects duplicate object keys, non-integer numbers, invalid UTF-8, lone
//! surrogates and trailing data, and enforces size and depth limits, in linear time.
//! The canonical writer is the OLPC/securesystemslib/Go-Notary dialect: keys sorted by raw
//! UTF-8 bytes, no whitespace, only `"` and `\` escaped, integers only.

mod canonical;
mod parse;
mod value;

pub use canonical::{to_canonical, to_json, write_canonical, write_json};
pub use parse::{parse, parse_with_limits, JsonError, JsonLimits};
pub use value::{JsonObject, JsonValue};
