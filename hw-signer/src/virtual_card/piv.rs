//! The PIV applet with the YubiKey extensions the `yubikey` crate uses: APDU in, APDU out.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use p256::ecdsa::signature::hazmat::PrehashSigner as _;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::EncodePublicKey as _;
use rand_core::{OsRng, RngCore as _};
use zeroize::Zeroizing;

use super::button::{ApduRecord, Shared};
use super::ca::{AttestationFields, DeviceAttestation};
use super::CardConfig;
use crate::attestation::F9_CERT_OBJECT;
use crate::policy::{PinPolicy, TouchPolicy};
use crate::tlv;

/// Status words.
pub(crate) mod sw {
    pub const OK: u16 = 0x9000;
    pub const SECURITY: u16 = 0x6982;
    pub const BLOCKED: u16 = 0x6983;
    pub const CONDITIONS: u16 = 0x6985;
    pub const WRONG_DATA: u16 = 0x6a80;
    pub const NOT_FOUND: u16 = 0x6a82;
    pub const WRONG_P1P2: u16 = 0x6a86;
    pub const REF_NOT_FOUND: u16 = 0x6a88;
    pub const WRONG_SLOT: u16 = 0x6b00;
    pub const INS_UNSUPPORTED: u16 = 0x6d00;
    pub const CLA_UNSUPPORTED: u16 = 0x6e00;
}

const PIV_AID: [u8; 5] = [0xa0, 0x00, 0x00, 0x03, 0x08];
const MGMT_AID: [u8; 8] = [0xa0, 0x00, 0x00, 0x05, 0x27, 0x47, 0x11, 0x17];
const OTP_AID: [u8; 7] = [0xa0, 0x00, 0x00, 0x05, 0x27, 0x20, 0x01];
/// Application property template returned on SELECT (modelled, see yubikey-piv.md).
const PIV_APT: [u8; 19] = [
    0x61, 0x11, 0x4f, 0x06, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00, 0x79, 0x07, 0x4f, 0x05, 0xa0, 0x00,
    0x00, 0x03, 0x08,
];
/// The factory default PIN, PUK and management key.
pub(crate) const DEFAULT_PIN: &[u8] = b"123456";
pub(crate) const DEFAULT_PUK: &[u8] = b"12345678";
pub(crate) const DEFAULT_MGM: [u8; 24] = [
    1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
];
/// Management key algorithm bytes.
pub(crate) const ALG_3DES: u8 = 0x03;
pub(crate) const ALG_AES128: u8 = 0x08;
pub(crate) const ALG_AES192: u8 = 0x0a;
pub(crate) const ALG_AES256: u8 = 0x0c;
const ALG_ECCP256: u8 = 0x11;
const ORIGIN_GENERATED: u8 = 1;
const ORIGIN_IMPORTED: u8 = 2;
/// How long a CACHED touch covers later operations.
const TOUCH_CACHE: Duration = Duration::from_secs(15);
const MAX_PIN_TRIES: u8 = 3;

struct SlotKey {
    key: SigningKey,
    pin: PinPolicy,
    touch: TouchPolicy,
    origin: u8,
}

#[derive(PartialEq, Eq)]
enum Applet {
    None,
    Piv,
    Other,
}

/// The card: persistent state (keys, PIN, PUK, management key, objects) and the session
/// state that a reset clears.
pub(crate) struct PivCard {
    cfg: CardConfig,
    shared: Arc<Shared>,
    pin: Zeroizing<Vec<u8>>,
    puk: Zeroizing<Vec<u8>>,
    pin_left: u8,
    puk_left: u8,
    pin_max: u8,
    puk_max: u8,
    pin_default: bool,
    puk_default: bool,
    mgm_alg: u8,
    mgm: Zeroizing<Vec<u8>>,
    mgm_default: bool,
    slots: BTreeMap<u8, SlotKey>,
    objects: BTreeMap<u32, Vec<u8>>,
    f9: Option<DeviceAttestation>,
    // Session.
    applet: Applet,
    pin_verified: bool,
    mgm_authed: bool,
    mgm_expected: Option<Zeroizing<Vec<u8>>>,
    chain: Vec<u8>,
    pending_out: Vec<u8>,
    last_touch: Option<Instant>,
}

/// The management key algorithm a firmware version ships with (AES-192 from 5.7).
pub(crate) fn default_mgm_alg(version: (u8, u8, u8)) -> u8 {
    if version >= (5, 7, 0) {
        ALG_AES192
    } else {
        ALG_3DES
    }
}

