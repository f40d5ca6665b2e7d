//! PIV attestation: verifying that a key was generated on a genuine device, in the
//! expected slot, with the expected serial and policies (no card needed).
//!
//! A YubiKey answers ATTEST (INS `F9`) for a slot with an X.509 certificate over the slot's
//! public key, signed by the device's attestation key in slot `f9`, whose certificate
//! (object `5FFF01`) is signed by Yubico's PIV CA. Yubico's extensions carry the firmware
//! (`1.3.6.1.4.1.41482.3.3`), the serial (`.3.7`) and the PIN/touch policy (`.3.8`).

use std::time::SystemTime;

use der::{Decode as _, Encode as _};
use p256::ecdsa::signature::Verifier as _;
use sha2::{Digest as _, Sha256};
use spki::ObjectIdentifier;
use tuf_core::crypto::PublicKey;
use x509_cert::Certificate;

use crate::policy::{is_root_policy, PinPolicy, TouchPolicy};

/// Yubico extension: firmware version (3 raw bytes).
pub const OID_FIRMWARE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.41482.3.3");
/// Yubico extension: device serial (DER INTEGER).
pub const OID_SERIAL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.41482.3.7");
/// Yubico extension: PIN policy and touch policy (2 raw bytes).
pub const OID_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.41482.3.8");
/// Yubico extension: form factor (1 raw byte).
pub const OID_FORM_FACTOR: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.41482.3.9");
/// PIV data object holding the attestation (slot `f9`) certificate.
pub const F9_CERT_OBJECT: u32 = 0x005f_ff01;
/// Subject prefix of an attestation certificate; the slot follows in lower-case hex.
pub const SUBJECT_PREFIX: &str = "YubiKey PIV Attestation ";

const OID_CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_RSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
/// At most this many certificates between the attestation certificate and the pinned CA.
const MAX_CHAIN: usize = 4;

/// Yubico's PIV attestation root ("Yubico PIV Root CA Serial 263751", valid to 2052),
/// the default pinned CA. Published at developers.yubico.com/PIV/Introduction/PIV_attestation.html.
pub const YUBICO_PIV_ROOT_CA_PEM: &str = include_str!("yubico_piv_root_ca.pem");

