//! Public keys, key ids, signature verification, signers and root certificates.
//!
//! The signature algorithm always comes from the trusted [`Key`], never from anything
//! carried next to a signature. Thresholds elsewhere count [`PublicKey::identity`], the
//! SHA-256 of the re-encoded SubjectPublicKeyInfo, so one public key counts once whatever
//! key ids, key types or encodings it is listed under.

mod cert;
mod der_util;
mod error;
mod key;
mod keyid;
mod public_key;
mod signer;
mod verify;

pub use cert::{self_signed_root_certificate, CertInfo};
pub use error::{KeyError, SignError, SignatureError};
pub use key::Key;
pub use keyid::KeyId;
pub use public_key::{Algorithm, PublicKey, RSA_MIN_BITS};
pub use signer::{method_name, SignatureBytes, Signer, SoftwareSigner};