impl PivCard {
    pub(crate) fn new(cfg: CardConfig, shared: Arc<Shared>) -> Self {
        let mgm_alg = cfg
            .mgm_algorithm
            .map(super::mgm_byte)
            .unwrap_or(default_mgm_alg(cfg.version));
        let f9 = cfg.attestation.clone();
        let mut objects = BTreeMap::new();
        if let Some(f9) = &f9 {
            objects.insert(F9_CERT_OBJECT, cert_object(&f9.cert_der));
        }
        let (pin, puk, mgm, defaults) = match &cfg.credentials {
            Some(c) => (
                Zeroizing::new(c.pin.to_vec()),
                Zeroizing::new(c.puk.to_vec()),
                Zeroizing::new(c.mgm.to_vec()),
                false,
            ),
            None => (
                Zeroizing::new(DEFAULT_PIN.to_vec()),
                Zeroizing::new(DEFAULT_PUK.to_vec()),
                // The default bytes, cut or repeated to the algorithm's key length.
                Zeroizing::new(
                    DEFAULT_MGM
                        .iter()
                        .cycle()
                        .take(key_len(mgm_alg))
                        .copied()
                        .collect(),
                ),
                true,
            ),
        };
        Self {
            cfg,
            shared,
            pin,
            puk,
            pin_left: MAX_PIN_TRIES,
            puk_left: MAX_PIN_TRIES,
            pin_max: MAX_PIN_TRIES,
            puk_max: MAX_PIN_TRIES,
            pin_default: defaults,
            puk_default: defaults,
            mgm_alg,
            mgm,
            mgm_default: defaults,
            slots: BTreeMap::new(),
            objects,
            f9,
            applet: Applet::None,
            pin_verified: false,
            mgm_authed: false,
            mgm_expected: None,
            chain: Vec::new(),
            pending_out: Vec::new(),
            last_touch: None,
        }
    }

    /// Power on, power off or reset: everything but the persistent state is cleared.
    pub(crate) fn reset_session(&mut self) {
        self.applet = Applet::None;
        self.pin_verified = false;
        self.mgm_authed = false;
        self.mgm_expected = None;
        self.chain.clear();
        self.pending_out.clear();
    }

    /// Processes one command APDU; returns the response APDU (data + SW1 SW2).
    pub(crate) fn process(&mut self, apdu: &[u8]) -> Vec<u8> {
        if apdu.len() < 4 {
            return sw_only(sw::WRONG_DATA);
        }
        let (cla, ins, p1, p2) = (apdu[0], apdu[1], apdu[2], apdu[3]);
        let data: &[u8] = if apdu.len() > 5 {
            let lc = usize::from(apdu[4]);
            match apdu.get(5..5 + lc) {
                Some(d) => d,
                None => return sw_only(sw::WRONG_DATA),
            }
        } else {
            &[]
        };
        self.shared.record(ApduRecord {
            cla,
            ins,
            p1,
            p2,
            len: data.len(),
        });
        if ins == 0xc0 {
            return self.get_response();
        }
        self.pending_out.clear();
        // Command chaining: CLA 0x10 collects, the last command (CLA 0x00) runs.
        if cla & 0x10 != 0 {
            self.chain.extend_from_slice(data);
            return sw_only(sw::OK);
        }
        if cla & !0x10 != 0 {
            return sw_only(sw::CLA_UNSUPPORTED);
        }
        let full: Zeroizing<Vec<u8>> = if self.chain.is_empty() {
            Zeroizing::new(data.to_vec())
        } else {
            let mut all = Zeroizing::new(std::mem::take(&mut self.chain));
            all.extend_from_slice(data);
            all
        };
        let (out, status) = if ins == 0xa4 {
            self.select(p1, &full)
        } else if self.applet != Applet::Piv {
            (Vec::new(), sw::INS_UNSUPPORTED)
        } else {
            self.dispatch(ins, p1, p2, &full)
        };
        self.respond(out, status)
    }

    fn dispatch(&mut self, ins: u8, p1: u8, p2: u8, data: &[u8]) -> (Vec<u8>, u16) {
        match ins {
            0xfd => (
                vec![self.cfg.version.0, self.cfg.version.1, self.cfg.version.2],
                sw::OK,
            ),
            0xf8 => (self.cfg.serial.to_be_bytes().to_vec(), sw::OK),
            0x20 => self.verify(p1, p2, data),
            0x24 => self.change_reference(p2, data),
            0x2c => self.reset_retry(p2, data),
            0x87 => self.authenticate(p1, p2, data),
            0x47 => self.generate(p2, data),
            0xfe => self.import(p1, p2, data),
            0xf7 => self.metadata(p2),
            0xf9 => self.attest(p1),
            0xcb => self.get_data(p1, p2, data),
            0xdb => self.put_data(p1, p2, data),
            0xff => self.set_mgm_key(p1, p2, data),
            0xfa => self.set_pin_retries(p1, p2),
            0xfb => self.reset_piv(),
            _ => (Vec::new(), sw::INS_UNSUPPORTED),
        }
    }

