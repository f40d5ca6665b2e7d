//! A test attestation hierarchy: a CA, device (`f9`) certificates it signs, and slot
//! attestation certificates with Yubico's extensions, shaped like a real YubiKey's.

use std::str::FromStr as _;
use std::time::{Duration, SystemTime};

use der::asn1::{BitString, GeneralizedTime, OctetString, UtcTime};
use der::{Decode as _, Encode as _};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{DerSignature, SigningKey};
use p256::pkcs8::EncodePublicKey as _;
use rand_core::{OsRng, RngCore as _};
use spki::{AlgorithmIdentifierOwned, ObjectIdentifier, SubjectPublicKeyInfoOwned};
use x509_cert::ext::pkix::BasicConstraints;
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate, Version};

use crate::attestation::{OID_FIRMWARE, OID_FORM_FACTOR, OID_POLICY, OID_SERIAL, SUBJECT_PREFIX};
use crate::policy::{PinPolicy, TouchPolicy};

const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const TWENTY_YEARS: Duration = Duration::from_secs(20 * 365 * 24 * 3600);

/// Why a test certificate could not be made.
#[derive(Debug, thiserror::Error)]
#[error("test certificate: {0}")]
pub struct CertError(String);

fn err(e: impl std::fmt::Display) -> CertError {
    CertError(e.to_string())
}

/// A test CA that plays the role of Yubico's PIV root CA.
pub struct TestCa {
    key: SigningKey,
    cert_der: Vec<u8>,
    name: Name,
}

/// A device attestation identity: the key and certificate of slot `f9`.
#[derive(Clone)]
pub struct DeviceAttestation {
    /// The `f9` private key.
    pub key: SigningKey,
    /// The `f9` certificate, DER.
    pub cert_der: Vec<u8>,
    /// The `f9` certificate's subject.
    pub subject: Name,
}

/// What goes into a slot attestation certificate (all fields can be set freely by tests
/// that need a tampered one).
#[derive(Clone, Debug)]
pub struct AttestationFields {
    /// The slot, written into the subject (`YubiKey PIV Attestation 9c`).
    pub slot: u8,
    /// The attested public key, DER SubjectPublicKeyInfo.
    pub spki_der: Vec<u8>,
    /// Firmware version.
    pub firmware: (u8, u8, u8),
    /// Device serial.
    pub serial: u32,
    /// PIN policy.
    pub pin_policy: PinPolicy,
    /// Touch policy.
    pub touch_policy: TouchPolicy,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa")
            .field("name", &self.name.to_string())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for DeviceAttestation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceAttestation")
            .field("subject", &self.subject.to_string())
            .finish_non_exhaustive()
    }
}

impl TestCa {
    /// A new CA with a fresh P-256 key and a self-signed certificate named `CN=<common_name>`.
    pub fn generate(common_name: &str) -> Result<Self, CertError> {
        let key = SigningKey::random(&mut OsRng);
        let name = Name::from_str(&format!("CN={common_name}")).map_err(err)?;
        let spki = spki_of(&key)?;
        let ext = vec![basic_constraints(true)?];
        let cert_der = sign_cert(&key, &name, &name, spki, Some(ext), TWENTY_YEARS)?;
        Ok(Self {
            key,
            cert_der,
            name,
        })
    }

    /// The CA certificate, DER.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The CA certificate, PEM.
    pub fn cert_pem(&self) -> Result<String, CertError> {
        use der::EncodePem as _;
        Certificate::from_der(&self.cert_der)
            .map_err(err)?
            .to_pem(der::pem::LineEnding::LF)
            .map_err(err)
    }

    /// A device attestation identity (slot `f9`) for one device, signed by this CA.
    pub fn issue_device(&self) -> Result<DeviceAttestation, CertError> {
        let key = SigningKey::random(&mut OsRng);
        let subject = Name::from_str("CN=Yubico PIV Attestation").map_err(err)?;
        let spki = spki_of(&key)?;
        let ext = vec![basic_constraints(true)?];
        let cert_der = sign_cert(
            &self.key,
            &self.name,
            &subject,
            spki,
            Some(ext),
            TWENTY_YEARS,
        )?;
        Ok(DeviceAttestation {
            key,
            cert_der,
            subject,
        })
    }
}