/// Why an attestation was rejected. Each case of the E04 tamper set has its own variant.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttestationError {
    /// A certificate could not be parsed.
    #[error("attestation: the {which} certificate is not valid DER X.509: {reason}")]
    Malformed {
        /// Which certificate (`attestation`, `f9`, `intermediate`, `pinned CA`).
        which: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// No certificate chain at all was given for the attestation certificate.
    #[error("attestation: the slot f9 (device attestation) certificate is missing")]
    MissingChain,
    /// A signature in the chain does not verify.
    #[error(
        "attestation: the {which} certificate's signature does not verify with its issuer's key"
    )]
    BadSignature {
        /// Which certificate.
        which: &'static str,
    },
    /// The chain does not end at a pinned CA.
    #[error(
        "attestation: the device certificate chain does not lead to a pinned CA \
         (issuer {issuer:?}); pin the CA that signed this device's f9 certificate"
    )]
    UnpinnedCa {
        /// The issuer of the last certificate of the chain.
        issuer: String,
    },
    /// A certificate is outside its validity period.
    #[error("attestation: the {which} certificate is not valid at this time (valid {not_before} .. {not_after} seconds since the epoch)")]
    Expired {
        /// Which certificate.
        which: &'static str,
        /// Start of validity, seconds since the Unix epoch.
        not_before: u64,
        /// End of validity, seconds since the Unix epoch.
        not_after: u64,
    },
    /// A certificate inside the chain is itself a slot attestation.
    #[error("attestation: a slot attestation certificate appears inside the device chain")]
    AttestationInChain,
    /// A required Yubico extension is missing or malformed.
    #[error("attestation: Yubico extension {oid} is missing or malformed")]
    Extension {
        /// The extension's OID.
        oid: String,
    },
    /// The attestation is for another slot.
    #[error("attestation is for slot {found:?}, expected slot {expected:02x}")]
    WrongSlot {
        /// The slot expected.
        expected: u8,
        /// The subject found (`YubiKey PIV Attestation <slot>`).
        found: String,
    },
    /// The attestation comes from another device.
    #[error("attestation is from YubiKey serial {found}, expected serial {expected}")]
    WrongSerial {
        /// The serial expected.
        expected: u32,
        /// The serial in the attestation.
        found: u32,
    },
    /// The attested key is not the key being enrolled.
    #[error("the attested public key differs from the root key (attested SPKI sha256 {attested}, root key SPKI sha256 {expected})")]
    KeyMismatch {
        /// SHA-256 of the attested SPKI, hex.
        attested: String,
        /// SHA-256 of the expected SPKI, hex.
        expected: String,
    },
    /// Two root keys of one threshold come from the same device.
    #[error(
        "two root keys are attested by the same YubiKey (serial {serial}): a threshold of \
         {threshold} needs {threshold} distinct devices"
    )]
    SameDevice {
        /// The repeated serial.
        serial: u32,
        /// The threshold.
        threshold: u32,
    },
    /// The evidence file could not be read.
    #[error("attestation evidence: {0}")]
    Evidence(String),
    /// The attested policies do not fit a root key.
    #[error(
        "attested policy pin={pin}, touch={touch} is not allowed for a root key: \
         generate the key with touch policy ALWAYS and PIN policy ALWAYS (or ONCE)"
    )]
    Policy {
        /// The attested PIN policy.
        pin: PinPolicy,
        /// The attested touch policy.
        touch: TouchPolicy,
    },
}

/// The certificates a device returns: the slot's attestation and the chain up to (not
/// including) the pinned CA, starting with the slot `f9` certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttestationBundle {
    /// DER of the attestation certificate of the slot (answer to ATTEST).
    pub attestation_der: Vec<u8>,
    /// DER certificates: the `f9` device certificate first, then any intermediates.
    pub chain_der: Vec<Vec<u8>>,
}

impl AttestationBundle {
    /// The evidence as PEM: the attestation certificate first, then the chain (`f9` first).
    pub fn to_pem(&self) -> Result<String, AttestationError> {
        let mut out = String::new();
        for der in std::iter::once(&self.attestation_der).chain(self.chain_der.iter()) {
            let pem = der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der)
                .map_err(|e| AttestationError::Evidence(e.to_string()))?;
            out.push_str(&pem);
        }
        Ok(out)
    }

    /// Reads evidence written by [`AttestationBundle::to_pem`].
    pub fn from_pem(pem: &str) -> Result<Self, AttestationError> {
        let certs = Certificate::load_pem_chain(pem.as_bytes())
            .map_err(|e| AttestationError::Evidence(e.to_string()))?;
        let mut ders = certs
            .iter()
            .map(|c| c.to_der())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| AttestationError::Evidence(e.to_string()))?
            .into_iter();
        let attestation_der = ders
            .next()
            .ok_or_else(|| AttestationError::Evidence("no certificate".into()))?;
        Ok(Self {
            attestation_der,
            chain_der: ders.collect(),
        })
    }
}

/// What an attestation proves about a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttestedKey {
    /// The PIV slot the key lives in.
    pub slot: u8,
    /// The device serial.
    pub serial: u32,
    /// The firmware version (major, minor, patch).
    pub firmware: (u8, u8, u8),
    /// The PIN policy.
    pub pin_policy: PinPolicy,
    /// The touch policy.
    pub touch_policy: TouchPolicy,
    /// The form factor byte, when present.
    pub form_factor: Option<u8>,
    /// The attested public key.
    pub public_key: PublicKey,
    /// Subject of the CA the chain ended at.
    pub ca_subject: String,
}

