//! The touch button and the APDU log, shared between the card thread and the test.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// One command the card received (header only: no PIN or key bytes are kept).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApduRecord {
    /// Class byte.
    pub cla: u8,
    /// Instruction byte.
    pub ins: u8,
    /// First parameter.
    pub p1: u8,
    /// Second parameter.
    pub p2: u8,
    /// Length of the command data.
    pub len: usize,
}

#[derive(Debug, Default)]
pub(crate) struct TouchState {
    /// Presses made and not yet consumed.
    pending: u32,
    /// The card is waiting for a touch now.
    waiting: bool,
    /// Touches the card consumed (each one let one private-key operation through).
    consumed: u64,
    /// How many times the card asked for a touch.
    requests: u64,
    /// Press automatically after this delay whenever a touch is requested.
    auto: Option<Duration>,
}

/// State shared by the card thread and its handle.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    touch: Mutex<TouchState>,
    cv: Condvar,
    log: Mutex<Vec<ApduRecord>>,
    pub(crate) stop: AtomicBool,
    /// Nanoseconds the card spent processing APDUs, touch waits excluded.
    pub(crate) busy_nanos: std::sync::atomic::AtomicU64,
    /// Nanoseconds the card spent waiting for touches.
    pub(crate) touch_wait_nanos: std::sync::atomic::AtomicU64,
    pub(crate) connected: AtomicBool,
    pub(crate) powered: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    pub(crate) fn press(&self) {
        lock(&self.touch).pending += 1;
        self.cv.notify_all();
    }

    pub(crate) fn set_auto(&self, after: Option<Duration>) {
        lock(&self.touch).auto = after;
        self.cv.notify_all();
    }

    pub(crate) fn consumed(&self) -> u64 {
        lock(&self.touch).consumed
    }

    pub(crate) fn requests(&self) -> u64 {
        lock(&self.touch).requests
    }

    pub(crate) fn wake(&self) {
        self.cv.notify_all();
    }

    /// Blocks until the card is waiting for a touch (true) or `timeout` passes (false).
    pub(crate) fn wait_until_requested(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = lock(&self.touch);
        loop {
            if st.waiting {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            st = self
                .cv
                .wait_timeout(st, deadline - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// The card side: waits up to `timeout` for a press; true if one was consumed.
    pub(crate) fn wait_for_touch(&self, timeout: Duration) -> bool {
        let started = Instant::now();
        let touched = self.wait_for_touch_inner(timeout);
        let waited = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.touch_wait_nanos.fetch_add(waited, Ordering::SeqCst);
        touched
    }

    fn wait_for_touch_inner(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = lock(&self.touch);
        st.waiting = true;
        st.requests += 1;
        self.cv.notify_all();
        let auto_at = st.auto.map(|d| Instant::now() + d);
        loop {
            if self.stop.load(Ordering::SeqCst) {
                st.waiting = false;
                return false;
            }
            let now = Instant::now();
            if st.pending > 0 || auto_at.is_some_and(|t| now >= t && t <= deadline) {
                st.pending = st.pending.saturating_sub(1);
                st.consumed += 1;
                st.waiting = false;
                return true;
            }
            if now >= deadline {
                st.waiting = false;
                return false;
            }
            let wake = match auto_at {
                Some(t) if t > now && t < deadline => t,
                _ => deadline,
            };
            st = self
                .cv
                .wait_timeout(st, wake - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    pub(crate) fn record(&self, rec: ApduRecord) {
        lock(&self.log).push(rec);
    }

    pub(crate) fn log(&self) -> Vec<ApduRecord> {
        lock(&self.log).clone()
    }

    pub(crate) fn clear_log(&self) {
        lock(&self.log).clear();
    }
}