    fn select(&mut self, p1: u8, aid: &[u8]) -> (Vec<u8>, u16) {
        if p1 != 0x04 {
            return (Vec::new(), sw::WRONG_P1P2);
        }
        if aid.len() >= PIV_AID.len() && aid.starts_with(&PIV_AID) {
            self.applet = Applet::Piv;
            // Selecting PIV again drops the PIN verification (the crate relies on it).
            self.pin_verified = false;
            (PIV_APT.to_vec(), sw::OK)
        } else if aid == MGMT_AID || aid == OTP_AID {
            self.applet = Applet::Other;
            (Vec::new(), sw::OK)
        } else {
            (Vec::new(), sw::NOT_FOUND)
        }
    }

    fn respond(&mut self, mut out: Vec<u8>, status: u16) -> Vec<u8> {
        if out.len() > 256 {
            self.pending_out = out.split_off(256);
            let left = self.pending_out.len().min(0xff) as u8;
            let left = if self.pending_out.len() >= 256 {
                0
            } else {
                left
            };
            out.extend_from_slice(&[0x61, left]);
            return out;
        }
        out.extend_from_slice(&status.to_be_bytes());
        out
    }

    fn get_response(&mut self) -> Vec<u8> {
        if self.pending_out.is_empty() {
            return sw_only(sw::CONDITIONS);
        }
        let out = std::mem::take(&mut self.pending_out);
        self.respond(out, sw::OK)
    }

    fn verify(&mut self, p1: u8, p2: u8, data: &[u8]) -> (Vec<u8>, u16) {
        if p1 != 0 || p2 != 0x80 {
            return (Vec::new(), sw::REF_NOT_FOUND);
        }
        if data.is_empty() {
            return if self.pin_left == 0 {
                (Vec::new(), sw::BLOCKED)
            } else if self.pin_verified {
                (Vec::new(), sw::OK)
            } else {
                (Vec::new(), 0x63c0 | u16::from(self.pin_left))
            };
        }
        if self.pin_left == 0 {
            return (Vec::new(), sw::BLOCKED);
        }
        let Some(given) = unpad_pin(data) else {
            return (Vec::new(), sw::WRONG_DATA);
        };
        if ct_eq(&given, &self.pin) {
            self.pin_left = self.pin_max;
            self.pin_verified = true;
            (Vec::new(), sw::OK)
        } else {
            self.pin_verified = false;
            self.pin_left -= 1;
            (Vec::new(), 0x63c0 | u16::from(self.pin_left))
        }
    }

    fn change_reference(&mut self, p2: u8, data: &[u8]) -> (Vec<u8>, u16) {
        if data.len() != 16 || !matches!(p2, 0x80 | 0x81) {
            return (Vec::new(), sw::WRONG_DATA);
        }
        let (Some(old), Some(new)) = (unpad_pin(&data[..8]), unpad_pin(&data[8..])) else {
            return (Vec::new(), sw::WRONG_DATA);
        };
        let is_pin = p2 == 0x80;
        let (secret, left, max) = if is_pin {
            (&mut self.pin, &mut self.pin_left, self.pin_max)
        } else {
            (&mut self.puk, &mut self.puk_left, self.puk_max)
        };
        if *left == 0 {
            return (Vec::new(), sw::BLOCKED);
        }
        if !ct_eq(&old, secret) {
            *left -= 1;
            return (Vec::new(), 0x63c0 | u16::from(*left));
        }
        *left = max;
        *secret = new;
        let default = if is_pin { DEFAULT_PIN } else { DEFAULT_PUK };
        let is_default = secret.as_slice() == default;
        if is_pin {
            self.pin_default = is_default;
        } else {
            self.puk_default = is_default;
        }
        (Vec::new(), sw::OK)
    }

    fn reset_retry(&mut self, p2: u8, data: &[u8]) -> (Vec<u8>, u16) {
        if data.len() != 16 || p2 != 0x80 {
            return (Vec::new(), sw::WRONG_DATA);
        }
        let (Some(puk), Some(new_pin)) = (unpad_pin(&data[..8]), unpad_pin(&data[8..])) else {
            return (Vec::new(), sw::WRONG_DATA);
        };
        if self.puk_left == 0 {
            return (Vec::new(), sw::BLOCKED);
        }
        if !ct_eq(&puk, &self.puk) {
            self.puk_left -= 1;
            return (Vec::new(), 0x63c0 | u16::from(self.puk_left));
        }
        self.puk_left = self.puk_max;
        self.pin_default = new_pin.as_slice() == DEFAULT_PIN;
        self.pin = new_pin;
        self.pin_left = self.pin_max;
        (Vec::new(), sw::OK)
    }

    fn authenticate(&mut self, p1: u8, p2: u8, data: &[u8]) -> (Vec<u8>, u16) {
        let Some(inner) = tlv::find(data, 0x7c) else {
            return (Vec::new(), sw::WRONG_DATA);
        };
        if p2 == 0x9b {
            return self.mgm_auth(p1, inner);
        }
        self.sign(p1, p2, inner)
    }

