//! Software overhead of one YubiKey root signature on the virtual card: the wall time of
//! `YubiKeySigner::sign_wire` minus the time the card itself spent on the commands
//! (touch waits excluded; the card presses its own button at once).
//!
//! Needs pcscd with the vpcd readers: `scripts/pcscd-vpcd.sh start`, then
//! `cargo bench -p hw-signer --bench root_signature`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use hw_signer::attestation::PinnedCas;
use hw_signer::enrol::{enrol, EnrolRequest};
use hw_signer::virtual_card::{CardConfig, TestCa, VirtualYubiKey};
use hw_signer::{
    list_devices, FixedPrompt, ManagementKey, MgmAlgorithm, Pin, SessionMode, YubiKeySigner,
};
use tuf_core::Dialect;

const SERIAL: u32 = 99_000_001;
const ROUNDS: usize = 200;
const TARGET_MS: f64 = 2.0;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    if let Err(e) = pcsc::Context::establish(pcsc::Scope::System) {
        eprintln!("pcscd is not reachable ({e}): run `scripts/pcscd-vpcd.sh start` first");
        std::process::exit(1);
    }
    let ca = TestCa::generate("Bench PIV Root CA").unwrap();
    let mut cfg = CardConfig::new(SERIAL);
    cfg.attestation = Some(ca.issue_device().unwrap());
    let card = VirtualYubiKey::start(cfg).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !list_devices()
        .unwrap_or_default()
        .iter()
        .any(|d| d.serial == SERIAL)
    {
        assert!(
            Instant::now() < deadline,
            "virtual card not listed by pcscd"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut req = EnrolRequest::new(SERIAL, ManagementKey::factory_default((5, 7, 1)));
    req.current_pin = Some(Pin::new(b"123456".to_vec()).unwrap());
    req.new_pin = Some(Pin::new(b"246810".to_vec()).unwrap());
    req.current_puk = Some(Pin::new_puk(b"12345678".to_vec()).unwrap());
    req.new_puk = Some(Pin::new_puk(b"13579111".to_vec()).unwrap());
    req.new_mgm = Some(ManagementKey::random(MgmAlgorithm::Aes192));
    req.pinned_cas = PinnedCas::from_der(ca.cert_der()).unwrap();
    req.now = SystemTime::now();
    let enrolment = enrol(&req).unwrap();
    println!(
        "| what | rounds | median total ms | median card ms | median software overhead ms | max overhead ms | target |"
    );
    println!("|---|---|---|---|---|---|---|");
    for mode in [SessionMode::Persistent, SessionMode::PerSignature] {
        let prompt = Arc::new(FixedPrompt::with_touch(b"246810".to_vec(), |_| {}));
        let signer = YubiKeySigner::open(SERIAL, Some(&enrolment.public_key), prompt)
            .unwrap()
            .with_session_mode(mode);
        card.set_auto_touch(Some(Duration::ZERO));
        run(&signer, &card, mode);
    }
}

fn run(signer: &YubiKeySigner, card: &VirtualYubiKey, mode: SessionMode) {
    let msg = vec![0x5au8; 4096]; // about the size of a root.json
    for _ in 0..5 {
        signer.sign_wire(&msg, Dialect::Notary).unwrap();
    }
    let (mut total, mut own, mut overhead) = (Vec::new(), Vec::new(), Vec::new());
    let touches_before = card.touches_consumed();
    for i in 0..ROUNDS {
        let dialect = if i % 2 == 0 {
            Dialect::Notary
        } else {
            Dialect::TufSpec
        };
        let card_before = card.card_time();
        let t = Instant::now();
        signer.sign_wire(&msg, dialect).unwrap();
        let wall = t.elapsed().as_secs_f64() * 1e3;
        let card_ms = (card.card_time() - card_before).as_secs_f64() * 1e3;
        total.push(wall);
        own.push(card_ms);
        overhead.push(wall - card_ms);
    }
    assert_eq!(
        card.touches_consumed() - touches_before,
        ROUNDS as u64,
        "one touch per signature"
    );
    let (t, c, o) = (median(&mut total), median(&mut own), median(&mut overhead));
    let max_o = overhead.iter().copied().fold(0.0f64, f64::max);
    let label = match mode {
        SessionMode::Persistent => "session kept open (default)",
        SessionMode::PerSignature => "fresh PC/SC session per signature",
    };
    println!(
        "| YubiKey root signature on the virtual card via pcscd+vpcd, {label}: GET METADATA, VERIFY, sign, verify | {ROUNDS} | {t:.3} | {c:.3} | {o:.3} | {max_o:.3} | < {TARGET_MS} ms: {} |",
        if o < TARGET_MS { "met" } else { "missed" }
    );
}
