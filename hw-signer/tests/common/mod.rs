//! Shared helpers of the virtual-card tests: one card at a time per vpcd port, serialised
//! by a process-wide lock; pcscd with the repository's vpcd readers must be running.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use hw_signer::attestation::PinnedCas;
use hw_signer::enrol::{enrol, EnrolRequest, Enrolment};
use hw_signer::virtual_card::{CardConfig, TestCa, VirtualYubiKey, VPCD_PORT};
use hw_signer::{
    list_devices, FixedPrompt, HwError, ManagementKey, MgmAlgorithm, Pin, PinRequest, Prompt,
};
use zeroize::Zeroizing;

pub const NEW_PIN: &str = "246810";
pub const NEW_PUK: &str = "13579111";

static HW_LOCK: Mutex<()> = Mutex::new(());

/// Serialises the tests that use pcscd and the vpcd readers; checks pcscd first.
pub fn hw_lock() -> MutexGuard<'static, ()> {
    let guard = HW_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    require_pcscd();
    guard
}

/// Fails (never skips) with instructions when pcscd or the vpcd readers are missing.
pub fn require_pcscd() {
    let how = "the virtual-card tests need pcscd with vsmartcard's vpcd readers: \
               run `scripts/pcscd-vpcd.sh start` as root (it installs pcscd, libpcsclite-dev, \
               pkgconf and vsmartcard-vpcd with apt when missing and starts pcscd with \
               scripts/pcsc/reader.conf.d); .ci/run does this";
    let ctx = match pcsc::Context::establish(pcsc::Scope::System) {
        Ok(c) => c,
        Err(e) => panic!("pcscd is not reachable ({e}): {how}"),
    };
    let readers: Vec<String> = match ctx.list_readers_owned() {
        Ok(r) => r.iter().map(|r| r.to_string_lossy().into_owned()).collect(),
        Err(e) => panic!("pcscd lists no readers ({e}): {how}"),
    };
    let vpcd = readers
        .iter()
        .filter(|r| r.ends_with(" 00 00") || r.ends_with(" 00 01"));
    assert!(
        vpcd.count() >= 2,
        "pcscd has no vpcd reader pair (readers: {readers:?}): {how}"
    );
}

/// Starts a card and waits until pcscd lists it.
pub fn start_card(config: CardConfig) -> VirtualYubiKey {
    let serial = config.serial;
    let card = VirtualYubiKey::start(config).expect("card thread");
    wait_listed(serial);
    card
}

pub fn wait_listed(serial: u32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(devs) = list_devices() {
            if devs.iter().any(|d| d.serial == serial) {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "virtual YubiKey {serial} did not appear in pcscd within 10 s (is pcscd running \
             with scripts/pcsc/reader.conf.d? `scripts/pcscd-vpcd.sh status`)"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until pcscd itself has seen the reader of `port` empty. Asking the card (listing
/// devices) instead would send commands to a vanished card before pcscd noticed, which
/// leaves Debian 12's vpcd with the reader stuck.
pub fn wait_empty(port: u16) {
    let suffix = if port == VPCD_PORT {
        " 00 00"
    } else {
        " 00 01"
    };
    let ctx = pcsc::Context::establish(pcsc::Scope::System).expect("pcscd");
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let readers = ctx.list_readers_owned().unwrap_or_default();
        if let Some(name) = readers
            .iter()
            .find(|r| r.to_string_lossy().ends_with(suffix))
        {
            let mut states = [pcsc::ReaderState::new(name.clone(), pcsc::State::UNAWARE)];
            if ctx
                .get_status_change(Duration::from_millis(100), &mut states)
                .is_ok()
                && states[0].event_state().contains(pcsc::State::EMPTY)
            {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the vpcd reader of port {port} still holds a card 10 s after removal");
}

/// A test CA and a card config carrying an f9 identity it signed.
pub fn attested_config(ca: &TestCa, serial: u32, port: u16) -> CardConfig {
    let mut cfg = CardConfig::new(serial);
    cfg.port = port;
    cfg.attestation = Some(ca.issue_device().unwrap());
    cfg
}

pub fn pin(s: &str) -> Pin {
    Pin::new(s.as_bytes().to_vec()).unwrap()
}

pub fn puk(s: &str) -> Pin {
    Pin::new_puk(s.as_bytes().to_vec()).unwrap()
}

/// An enrolment request that changes the factory PIN, PUK and management key.
pub fn full_request(
    ca: &TestCa,
    serial: u32,
    version: (u8, u8, u8),
) -> (EnrolRequest, ManagementKey) {
    let new_mgm = ManagementKey::random(MgmAlgorithm::Aes192);
    let mut req = EnrolRequest::new(serial, ManagementKey::factory_default(version));
    req.current_pin = Some(pin("123456"));
    req.new_pin = Some(pin(NEW_PIN));
    req.current_puk = Some(puk("12345678"));
    req.new_puk = Some(puk(NEW_PUK));
    req.new_mgm = Some(new_mgm.clone());
    req.pinned_cas = PinnedCas::from_der(ca.cert_der()).unwrap();
    req.now = SystemTime::now();
    (req, new_mgm)
}

/// Starts an attested card on `port` and enrols it.
pub fn enrolled_card(ca: &TestCa, serial: u32, port: u16) -> (VirtualYubiKey, Enrolment) {
    let card = start_card(attested_config(ca, serial, port));
    let (req, _) = full_request(ca, serial, (5, 7, 1));
    let enrolment = enrol(&req).expect("enrolment");
    (card, enrolment)
}

pub fn first_port() -> u16 {
    VPCD_PORT
}

pub fn second_port() -> u16 {
    VPCD_PORT + 1
}

/// A prompt with the new PIN that counts its calls.
pub fn prompt() -> Arc<FixedPrompt> {
    Arc::new(FixedPrompt::with_touch(NEW_PIN.as_bytes().to_vec(), |_| {}))
}

/// A scripted prompt: PINs to answer in order, whether to confirm a last attempt, and
/// a log of requests.
pub struct ScriptedPrompt {
    pins: Mutex<Vec<Vec<u8>>>,
    pub confirm_last: bool,
    pub requests: Mutex<Vec<PinRequest>>,
    pub touch_prompts: Mutex<u32>,
}

impl ScriptedPrompt {
    pub fn new(pins: &[&str], confirm_last: bool) -> Arc<Self> {
        Arc::new(Self {
            pins: Mutex::new(pins.iter().rev().map(|p| p.as_bytes().to_vec()).collect()),
            confirm_last,
            requests: Mutex::new(Vec::new()),
            touch_prompts: Mutex::new(0),
        })
    }
}

impl Prompt for ScriptedPrompt {
    fn pin(&self, request: &PinRequest) -> Result<Zeroizing<Vec<u8>>, HwError> {
        self.requests.lock().unwrap().push(*request);
        self.pins
            .lock()
            .unwrap()
            .pop()
            .map(Zeroizing::new)
            .ok_or_else(|| HwError::Prompt("no more PINs scripted".into()))
    }

    fn confirm_last_pin_attempt(&self, _serial: u32) -> bool {
        self.confirm_last
    }

    fn touch_now(&self, _serial: u32) {
        *self.touch_prompts.lock().unwrap() += 1;
    }
}
