//! PIN and touch policies of a PIV key, as the card and its attestation encode them.

use std::fmt;

/// When the card asks for the PIN before a private-key operation (tag `AA`, attestation
/// byte 1 of extension `1.3.6.1.4.1.41482.3.8`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PinPolicy {
    /// The slot's default (0x00).
    Default,
    /// Never (0x01).
    Never,
    /// Once per session (0x02).
    Once,
    /// Before every operation (0x03).
    Always,
}

/// When the card waits for a touch before a private-key operation (tag `AB`, attestation
/// byte 2 of extension `1.3.6.1.4.1.41482.3.8`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TouchPolicy {
    /// The slot's default (0x00).
    Default,
    /// Never (0x01).
    Never,
    /// Before every operation (0x02).
    Always,
    /// One touch covers the next 15 seconds (0x03).
    Cached,
}

impl PinPolicy {
    /// The policy's byte.
    pub fn to_byte(self) -> u8 {
        match self {
            Self::Default => 0,
            Self::Never => 1,
            Self::Once => 2,
            Self::Always => 3,
        }
    }

    /// The policy of a byte, `None` for unknown values.
    pub fn from_byte(b: u8) -> Option<Self> {
        Some(match b {
            0 => Self::Default,
            1 => Self::Never,
            2 => Self::Once,
            3 => Self::Always,
            _ => return None,
        })
    }

    pub(crate) fn to_yubikey(self) -> yubikey::PinPolicy {
        match self {
            Self::Default => yubikey::PinPolicy::Default,
            Self::Never => yubikey::PinPolicy::Never,
            Self::Once => yubikey::PinPolicy::Once,
            Self::Always => yubikey::PinPolicy::Always,
        }
    }

    pub(crate) fn from_yubikey(p: yubikey::PinPolicy) -> Self {
        match p {
            yubikey::PinPolicy::Default => Self::Default,
            yubikey::PinPolicy::Never => Self::Never,
            yubikey::PinPolicy::Once => Self::Once,
            yubikey::PinPolicy::Always => Self::Always,
        }
    }
}

impl TouchPolicy {
    /// The policy's byte.
    pub fn to_byte(self) -> u8 {
        match self {
            Self::Default => 0,
            Self::Never => 1,
            Self::Always => 2,
            Self::Cached => 3,
        }
    }

    /// The policy of a byte, `None` for unknown values.
    pub fn from_byte(b: u8) -> Option<Self> {
        Some(match b {
            0 => Self::Default,
            1 => Self::Never,
            2 => Self::Always,
            3 => Self::Cached,
            _ => return None,
        })
    }

    pub(crate) fn to_yubikey(self) -> yubikey::TouchPolicy {
        match self {
            Self::Default => yubikey::TouchPolicy::Default,
            Self::Never => yubikey::TouchPolicy::Never,
            Self::Always => yubikey::TouchPolicy::Always,
            Self::Cached => yubikey::TouchPolicy::Cached,
        }
    }

    pub(crate) fn from_yubikey(p: yubikey::TouchPolicy) -> Self {
        match p {
            yubikey::TouchPolicy::Default => Self::Default,
            yubikey::TouchPolicy::Never => Self::Never,
            yubikey::TouchPolicy::Always => Self::Always,
            yubikey::TouchPolicy::Cached => Self::Cached,
        }
    }
}

impl fmt::Display for PinPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Default => "default",
            Self::Never => "never",
            Self::Once => "once",
            Self::Always => "always",
        })
    }
}

impl fmt::Display for TouchPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Default => "default",
            Self::Never => "never",
            Self::Always => "always",
            Self::Cached => "cached",
        })
    }
}

/// The policies a root key must have: touch ALWAYS (one touch, one signature) and a PIN
/// before every signature (ALWAYS) or once per session (ONCE).
pub fn is_root_policy(pin: PinPolicy, touch: TouchPolicy) -> bool {
    touch == TouchPolicy::Always && matches!(pin, PinPolicy::Always | PinPolicy::Once)
}