/// CA certificates trusted to sign device attestation chains.
#[derive(Clone, Debug)]
pub struct PinnedCas {
    certs: Vec<Certificate>,
}

impl PinnedCas {
    /// Yubico's PIV root CA only (the default).
    pub fn yubico() -> Self {
        // The embedded PEM is a constant and parses (unit test below).
        Self::from_pem(YUBICO_PIV_ROOT_CA_PEM).unwrap_or(Self { certs: Vec::new() })
    }

    /// The CA certificates of a PEM bundle (for a test CA or an organisation CA that
    /// replaced the f9 certificate).
    pub fn from_pem(pem: &str) -> Result<Self, AttestationError> {
        let certs = Certificate::load_pem_chain(pem.as_bytes()).map_err(|e| {
            AttestationError::Malformed {
                which: "pinned CA",
                reason: e.to_string(),
            }
        })?;
        if certs.is_empty() {
            return Err(AttestationError::Malformed {
                which: "pinned CA",
                reason: "no certificate in PEM".into(),
            });
        }
        Ok(Self { certs })
    }

    /// One CA certificate from DER.
    pub fn from_der(der: &[u8]) -> Result<Self, AttestationError> {
        Ok(Self {
            certs: vec![parse(der, "pinned CA")?],
        })
    }

    /// The subjects of the pinned CAs.
    pub fn subjects(&self) -> Vec<String> {
        self.certs
            .iter()
            .map(|c| c.tbs_certificate.subject.to_string())
            .collect()
    }
}

/// What the verifier expects of an attestation.
#[derive(Clone, Copy, Debug)]
pub struct Expectation<'a> {
    /// The slot (0x9c for root keys).
    pub slot: u8,
    /// The device serial, when known (always known at enrolment).
    pub serial: Option<u32>,
    /// The key that will be published as the root key.
    pub public_key: &'a PublicKey,
    /// The time to check validity periods against.
    pub now: SystemTime,
}