    fn mgm_auth(&mut self, alg: u8, inner: &[u8]) -> (Vec<u8>, u16) {
        if alg != self.mgm_alg {
            return (Vec::new(), sw::WRONG_P1P2);
        }
        let Some(items) = tlv::read_all(inner) else {
            return (Vec::new(), sw::WRONG_DATA);
        };
        let block = block_len(self.mgm_alg);
        let get = |t: u8| items.iter().find(|(tag, _)| *tag == t).map(|(_, v)| *v);
        match (get(0x80), get(0x81)) {
            // Step 1: the host asks for a witness.
            (Some([]), None) => {
                let mut witness = Zeroizing::new(vec![0u8; block]);
                OsRng.fill_bytes(&mut witness);
                let mut expected = witness.clone();
                if !cipher_block(self.mgm_alg, &self.mgm, &mut expected, false) {
                    return (Vec::new(), sw::WRONG_DATA);
                }
                self.mgm_expected = Some(expected);
                self.mgm_authed = false;
                let out = tlv::tlv(0x7c, &tlv::tlv(0x80, &witness));
                (out, sw::OK)
            }
            // Step 2: decrypted witness plus the host's challenge.
            (Some(answer), Some(challenge)) => {
                let expected = self.mgm_expected.take();
                let ok = expected.is_some_and(|e| ct_eq(answer, &e));
                if !ok || challenge.len() != block {
                    self.mgm_authed = false;
                    return (Vec::new(), sw::SECURITY);
                }
                let mut response = challenge.to_vec();
                if !cipher_block(self.mgm_alg, &self.mgm, &mut response, true) {
                    return (Vec::new(), sw::WRONG_DATA);
                }
                self.mgm_authed = true;
                (tlv::tlv(0x7c, &tlv::tlv(0x82, &response)), sw::OK)
            }
            _ => (Vec::new(), sw::WRONG_DATA),
        }
    }

    fn sign(&mut self, alg: u8, slot: u8, inner: &[u8]) -> (Vec<u8>, u16) {
        let Some(items) = tlv::read_all(inner) else {
            return (Vec::new(), sw::WRONG_DATA);
        };
        let get = |t: u8| items.iter().find(|(tag, _)| *tag == t).map(|(_, v)| *v);
        let (Some([]), Some(digest)) = (get(0x82), get(0x81)) else {
            return (Vec::new(), sw::WRONG_DATA);
        };
        let Some(key) = self.slots.get(&slot) else {
            return (Vec::new(), sw::NOT_FOUND);
        };
        if alg != ALG_ECCP256 || digest.is_empty() || digest.len() > 32 {
            return (Vec::new(), sw::WRONG_DATA);
        }
        let needs_pin = match key.pin {
            PinPolicy::Never => false,
            // Slot 9e's default is "never"; every other slot needs the PIN.
            PinPolicy::Default => slot != 0x9e,
            PinPolicy::Once | PinPolicy::Always => true,
        };
        if needs_pin && !self.pin_verified {
            return (Vec::new(), sw::SECURITY);
        }
        let needs_touch = match key.touch {
            TouchPolicy::Always => true,
            TouchPolicy::Cached => self.last_touch.is_none_or(|t| t.elapsed() >= TOUCH_CACHE),
            TouchPolicy::Never | TouchPolicy::Default => false,
        };
        let pin_always = key.pin == PinPolicy::Always;
        let mut prehash = [0u8; 32];
        prehash[32 - digest.len()..].copy_from_slice(digest);
        if needs_touch {
            if !self.shared.wait_for_touch(self.cfg.touch_timeout) {
                if pin_always {
                    self.pin_verified = false;
                }
                return (Vec::new(), sw::SECURITY);
            }
            self.last_touch = Some(Instant::now());
        }
        let Some(key) = self.slots.get(&slot) else {
            return (Vec::new(), sw::NOT_FOUND);
        };
        let sig: Result<Signature, _> = key.key.sign_prehash(&prehash);
        if pin_always {
            self.pin_verified = false;
        }
        match sig {
            Ok(sig) => {
                let der = sig.to_der();
                (tlv::tlv(0x7c, &tlv::tlv(0x82, der.as_bytes())), sw::OK)
            }
            Err(_) => (Vec::new(), sw::WRONG_DATA),
        }
    }

    fn parse_policies(&self, data: &[u8]) -> Option<(PinPolicy, TouchPolicy)> {
        let pin = match tlv::find(data, 0xaa) {
            Some([b]) => PinPolicy::from_byte(*b)?,
            Some(_) => return None,
            None => PinPolicy::Default,
        };
        let touch = match tlv::find(data, 0xab) {
            Some([b]) => TouchPolicy::from_byte(*b)?,
            Some(_) => return None,
            None => TouchPolicy::Default,
        };
        Some((pin, touch))
    }

