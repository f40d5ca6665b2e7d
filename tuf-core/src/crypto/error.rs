//! Error types of the crypto module.

use super::public_key::Algorithm;

/// Why a public key (or private key, or key id) could not be accepted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key type / scheme combination is not supported; callers ignore such keys.
    #[error("unsupported key: keytype {keytype:?}, scheme {scheme:?}")]
    Unsupported {
        /// The `keytype` as written.
        keytype: String,
        /// The `scheme` as written (TUF dialect only).
        scheme: Option<String>,
    },
    /// A required JSON member is missing or has the wrong JSON type.
    #[error("key member `{field}` is missing or not a {expected}")]
    Field {
        /// The member name, e.g. `keyval.public`.
        field: &'static str,
        /// The expected JSON type.
        expected: &'static str,
    },
    /// The key material is not correctly encoded (base64, hex, PEM, DER).
    #[error("{keytype} key: invalid encoding: {reason}")]
    Encoding {
        /// The key type or algorithm being decoded.
        keytype: String,
        /// What was wrong.
        reason: &'static str,
    },
    /// The key material has the wrong length.
    #[error("{algorithm:?} key has the wrong length: expected {expected} bytes, got {actual}")]
    Length {
        /// The algorithm.
        algorithm: Algorithm,
        /// Expected length in bytes.
        expected: usize,
        /// Actual length in bytes.
        actual: usize,
    },
    /// The key material decodes but is not a valid key (point not on curve, bad exponent...).
    #[error("invalid {algorithm:?} public key: {reason}")]
    Invalid {
        /// The algorithm.
        algorithm: Algorithm,
        /// What was wrong.
        reason: &'static str,
    },
    /// An RSA modulus below the minimum size.
    #[error("RSA key too small: {bits} bits, minimum {min}")]
    RsaTooSmall {
        /// Modulus size in bits.
        bits: usize,
        /// The minimum accepted.
        min: usize,
    },
    /// The declared key type does not match the algorithm of the contained key.
    #[error("keytype {keytype:?} does not match the contained {algorithm:?} key")]
    Mismatch {
        /// The declared key type.
        keytype: String,
        /// The algorithm actually found.
        algorithm: Algorithm,
    },
    /// The X.509 certificate could not be used.
    #[error("certificate: {reason}")]
    Certificate {
        /// What was wrong.
        reason: &'static str,
    },
    /// A key id is not 64 lowercase hex characters.
    #[error("invalid key id: {reason}")]
    KeyId {
        /// What was wrong.
        reason: &'static str,
    },
    /// A private key could not be decoded.
    #[error("private key: {reason}")]
    PrivateKey {
        /// What was wrong.
        reason: &'static str,
    },
}

/// Why a signature did not verify. Callers count such signatures as absent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signature has the wrong length for the key's algorithm and dialect.
    #[error(
        "{algorithm:?} signature has the wrong length: expected {expected} bytes, got {actual}"
    )]
    Length {
        /// The key's algorithm.
        algorithm: Algorithm,
        /// Expected length in bytes.
        expected: usize,
        /// Actual length in bytes.
        actual: usize,
    },
    /// The signature bytes are malformed (bad DER, scalar out of range...).
    #[error("{algorithm:?} signature is malformed: {reason}")]
    Malformed {
        /// The key's algorithm.
        algorithm: Algorithm,
        /// What was wrong.
        reason: &'static str,
    },
    /// The signature is well formed but does not verify under the key.
    #[error("{algorithm:?} signature does not verify")]
    Invalid {
        /// The key's algorithm.
        algorithm: Algorithm,
    },
    /// The verification is not supported (e.g. a certificate signature algorithm).
    #[error("unsupported signature: {reason}")]
    Unsupported {
        /// What is not supported.
        reason: &'static str,
    },
}

/// Why a signer could not produce a signature.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The signing device or backend failed (hardware token, agent...).
    #[error("signing device failed: {0}")]
    Device(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The operation is not supported for this signer's key.
    #[error("unsupported: {reason}")]
    Unsupported {
        /// What is not supported.
        reason: &'static str,
    },
    /// The signer returned a signature that does not fit its key.
    #[error("signer returned a {actual:?} signature for a {expected:?} key")]
    AlgorithmMismatch {
        /// The signer's key algorithm.
        expected: Algorithm,
        /// The algorithm of the returned signature.
        actual: Algorithm,
    },
    /// The signer produced a signature that does not verify under its own public key.
    #[error("the signer's signature does not verify under its public key")]
    BadSignature,
    /// Encoding the data to sign or the result failed.
    #[error("encoding failed: {reason}")]
    Encoding {
        /// What failed.
        reason: &'static str,
    },
}
