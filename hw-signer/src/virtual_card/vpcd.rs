//! The vpcd wire protocol, card side: TCP, each message a 2-byte big-endian length and a
//! payload; a 1-byte payload is a control message (0 power off, 1 power on, 2 reset,
//! 4 get ATR), anything longer a command APDU answered by a response APDU.

use std::io::{self, Read as _, Write as _};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::button::Shared;
use super::piv::PivCard;

/// The ATR of a YubiKey 5 NFC (T=1), as pcsc-tools lists it.
pub(crate) const ATR: [u8; 23] = [
    0x3b, 0xfd, 0x13, 0x00, 0x00, 0x81, 0x31, 0xfe, 0x15, 0x80, 0x73, 0xc0, 0x21, 0xc0, 0x57, 0x59,
    0x75, 0x62, 0x69, 0x4b, 0x65, 0x79, 0x40,
];

/// Debian 12's vpcd sends the length and the APDU in two writes without TCP_NODELAY;
/// unless the card ACKs at once, Nagle plus delayed ACK add about 40 ms per APDU.
fn quickack(stream: &TcpStream) {
    #[cfg(target_os = "linux")]
    {
        use std::os::linux::net::TcpStreamExt as _;
        let _ = stream.set_quickack(true);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = stream;
}

/// Runs the card until `shared.stop` is set: dials vpcd, serves it, dials again if vpcd
/// goes away (pcscd restarted). Returns the card (its keys and counters) when stopped.
pub(crate) fn run(
    mut card: PivCard,
    addr: SocketAddr,
    shared: Arc<Shared>,
    socket: Arc<Mutex<Option<TcpStream>>>,
) -> PivCard {
    while !shared.stop.load(Ordering::SeqCst) {
        let stream = match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(s) => s,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        if let (Ok(mut slot), Ok(clone)) = (socket.lock(), stream.try_clone()) {
            *slot = Some(clone);
        }
        if shared.stop.load(Ordering::SeqCst) {
            let _ = stream.shutdown(Shutdown::Both);
            break;
        }
        shared.connected.store(true, Ordering::SeqCst);
        let _ = serve(&mut card, stream, &shared);
        shared.connected.store(false, Ordering::SeqCst);
        shared.powered.store(false, Ordering::SeqCst);
        card.reset_session();
    }
    card
}

fn serve(card: &mut PivCard, mut stream: TcpStream, shared: &Shared) -> io::Result<()> {
    loop {
        quickack(&stream);
        let mut len = [0u8; 2];
        stream.read_exact(&mut len)?;
        quickack(&stream);
        let mut msg = zeroize::Zeroizing::new(vec![0u8; usize::from(u16::from_be_bytes(len))]);
        stream.read_exact(&mut msg)?;
        quickack(&stream);
        if shared.stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        let reply = match msg.as_slice() {
            [0] => {
                shared.powered.store(false, Ordering::SeqCst);
                card.reset_session();
                continue;
            }
            [1] | [2] => {
                shared.powered.store(true, Ordering::SeqCst);
                card.reset_session();
                continue;
            }
            [4] => ATR.to_vec(),
            [_] => continue,
            apdu => {
                let started = std::time::Instant::now();
                let waited_before = shared.touch_wait_nanos.load(Ordering::SeqCst);
                let reply = card.process(apdu);
                let total = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
                let waited = shared.touch_wait_nanos.load(Ordering::SeqCst) - waited_before;
                shared
                    .busy_nanos
                    .fetch_add(total.saturating_sub(waited), Ordering::SeqCst);
                reply
            }
        };
        if shared.stop.load(Ordering::SeqCst) {
            // Removed while working: the host gets no answer, as with a pulled card.
            return Ok(());
        }
        let n = u16::try_from(reply.len()).map_err(|_| io::ErrorKind::InvalidData)?;
        let mut out = Vec::with_capacity(reply.len() + 2);
        out.extend_from_slice(&n.to_be_bytes());
        out.extend_from_slice(&reply);
        stream.write_all(&out)?;
        quickack(&stream);
    }
}