    fn generate(&mut self, slot: u8, data: &[u8]) -> (Vec<u8>, u16) {
        if !self.mgm_authed {
            return (Vec::new(), sw::SECURITY);
        }
        if !is_key_slot(slot) {
            return (Vec::new(), sw::WRONG_SLOT);
        }
        let Some(inner) = tlv::find(data, 0xac) else {
            return (Vec::new(), sw::WRONG_DATA);
        };
        if tlv::find(inner, 0x80) != Some(&[ALG_ECCP256]) {
            return (Vec::new(), sw::WRONG_DATA);
        }
        let Some((pin, touch)) = self.parse_policies(inner) else {
            return (Vec::new(), sw::WRONG_DATA);
        };
        let key = SigningKey::random(&mut OsRng);
        let point = key.verifying_key().to_encoded_point(false);
        self.slots.insert(
            slot,
            SlotKey {
                key,
                pin,
                touch,
                origin: ORIGIN_GENERATED,
            },
        );
        (tlv::tlv(0x7f49, &tlv::tlv(0x86, point.as_bytes())), sw::OK)
    }

    fn import(&mut self, alg: u8, slot: u8, data: &[u8]) -> (Vec<u8>, u16) {
        if !self.mgm_authed {
            return (Vec::new(), sw::SECURITY);
        }
        if !is_key_slot(slot) {
            return (Vec::new(), sw::WRONG_SLOT);
        }
        if alg != ALG_ECCP256 {
            return (Vec::new(), sw::WRONG_DATA);
        }
        let Some(scalar) = tlv::find(data, 0x06) else {
            return (Vec::new(), sw::WRONG_DATA);
        };
        let Ok(key) = SigningKey::from_slice(scalar) else {
            return (Vec::new(), sw::WRONG_DATA);
        };
        let Some((pin, touch)) = self.parse_policies(data) else {
            return (Vec::new(), sw::WRONG_DATA);
        };
        self.slots.insert(
            slot,
            SlotKey {
                key,
                pin,
                touch,
                origin: ORIGIN_IMPORTED,
            },
        );
        (Vec::new(), sw::OK)
    }

    fn metadata(&self, slot: u8) -> (Vec<u8>, u16) {
        if self.cfg.version < (5, 3, 0) {
            return (Vec::new(), sw::INS_UNSUPPORTED);
        }
        let mut out = Vec::new();
        match slot {
            0x80 | 0x81 => {
                let (default, max, left) = if slot == 0x80 {
                    (self.pin_default, self.pin_max, self.pin_left)
                } else {
                    (self.puk_default, self.puk_max, self.puk_left)
                };
                out.extend(tlv::tlv(0x01, &[0xff]));
                out.extend(tlv::tlv(0x05, &[u8::from(default)]));
                out.extend(tlv::tlv(0x06, &[max, left]));
            }
            0x9b => {
                out.extend(tlv::tlv(0x01, &[self.mgm_alg]));
                out.extend(tlv::tlv(0x02, &[0x00, 0x01]));
                out.extend(tlv::tlv(0x05, &[u8::from(self.mgm_default)]));
            }
            _ => {
                let Some(k) = self.slots.get(&slot) else {
                    return (Vec::new(), sw::REF_NOT_FOUND);
                };
                let point = k.key.verifying_key().to_encoded_point(false);
                out.extend(tlv::tlv(0x01, &[ALG_ECCP256]));
                out.extend(tlv::tlv(0x02, &[k.pin.to_byte(), k.touch.to_byte()]));
                out.extend(tlv::tlv(0x03, &[k.origin]));
                out.extend(tlv::tlv(0x04, &tlv::tlv(0x86, point.as_bytes())));
            }
        }
        (out, sw::OK)
    }

    fn attest(&self, slot: u8) -> (Vec<u8>, u16) {
        let Some(f9) = &self.f9 else {
            return (Vec::new(), sw::REF_NOT_FOUND);
        };
        let Some(k) = self.slots.get(&slot) else {
            return (Vec::new(), sw::REF_NOT_FOUND);
        };
        if k.origin != ORIGIN_GENERATED {
            // Only keys generated on the device can be attested.
            return (Vec::new(), sw::WRONG_DATA);
        }
        let Ok(spki) = k.key.verifying_key().to_public_key_der() else {
            return (Vec::new(), sw::WRONG_DATA);
        };
        let fields = AttestationFields {
            slot,
            spki_der: spki.as_bytes().to_vec(),
            firmware: self.cfg.version,
            serial: self.cfg.serial,
            pin_policy: k.pin,
            touch_policy: k.touch,
        };
        match f9.attest(&fields) {
            Ok(cert) => (cert, sw::OK),
            Err(_) => (Vec::new(), sw::WRONG_DATA),
        }
    }

