//! Validation of an uploaded publish (being written).
