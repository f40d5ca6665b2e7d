//! A virtual YubiKey (PIV applet with Yubico's extensions) that dials vsmartcard's `vpcd`,
//! so tests run the real stack: `yubikey` crate -> `pcsc` -> `pcscd` -> `vpcd` -> this card.
//!
//! It keeps real randomness (P-256 keys from the OS RNG), authenticates 3DES and AES
//! management keys, enforces PIN and touch policies, counts touches, and issues attestation
//! certificates from a [`TestCa`]. The test presses the button through
//! [`VirtualYubiKey::touch`] or lets it press itself ([`VirtualYubiKey::set_auto_touch`]).
//!
//! Each vpcd reader entry listens on two TCP ports ([`VPCD_PORT`] and the next), one card
//! each; start pcscd with the repository's `ci/pcsc/reader.conf.d` (scripts/pcscd-vpcd.sh).

mod button;
mod ca;
mod piv;
mod vpcd;

use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use button::ApduRecord;
pub use ca::{AttestationFields, CertError, DeviceAttestation, TestCa};

use button::Shared;

/// The first vpcd port (0x8C7B); the second card of the entry uses `VPCD_PORT + 1`.
pub const VPCD_PORT: u16 = 35963;
/// The factory default PIN.
pub const DEFAULT_PIN: &str = "123456";
/// The factory default PUK.
pub const DEFAULT_PUK: &str = "12345678";
/// The factory default management key.
pub const DEFAULT_MGM_KEY: [u8; 24] = piv::DEFAULT_MGM;

pub use crate::secret::MgmAlgorithm;

/// The card's algorithm byte for a management key algorithm.
fn mgm_byte(alg: MgmAlgorithm) -> u8 {
    match alg {
        MgmAlgorithm::TripleDes => piv::ALG_3DES,
        MgmAlgorithm::Aes128 => piv::ALG_AES128,
        MgmAlgorithm::Aes192 => piv::ALG_AES192,
        MgmAlgorithm::Aes256 => piv::ALG_AES256,
    }
}

/// Non-default credentials a card can start with (a card already personalised).
#[derive(Clone)]
pub struct Credentials {
    /// The PIN.
    pub pin: zeroize::Zeroizing<Vec<u8>>,
    /// The PUK.
    pub puk: zeroize::Zeroizing<Vec<u8>>,
    /// The management key (length fitting the card's algorithm).
    pub mgm: zeroize::Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(..)")
    }
}

/// How the virtual card behaves.
#[derive(Clone, Debug)]
pub struct CardConfig {
    /// Device serial.
    pub serial: u32,
    /// Firmware version (major 5 only: the crate reads the serial with `F8`).
    pub version: (u8, u8, u8),
    /// How long the card waits for a touch before answering 6982.
    pub touch_timeout: Duration,
    /// The management key algorithm; `None` = the firmware's default (AES-192 from 5.7).
    /// Without `credentials`, the default key bytes are cut or repeated to its length.
    pub mgm_algorithm: Option<MgmAlgorithm>,
    /// Start personalised with these credentials instead of the factory defaults.
    pub credentials: Option<Credentials>,
    /// The slot `f9` attestation identity; without one, ATTEST answers 6A88.
    pub attestation: Option<DeviceAttestation>,
    /// The vpcd port to dial on 127.0.0.1.
    pub port: u16,
}

impl CardConfig {
    /// A factory-fresh YubiKey 5.7.1 on the first vpcd port: default PIN, PUK and AES-192
    /// management key, 15 s touch timeout, no attestation identity.
    pub fn new(serial: u32) -> Self {
        Self {
            serial,
            version: (5, 7, 1),
            touch_timeout: Duration::from_secs(15),
            mgm_algorithm: None,
            credentials: None,
            attestation: None,
            port: VPCD_PORT,
        }
    }
}

/// A running virtual card; dropping it removes the card from the reader.
pub struct VirtualYubiKey {
    serial: u32,
    shared: Arc<Shared>,
    socket: Arc<Mutex<Option<TcpStream>>>,
    thread: Option<JoinHandle<piv::PivCard>>,
}

/// A card pulled out of its reader that keeps its state (keys, PIN and PUK counters,
/// touch counters), as a real YubiKey does in a drawer; [`UnpluggedCard::plug`] puts it into
/// a reader again.
pub struct UnpluggedCard {
    serial: u32,
    card: piv::PivCard,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for UnpluggedCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnpluggedCard")
            .field("serial", &self.serial)
            .finish_non_exhaustive()
    }
}

impl UnpluggedCard {
    /// The card's serial.
    pub fn serial(&self) -> u32 {
        self.serial
    }