    fn get_data(&self, p1: u8, p2: u8, data: &[u8]) -> (Vec<u8>, u16) {
        if (p1, p2) != (0x3f, 0xff) {
            return (Vec::new(), sw::WRONG_P1P2);
        }
        let Some(id) = tlv::find(data, 0x5c).and_then(object_id) else {
            return (Vec::new(), sw::WRONG_DATA);
        };
        match self.objects.get(&id) {
            Some(obj) => (tlv::tlv(0x53, obj), sw::OK),
            None => (Vec::new(), sw::NOT_FOUND),
        }
    }

    fn put_data(&mut self, p1: u8, p2: u8, data: &[u8]) -> (Vec<u8>, u16) {
        if (p1, p2) != (0x3f, 0xff) {
            return (Vec::new(), sw::WRONG_P1P2);
        }
        if !self.mgm_authed {
            return (Vec::new(), sw::SECURITY);
        }
        let Some(items) = tlv::read_all(data) else {
            return (Vec::new(), sw::WRONG_DATA);
        };
        let get = |t: u8| items.iter().find(|(tag, _)| *tag == t).map(|(_, v)| *v);
        let (Some(id), Some(value)) = (get(0x5c).and_then(object_id), get(0x53)) else {
            return (Vec::new(), sw::WRONG_DATA);
        };
        if value.is_empty() {
            self.objects.remove(&id);
        } else {
            self.objects.insert(id, value.to_vec());
        }
        (Vec::new(), sw::OK)
    }

    fn set_mgm_key(&mut self, p1: u8, p2: u8, data: &[u8]) -> (Vec<u8>, u16) {
        if p1 != 0xff || !matches!(p2, 0xff | 0xfe) {
            return (Vec::new(), sw::WRONG_P1P2);
        }
        if !self.mgm_authed {
            return (Vec::new(), sw::SECURITY);
        }
        if data.len() < 3 || data[1] != 0x9b || usize::from(data[2]) != data.len() - 3 {
            return (Vec::new(), sw::WRONG_DATA);
        }
        let alg = data[0];
        let key = &data[3..];
        let aes_ok = self.cfg.version >= (5, 4, 0);
        let ok = match alg {
            ALG_3DES => key.len() == 24,
            ALG_AES128 => aes_ok && key.len() == 16,
            ALG_AES192 => aes_ok && key.len() == 24,
            ALG_AES256 => aes_ok && key.len() == 32,
            _ => false,
        };
        if !ok {
            return (Vec::new(), sw::WRONG_DATA);
        }
        self.mgm_alg = alg;
        self.mgm = Zeroizing::new(key.to_vec());
        self.mgm_default = key.len() >= 16 && DEFAULT_MGM.iter().cycle().take(key.len()).eq(key);
        (Vec::new(), sw::OK)
    }

    fn set_pin_retries(&mut self, pin: u8, puk: u8) -> (Vec<u8>, u16) {
        if !self.mgm_authed || !self.pin_verified {
            return (Vec::new(), sw::SECURITY);
        }
        if pin == 0 || puk == 0 || pin > 15 || puk > 15 {
            return (Vec::new(), sw::WRONG_P1P2);
        }
        // Like a YubiKey: setting the retry counters resets PIN and PUK to defaults.
        self.pin_max = pin;
        self.puk_max = puk;
        self.pin_left = pin;
        self.puk_left = puk;
        self.pin = Zeroizing::new(DEFAULT_PIN.to_vec());
        self.puk = Zeroizing::new(DEFAULT_PUK.to_vec());
        self.pin_default = true;
        self.puk_default = true;
        (Vec::new(), sw::OK)
    }

    fn reset_piv(&mut self) -> (Vec<u8>, u16) {
        if self.pin_left != 0 || self.puk_left != 0 {
            return (Vec::new(), sw::CONDITIONS);
        }
        let f9 = self.f9.clone();
        let mut fresh = PivCard::new(
            CardConfig {
                credentials: None,
                mgm_algorithm: None,
                ..self.cfg.clone()
            },
            Arc::clone(&self.shared),
        );
        fresh.f9 = f9;
        fresh.applet = Applet::Piv;
        *self = fresh;
        (Vec::new(), sw::OK)
    }
}

fn sw_only(status: u16) -> Vec<u8> {
    status.to_be_bytes().to_vec()
}

fn is_key_slot(slot: u8) -> bool {
    matches!(slot, 0x9a | 0x9c | 0x9d | 0x9e | 0x82..=0x95)
}

fn object_id(tag: &[u8]) -> Option<u32> {
    match tag {
        [a, b, c] => Some(u32::from_be_bytes([0, *a, *b, *c])),
        [a] => Some(u32::from(*a)),
        _ => None,
    }
}

/// A PIV certificate object: `70 L <cert> 71 01 00 FE 00`.
pub(crate) fn cert_object(cert: &[u8]) -> Vec<u8> {
    let mut out = tlv::tlv(0x70, cert);
    out.extend_from_slice(&[0x71, 0x01, 0x00, 0xfe, 0x00]);
    out
}

