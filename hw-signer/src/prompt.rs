//! How the signer talks to the person holding the YubiKey.

use zeroize::Zeroizing;

use crate::error::HwError;

/// What the person is asked for, and how many PIN attempts are left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PinRequest {
    /// The device.
    pub serial: u32,
    /// PIN attempts left before the PIN is blocked.
    pub retries_left: u8,
}

/// The person at the YubiKey: gives the PIN and is told when to touch.
pub trait Prompt: Send + Sync {
    /// The PIN, asked for once per signature (it is never retried automatically).
    fn pin(&self, request: &PinRequest) -> Result<Zeroizing<Vec<u8>>, HwError>;
    /// Called when only one PIN attempt is left: `true` to go on.
    fn confirm_last_pin_attempt(&self, serial: u32) -> bool;
    /// Called right before the card waits for the touch of one root signature.
    fn touch_now(&self, serial: u32);
}

/// A prompt with a PIN fixed in advance (scripts, tests); prints the touch request to
/// standard error. It never confirms a last PIN attempt.
pub struct FixedPrompt {
    pin: Zeroizing<Vec<u8>>,
    on_touch: Box<dyn Fn(u32) + Send + Sync>,
}

impl FixedPrompt {
    /// A prompt answering `pin` and printing "touch now" to standard error.
    pub fn new(pin: impl Into<Vec<u8>>) -> Self {
        Self {
            pin: Zeroizing::new(pin.into()),
            on_touch: Box::new(|serial| {
                eprintln!("Touch YubiKey {serial} now to sign (it blinks).");
            }),
        }
    }

    /// The same with a custom reaction to the touch request.
    pub fn with_touch(
        pin: impl Into<Vec<u8>>,
        on_touch: impl Fn(u32) + Send + Sync + 'static,
    ) -> Self {
        Self {
            pin: Zeroizing::new(pin.into()),
            on_touch: Box::new(on_touch),
        }
    }
}

impl std::fmt::Debug for FixedPrompt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FixedPrompt(<pin redacted>)")
    }
}

impl Prompt for FixedPrompt {
    fn pin(&self, _request: &PinRequest) -> Result<Zeroizing<Vec<u8>>, HwError> {
        Ok(self.pin.clone())
    }

    fn confirm_last_pin_attempt(&self, _serial: u32) -> bool {
        false
    }

    fn touch_now(&self, serial: u32) {
        (self.on_touch)(serial);
    }
}
