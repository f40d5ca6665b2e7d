//! The wire dialect of a repository.

/// The wire dialect of a repository; configured by the caller, never sniffed from bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// Go Notary 0.7 / Docker Content Trust.
    Notary,
    /// TUF specification 1.0.x (python-tuf / securesystemslib / go-tuf).
    TufSpec,
}