/// A PIN or PUK from its 8-byte 0xFF-padded form; 6 to 8 bytes, no 0xFF inside.
fn unpad_pin(data: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if data.len() != 8 {
        return None;
    }
    let len = data.iter().position(|b| *b == 0xff).unwrap_or(8);
    if len < 6 || data[len..].iter().any(|b| *b != 0xff) {
        return None;
    }
    Some(Zeroizing::new(data[..len].to_vec()))
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn key_len(alg: u8) -> usize {
    match alg {
        ALG_AES128 => 16,
        ALG_AES256 => 32,
        _ => 24,
    }
}

fn block_len(alg: u8) -> usize {
    if alg == ALG_3DES {
        8
    } else {
        16
    }
}

/// Encrypts (or decrypts) one block in place with the management key.
fn cipher_block(alg: u8, key: &[u8], block: &mut [u8], encrypt: bool) -> bool {
    use aes::cipher::{BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
    fn run<C: KeyInit + BlockCipherEncrypt + BlockCipherDecrypt>(
        key: &[u8],
        block: &mut [u8],
        encrypt: bool,
    ) -> bool {
        let Ok(c) = C::new_from_slice(key) else {
            return false;
        };
        let Ok(b) = block.try_into() else {
            return false;
        };
        if encrypt {
            c.encrypt_block(b);
        } else {
            c.decrypt_block(b);
        }
        true
    }
    match alg {
        ALG_3DES => run::<des::TdesEde3>(key, block, encrypt),
        ALG_AES128 => run::<aes::Aes128>(key, block, encrypt),
        ALG_AES192 => run::<aes::Aes192>(key, block, encrypt),
        ALG_AES256 => run::<aes::Aes256>(key, block, encrypt),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::virtual_card::{CardConfig, MgmAlgorithm};

    fn card(version: (u8, u8, u8), alg: Option<MgmAlgorithm>) -> PivCard {
        let mut cfg = CardConfig::new(4242);
        cfg.version = version;
        cfg.mgm_algorithm = alg;
        let mut c = PivCard::new(cfg, Arc::new(Shared::default()));
        let r = c.process(&[0x00, 0xa4, 0x04, 0x00, 0x05, 0xa0, 0x00, 0x00, 0x03, 0x08]);
        assert_eq!(&r[r.len() - 2..], &[0x90, 0x00]);
        c
    }

    fn apdu(ins: u8, p1: u8, p2: u8, data: &[u8]) -> Vec<u8> {
        let mut a = vec![0x00, ins, p1, p2, data.len() as u8];
        a.extend_from_slice(data);
        a
    }

    fn sw(r: &[u8]) -> u16 {
        u16::from_be_bytes([r[r.len() - 2], r[r.len() - 1]])
    }

    /// The host side of management-key authentication, as the crate does it.
    fn mgm_auth(c: &mut PivCard, alg: u8, key: &[u8]) -> u16 {
        let r = c.process(&apdu(0x87, alg, 0x9b, &[0x7c, 0x02, 0x80, 0x00]));
        if sw(&r) != sw::OK {
            return sw(&r);
        }
        let witness = tlv::find(tlv::find(&r[..r.len() - 2], 0x7c).unwrap(), 0x80)
            .unwrap()
            .to_vec();
        let mut answer = witness.clone();
        assert!(cipher_block(alg, key, &mut answer, false));
        let challenge = vec![0x11u8; witness.len()];
        let mut inner = tlv::tlv(0x80, &answer);
        inner.extend(tlv::tlv(0x81, &challenge));
        let r = c.process(&apdu(0x87, alg, 0x9b, &tlv::tlv(0x7c, &inner)));
        if sw(&r) == sw::OK {
            let resp = tlv::find(tlv::find(&r[..r.len() - 2], 0x7c).unwrap(), 0x82).unwrap();
            let mut expected = challenge.clone();
            assert!(cipher_block(alg, key, &mut expected, true));
            assert_eq!(resp, expected.as_slice(), "card proves it knows the key");
        }
        sw(&r)
    }

    #[test]
    fn default_management_key_follows_firmware() {
        let mut old = card((5, 4, 3), None);
        assert_eq!(mgm_auth(&mut old, ALG_3DES, &DEFAULT_MGM), sw::OK);
        let mut new = card((5, 7, 1), None);
        assert_eq!(mgm_auth(&mut new, ALG_3DES, &DEFAULT_MGM), sw::WRONG_P1P2);
        assert_eq!(mgm_auth(&mut new, ALG_AES192, &DEFAULT_MGM), sw::OK);
        let mut aes128 = card((5, 7, 1), Some(MgmAlgorithm::Aes128));
        assert_eq!(
            mgm_auth(&mut aes128, ALG_AES128, &DEFAULT_MGM[..16]),
            sw::OK
        );
    }

    #[test]
    fn wrong_management_key_is_refused_and_generate_needs_auth() {
        let mut c = card((5, 7, 1), None);
        let gen = apdu(
            0x47,
            0x00,
            0x9c,
            &[
                0xac, 0x09, 0x80, 0x01, 0x11, 0xaa, 0x01, 0x03, 0xab, 0x01, 0x02,
            ],
        );
        assert_eq!(sw(&c.process(&gen)), sw::SECURITY);
        assert_eq!(mgm_auth(&mut c, ALG_AES192, &[9u8; 24]), sw::SECURITY);
        assert_eq!(sw(&c.process(&gen)), sw::SECURITY);
        assert_eq!(mgm_auth(&mut c, ALG_AES192, &DEFAULT_MGM), sw::OK);
        let r = c.process(&gen);
        assert_eq!(sw(&r), sw::OK);
        assert_eq!(&r[..5], &[0x7f, 0x49, 0x43, 0x86, 0x41]);
    }

    #[test]
    fn pin_counter_blocks_and_puk_unblocks() {
        let mut c = card((5, 7, 1), None);
        let pad = |p: &[u8]| {
            let mut v = p.to_vec();
            v.resize(8, 0xff);
            v
        };
        assert_eq!(sw(&c.process(&apdu(0x20, 0, 0x80, &[]))), 0x63c3);
        assert_eq!(
            sw(&c.process(&apdu(0x20, 0, 0x80, &pad(b"000000")))),
            0x63c2
        );
        assert_eq!(
            sw(&c.process(&apdu(0x20, 0, 0x80, &pad(b"000000")))),
            0x63c1
        );
        assert_eq!(
            sw(&c.process(&apdu(0x20, 0, 0x80, &pad(b"000000")))),
            0x63c0
        );
        assert_eq!(
            sw(&c.process(&apdu(0x20, 0, 0x80, &pad(b"123456")))),
            sw::BLOCKED
        );
        // Five digits never reach the comparison.
        let mut unblock = pad(b"12345678");
        unblock.extend(pad(b"654321"));
        assert_eq!(sw(&c.process(&apdu(0x2c, 0, 0x80, &unblock))), sw::OK);
        assert_eq!(
            sw(&c.process(&apdu(0x20, 0, 0x80, &pad(b"654321")))),
            sw::OK
        );
        assert_eq!(sw(&c.process(&apdu(0x20, 0, 0x80, &[]))), sw::OK);
        assert_eq!(
            sw(&c.process(&apdu(0x20, 0, 0x80, &pad(b"12345")))),
            sw::WRONG_DATA
        );
    }

    #[test]
    fn long_answers_are_chained_and_chained_commands_collected() {
        let mut c = card((5, 7, 1), None);
        assert_eq!(mgm_auth(&mut c, ALG_AES192, &DEFAULT_MGM), sw::OK);
        // PUT DATA of 600 bytes in three chained commands.
        let mut data = vec![0x5c, 0x03, 0x5f, 0xc1, 0x0a];
        data.extend(tlv::tlv(0x53, &[0xabu8; 600]));
        let chunks: Vec<&[u8]> = data.chunks(255).collect();
        for (i, chunk) in chunks.iter().enumerate() {
            let mut a = apdu(0xdb, 0x3f, 0xff, chunk);
            if i + 1 < chunks.len() {
                a[0] = 0x10;
            }
            assert_eq!(sw(&c.process(&a)), sw::OK);
        }
        // GET DATA answers 256 bytes + 61xx, then the rest via GET RESPONSE.
        let mut r = c.process(&apdu(0xcb, 0x3f, 0xff, &[0x5c, 0x03, 0x5f, 0xc1, 0x0a]));
        let mut got = Vec::new();
        while r[r.len() - 2] == 0x61 {
            got.extend_from_slice(&r[..r.len() - 2]);
            r = c.process(&[0x00, 0xc0, 0x00, 0x00, 0x00]);
        }
        assert_eq!(sw(&r), sw::OK);
        got.extend_from_slice(&r[..r.len() - 2]);
        assert_eq!(got, tlv::tlv(0x53, &[0xabu8; 600]));
    }

    #[test]
    fn metadata_reports_defaults_and_refuses_old_firmware() {
        let mut c = card((5, 7, 1), None);
        let r = c.process(&apdu(0xf7, 0, 0x80, &[]));
        assert_eq!(sw(&r), sw::OK);
        assert_eq!(tlv::find(&r[..r.len() - 2], 0x05), Some(&[1u8][..]));
        assert_eq!(tlv::find(&r[..r.len() - 2], 0x06), Some(&[3u8, 3][..]));
        assert_eq!(sw(&c.process(&apdu(0xf7, 0, 0x9c, &[]))), sw::REF_NOT_FOUND);
        let mut old = card((5, 2, 7), None);
        assert_eq!(
            sw(&old.process(&apdu(0xf7, 0, 0x80, &[]))),
            sw::INS_UNSUPPORTED
        );
    }
}