    /// How many touches the card consumed so far.
    pub fn touches_consumed(&self) -> u64 {
        self.shared.consumed()
    }

    /// Plugs the card into the vpcd reader on `port` (it dials until vpcd listens).
    pub fn plug(self, port: u16) -> std::io::Result<VirtualYubiKey> {
        self.shared.stop.store(false, Ordering::SeqCst);
        VirtualYubiKey::spawn(self.serial, self.card, port, self.shared)
    }
}

impl std::fmt::Debug for VirtualYubiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtualYubiKey")
            .field("serial", &self.serial)
            .finish_non_exhaustive()
    }
}

impl VirtualYubiKey {
    /// Starts the card in a thread that dials vpcd on `127.0.0.1:<port>` (and keeps
    /// dialling until vpcd listens).
    pub fn start(config: CardConfig) -> std::io::Result<Self> {
        let serial = config.serial;
        let port = config.port;
        let shared = Arc::new(Shared::default());
        let card = piv::PivCard::new(config, Arc::clone(&shared));
        Self::spawn(serial, card, port, shared)
    }

    fn spawn(
        serial: u32,
        card: piv::PivCard,
        port: u16,
        shared: Arc<Shared>,
    ) -> std::io::Result<Self> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let socket = Arc::new(Mutex::new(None));
        let thread = std::thread::Builder::new()
            .name(format!("virtual-yubikey-{serial}"))
            .spawn({
                let shared = Arc::clone(&shared);
                let socket = Arc::clone(&socket);
                move || vpcd::run(card, addr, shared, socket)
            })?;
        Ok(Self {
            serial,
            shared,
            socket,
            thread: Some(thread),
        })
    }

    /// The card's serial.
    pub fn serial(&self) -> u32 {
        self.serial
    }

    /// Waits until vpcd has connected the card and powered it (pcscd sees it present).
    pub fn wait_powered(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.shared.powered.load(Ordering::SeqCst) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    }

    /// Whether vpcd is connected to the card.
    pub fn is_connected(&self) -> bool {
        self.shared.connected.load(Ordering::SeqCst)
    }

    /// Presses the button once. A press made while the card is not waiting is kept for the
    /// next touch request (the test's stand-in for "touch when prompted").
    pub fn touch(&self) {
        self.shared.press();
    }

    /// Presses automatically `after` each touch request (`None`: never).
    pub fn set_auto_touch(&self, after: Option<Duration>) {
        self.shared.set_auto(after);
    }

    /// Waits until the card asks for a touch (it blinks); false after `timeout`.
    pub fn wait_for_touch_request(&self, timeout: Duration) -> bool {
        self.shared.wait_until_requested(timeout)
    }

    /// How many touches the card consumed, each one letting one key operation through.
    pub fn touches_consumed(&self) -> u64 {
        self.shared.consumed()
    }

    /// How many times the card asked for a touch.
    pub fn touch_requests(&self) -> u64 {
        self.shared.requests()
    }

    /// Time the card spent processing commands (its "own time", touch waits excluded).
    pub fn card_time(&self) -> Duration {
        Duration::from_nanos(self.shared.busy_nanos.load(Ordering::SeqCst))
    }

    /// The command headers the card received so far (no data bytes).
    pub fn apdu_log(&self) -> Vec<ApduRecord> {
        self.shared.log()
    }

    /// Forgets the command log.
    pub fn clear_apdu_log(&self) {
        self.shared.clear_log();
    }

    /// How many commands with instruction `ins` the card received.
    pub fn count_ins(&self, ins: u8) -> usize {
        self.shared.log().iter().filter(|r| r.ins == ins).count()
    }

    /// Pulls the card out of the reader and keeps it: its keys, PINs and counters stay,
    /// and [`UnpluggedCard::plug`] puts it back (into any reader). `None` if the card's
    /// thread had already ended.
    pub fn unplug(mut self) -> Option<UnpluggedCard> {
        let card = self.stop()?;
        Some(UnpluggedCard {
            serial: self.serial,
            card,
            shared: Arc::clone(&self.shared),
        })
    }

    /// Pulls the card out of the reader: the connection to vpcd closes, a pending
    /// operation gets no answer.
    pub fn remove(&mut self) {
        let _ = self.stop();
    }

    fn stop(&mut self) -> Option<piv::PivCard> {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.wake();
        if let Ok(mut s) = self.socket.lock() {
            if let Some(s) = s.take() {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
        self.thread.take().and_then(|t| t.join().ok())
    }
}

impl Drop for VirtualYubiKey {
    fn drop(&mut self) {
        self.remove();
    }
}