/// Verifies an attestation bundle against pinned CAs and an expectation. Does not judge
/// the policies (see [`check_root_policy`]).
pub fn verify(
    bundle: &AttestationBundle,
    cas: &PinnedCas,
    expect: &Expectation<'_>,
) -> Result<AttestedKey, AttestationError> {
    let leaf = parse(&bundle.attestation_der, "attestation")?;
    if bundle.chain_der.is_empty() {
        return Err(AttestationError::MissingChain);
    }
    if bundle.chain_der.len() > MAX_CHAIN {
        return Err(AttestationError::Malformed {
            which: "intermediate",
            reason: format!("chain longer than {MAX_CHAIN} certificates"),
        });
    }
    let chain = bundle
        .chain_der
        .iter()
        .enumerate()
        .map(|(i, d)| parse(d, if i == 0 { "f9" } else { "intermediate" }))
        .collect::<Result<Vec<_>, _>>()?;

    // Signatures: leaf <- f9 <- intermediates <- pinned CA.
    check_validity(&leaf, "attestation", expect.now)?;
    verify_signed_by(&leaf, &chain[0], "attestation")?;
    for (i, cert) in chain.iter().enumerate() {
        let which = if i == 0 { "f9" } else { "intermediate" };
        if find_extension(cert, OID_POLICY).is_some() {
            return Err(AttestationError::AttestationInChain);
        }
        check_validity(cert, which, expect.now)?;
        if let Some(issuer) = chain.get(i + 1) {
            verify_signed_by(cert, issuer, which)?;
        }
    }
    let top = chain.last().ok_or(AttestationError::MissingChain)?;
    let ca = cas
        .certs
        .iter()
        .find(|ca| {
            ca.tbs_certificate.subject == top.tbs_certificate.issuer
                && verify_signed_by(top, ca, "f9").is_ok()
        })
        .ok_or_else(|| AttestationError::UnpinnedCa {
            issuer: top.tbs_certificate.issuer.to_string(),
        })?;
    check_validity(ca, "pinned CA", expect.now)?;

    // Slot, from the subject.
    let cn = common_name(&leaf).unwrap_or_default();
    let expected_cn = format!("{SUBJECT_PREFIX}{:02x}", expect.slot);
    if !cn.eq_ignore_ascii_case(&expected_cn) {
        return Err(AttestationError::WrongSlot {
            expected: expect.slot,
            found: cn,
        });
    }

    // Yubico extensions.
    let fw = find_extension(&leaf, OID_FIRMWARE)
        .filter(|v| v.len() == 3)
        .ok_or_else(|| ext_err(OID_FIRMWARE))?;
    let serial_der = find_extension(&leaf, OID_SERIAL).ok_or_else(|| ext_err(OID_SERIAL))?;
    let serial = u32::from_der(serial_der).map_err(|_| ext_err(OID_SERIAL))?;
    let policy = find_extension(&leaf, OID_POLICY)
        .filter(|v| v.len() == 2)
        .ok_or_else(|| ext_err(OID_POLICY))?;
    let pin_policy = PinPolicy::from_byte(policy[0]).ok_or_else(|| ext_err(OID_POLICY))?;
    let touch_policy = TouchPolicy::from_byte(policy[1]).ok_or_else(|| ext_err(OID_POLICY))?;
    let form_factor = find_extension(&leaf, OID_FORM_FACTOR).and_then(|v| v.first().copied());
    if let Some(expected) = expect.serial {
        if serial != expected {
            return Err(AttestationError::WrongSerial {
                expected,
                found: serial,
            });
        }
    }

    // The attested key must be the root key (compare SPKIs, not key ids).
    let spki = leaf
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| AttestationError::Malformed {
            which: "attestation",
            reason: e.to_string(),
        })?;
    let attested = PublicKey::from_spki_der(&spki).map_err(|e| AttestationError::Malformed {
        which: "attestation",
        reason: format!("public key: {e}"),
    })?;
    if attested.spki_der() != expect.public_key.spki_der() {
        return Err(AttestationError::KeyMismatch {
            attested: hex::encode(Sha256::digest(attested.spki_der())),
            expected: hex::encode(Sha256::digest(expect.public_key.spki_der())),
        });
    }

    Ok(AttestedKey {
        slot: expect.slot,
        serial,
        firmware: (fw[0], fw[1], fw[2]),
        pin_policy,
        touch_policy,
        form_factor,
        public_key: attested,
        ca_subject: ca.tbs_certificate.subject.to_string(),
    })
}

/// Refuses attested policies unfit for a root key: touch must be ALWAYS (never CACHED or
/// NEVER), the PIN ALWAYS or ONCE.
pub fn check_root_policy(key: &AttestedKey) -> Result<(), AttestationError> {
    if is_root_policy(key.pin_policy, key.touch_policy) {
        Ok(())
    } else {
        Err(AttestationError::Policy {
            pin: key.pin_policy,
            touch: key.touch_policy,
        })
    }
}

/// Refuses a threshold whose root keys are not on distinct devices (threshold 2 must mean
/// two devices and two touches).
pub fn check_distinct_devices(
    keys: &[AttestedKey],
    threshold: u32,
) -> Result<(), AttestationError> {
    let mut seen = std::collections::BTreeSet::new();
    for k in keys {
        if !seen.insert(k.serial) && threshold >= 2 {
            return Err(AttestationError::SameDevice {
                serial: k.serial,
                threshold,
            });
        }
    }
    Ok(())
}

/// Unwraps a PIV certificate object (`70 L <cert> 71 01 00 FE 00`) or returns raw DER.
pub fn cert_from_piv_object(object: &[u8]) -> Vec<u8> {
    if object.first() == Some(&0x70) {
        if let Some(cert) = crate::tlv::find(object, 0x70) {
            return cert.to_vec();
        }
    }
    object.to_vec()
}

