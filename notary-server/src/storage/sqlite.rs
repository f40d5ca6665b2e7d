//! SQLite implementation of [`super::MetadataStore`] (being written).

/// SQLite-backed store.
#[derive(Debug, Clone)]
pub struct SqliteStore {}