impl DeviceAttestation {
    /// A slot attestation certificate signed by this device key, with Yubico's extensions.
    pub fn attest(&self, fields: &AttestationFields) -> Result<Vec<u8>, CertError> {
        let subject =
            Name::from_str(&format!("CN={SUBJECT_PREFIX}{:02x}", fields.slot)).map_err(err)?;
        let spki = SubjectPublicKeyInfoOwned::from_der(&fields.spki_der).map_err(err)?;
        let (a, b, c) = fields.firmware;
        let ext = vec![
            raw_ext(OID_FIRMWARE, vec![a, b, c])?,
            raw_ext(OID_SERIAL, fields.serial.to_der().map_err(err)?)?,
            raw_ext(
                OID_POLICY,
                vec![fields.pin_policy.to_byte(), fields.touch_policy.to_byte()],
            )?,
            raw_ext(OID_FORM_FACTOR, vec![0x01])?,
        ];
        sign_cert(
            &self.key,
            &self.subject,
            &subject,
            spki,
            Some(ext),
            TWENTY_YEARS,
        )
    }
}

/// Valid from an hour ago (a YubiKey copies its f9 certificate's dates, so attestations are
/// never "from the future") for `lifetime`.
fn validity(lifetime: Duration) -> Result<Validity, CertError> {
    let now = SystemTime::now();
    Ok(Validity {
        not_before: time(now - Duration::from_secs(3600))?,
        not_after: time(now + lifetime)?,
    })
}

/// UTCTime before 2050, GeneralizedTime from then on (RFC 5280 4.1.2.5).
fn time(t: SystemTime) -> Result<Time, CertError> {
    match UtcTime::from_system_time(t) {
        Ok(utc) => Ok(Time::UtcTime(utc)),
        Err(_) => Ok(Time::GeneralTime(
            GeneralizedTime::from_system_time(t).map_err(err)?,
        )),
    }
}

fn spki_of(key: &SigningKey) -> Result<SubjectPublicKeyInfoOwned, CertError> {
    let der = key.verifying_key().to_public_key_der().map_err(err)?;
    SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).map_err(err)
}

fn basic_constraints(ca: bool) -> Result<Extension, CertError> {
    let value = BasicConstraints {
        ca,
        path_len_constraint: None,
    }
    .to_der()
    .map_err(err)?;
    Ok(Extension {
        extn_id: OID_BASIC_CONSTRAINTS,
        critical: true,
        extn_value: OctetString::new(value).map_err(err)?,
    })
}

fn raw_ext(oid: ObjectIdentifier, value: Vec<u8>) -> Result<Extension, CertError> {
    Ok(Extension {
        extn_id: oid,
        critical: false,
        extn_value: OctetString::new(value).map_err(err)?,
    })
}

fn sign_cert(
    issuer_key: &SigningKey,
    issuer: &Name,
    subject: &Name,
    spki: SubjectPublicKeyInfoOwned,
    extensions: Option<Vec<Extension>>,
    lifetime: Duration,
) -> Result<Vec<u8>, CertError> {
    let mut serial = [0u8; 16];
    OsRng.fill_bytes(&mut serial);
    serial[0] &= 0x7f;
    serial[0] |= 0x01;
    let sig_alg = AlgorithmIdentifierOwned {
        oid: OID_ECDSA_SHA256,
        parameters: None,
    };
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::new(&serial).map_err(err)?,
        signature: sig_alg.clone(),
        issuer: issuer.clone(),
        validity: validity(lifetime)?,
        subject: subject.clone(),
        subject_public_key_info: spki,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions,
    };
    let tbs_der = tbs.to_der().map_err(err)?;
    let sig: DerSignature = issuer_key.sign(&tbs_der);
    let cert = Certificate {
        tbs_certificate: tbs,
        signature_algorithm: sig_alg,
        signature: BitString::from_bytes(sig.as_bytes()).map_err(err)?,
    };
    cert.to_der().map_err(err)
}