fn ext_err(oid: ObjectIdentifier) -> AttestationError {
    AttestationError::Extension {
        oid: oid.to_string(),
    }
}

fn parse(der: &[u8], which: &'static str) -> Result<Certificate, AttestationError> {
    Certificate::from_der(der).map_err(|e| AttestationError::Malformed {
        which,
        reason: e.to_string(),
    })
}

fn find_extension(cert: &Certificate, oid: ObjectIdentifier) -> Option<&[u8]> {
    cert.tbs_certificate
        .extensions
        .as_ref()?
        .iter()
        .find(|e| e.extn_id == oid)
        .map(|e| e.extn_value.as_bytes())
}

fn common_name(cert: &Certificate) -> Option<String> {
    for rdn in cert.tbs_certificate.subject.0.iter() {
        for atv in rdn.0.iter() {
            if atv.oid == OID_CN {
                if let Ok(s) = atv.value.decode_as::<String>() {
                    return Some(s);
                }
                if let Ok(s) = atv.value.decode_as::<der::asn1::PrintableStringRef<'_>>() {
                    return Some(s.as_str().to_owned());
                }
            }
        }
    }
    None
}

fn check_validity(
    cert: &Certificate,
    which: &'static str,
    now: SystemTime,
) -> Result<(), AttestationError> {
    let v = &cert.tbs_certificate.validity;
    let nb = v.not_before.to_system_time();
    let na = v.not_after.to_system_time();
    if now < nb || now > na {
        let secs = |t: SystemTime| {
            t.duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        };
        return Err(AttestationError::Expired {
            which,
            not_before: secs(nb),
            not_after: secs(na),
        });
    }
    Ok(())
}

/// Checks `cert`'s signature with `issuer`'s key (ECDSA P-256/SHA-256 or RSA PKCS#1 v1.5
/// SHA-256, the algorithms Yubico and our test CA use) and the issuer name.
fn verify_signed_by(
    cert: &Certificate,
    issuer: &Certificate,
    which: &'static str,
) -> Result<(), AttestationError> {
    let bad = || AttestationError::BadSignature { which };
    if cert.tbs_certificate.issuer != issuer.tbs_certificate.subject {
        return Err(bad());
    }
    let tbs = cert.tbs_certificate.to_der().map_err(|_| bad())?;
    let sig = cert.signature.as_bytes().ok_or_else(bad)?;
    let spki = issuer
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|_| bad())?;
    let key = PublicKey::from_spki_der(&spki).map_err(|_| bad())?;
    let alg = cert.signature_algorithm.oid;
    match key {
        PublicKey::EcdsaP256(vk) if alg == OID_ECDSA_SHA256 => {
            let s = p256::ecdsa::Signature::from_der(sig).map_err(|_| bad())?;
            vk.verify(&tbs, &s).map_err(|_| bad())
        }
        PublicKey::Rsa(pk) if alg == OID_RSA_SHA256 => {
            let digest = Sha256::digest(&tbs);
            pk.verify(rsa::Pkcs1v15Sign::new::<Sha256>(), &digest, sig)
                .map_err(|_| bad())
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn yubico_root_is_embedded_and_parses() {
        let cas = PinnedCas::yubico();
        assert_eq!(cas.subjects(), vec!["CN=Yubico PIV Root CA Serial 263751"]);
    }

    #[test]
    fn garbage_is_malformed() {
        let pk = tuf_core::crypto::SoftwareSigner::generate_p256();
        let pk = tuf_core::crypto::Signer::public_key(&pk).clone();
        let b = AttestationBundle {
            attestation_der: vec![0x30, 0x00],
            chain_der: vec![],
        };
        let e = verify(
            &b,
            &PinnedCas::yubico(),
            &Expectation {
                slot: 0x9c,
                serial: None,
                public_key: &pk,
                now: SystemTime::now(),
            },
        )
        .unwrap_err();
        assert!(matches!(e, AttestationError::Malformed { .. }), "{e}");
    }
}
