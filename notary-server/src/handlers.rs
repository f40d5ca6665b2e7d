//! Request handlers for the Notary API routes (see [`crate::path::Route`]).

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};
use tuf_core::envelope::Signed;
use tuf_core::json::JsonLimits;
use tuf_core::name::Gun;
use tuf_core::role::{Root, Timestamp, TopRole};
use tuf_core::Dialect;

use crate::app::{text_plain, AppState};
use crate::error::ApiError;
use crate::online::{self, TIMESTAMP_REFRESH_DAYS};
use crate::path::FileRef;
use crate::storage::{MetadataStore, NewFile, StoreError, StoredFile};
use crate::validate::{validate_upload, HeldKeys, UploadPart};

fn limits() -> JsonLimits {
    JsonLimits {
        max_bytes: usize::MAX,
        max_depth: 64,
    }
}

/// Parses a stored (already verified) file's contents.
fn peek<R: tuf_core::role::Role + Clone>(
    dialect: Dialect,
    role: &str,
    data: &[u8],
) -> Result<R, ApiError> {
    Signed::<R>::parse(dialect, role, data, &limits())
        .map(|s| s.peek_untrusted().clone())
        .map_err(|e| {
            tracing::error!(role, error = %e, "stored metadata does not parse");
            ApiError::internal()
        })
}

async fn stored_root(
    state: &AppState,
    gun: &Gun,
    dialect: Dialect,
) -> Result<Option<Root>, ApiError> {
    match state.store.current(gun.as_str(), "root").await? {
        Some(f) => Ok(Some(peek::<Root>(dialect, "root", &f.data)?)),
        None => Ok(None),
    }
}

pub(crate) fn metadata_response(state: &AppState, f: &StoredFile, current: bool) -> Response {
    let mut resp = text_plain(StatusCode::OK, Body::from(f.data.clone()));
    let cache = if current {
        format!(
            "public, max-age={0}, s-maxage={0}, must-revalidate",
            state.cache.current_max_age
        )
    } else {
        format!(
            "public, max-age={0}, s-maxage={0}",
            state.cache.consistent_max_age
        )
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&cache) {
        h.insert(header::CACHE_CONTROL, v);
    }
    let modified = f.created_at.format("%a, %d %b %Y %H:%M:%S UTC").to_string();
    if let Ok(v) = HeaderValue::from_str(&modified) {
        h.insert(header::LAST_MODIFIED, v);
    }
    resp
}

/// `GET <role>.json`, `<role>.<sha256>.json`, `<N>.<role>.json`.
pub(crate) async fn get_file(
    state: &AppState,
    gun: &Gun,
    file: &FileRef,
) -> Result<Response, ApiError> {
    let store = &state.store;
    let (found, current) = match file {
        FileRef::Current(role) if role == "timestamp" => {
            (current_timestamp(state, gun, Dialect::Notary).await?, true)
        }
        FileRef::Current(role) => (store.current(gun.as_str(), role).await?, true),
        FileRef::Checksum(role, sum) => (store.by_checksum(gun.as_str(), role, sum).await?, false),
        FileRef::Version(role, v) => (store.by_version(gun.as_str(), role, *v).await?, false),
        FileRef::Key(_) => (None, false),
    };
    let f = found.ok_or_else(ApiError::not_found)?;
    Ok(metadata_response(state, &f, current))
}

/// The current timestamp, re-signed first when it is within [`TIMESTAMP_REFRESH_DAYS`] of
/// expiring (Go re-signs only after expiry, when every client is already failing).
pub(crate) async fn current_timestamp(
    state: &AppState,
    gun: &Gun,
    dialect: Dialect,
) -> Result<Option<StoredFile>, ApiError> {
    let store = &state.store;
    let Some(ts) = store.current(gun.as_str(), "timestamp").await? else {
        return Ok(None);
    };
    let now = Utc::now();
    let parsed: Timestamp = peek(dialect, "timestamp", &ts.data)?;
    if parsed.header.expires - now > Duration::days(TIMESTAMP_REFRESH_DAYS) {
        return Ok(Some(ts));
    }
    match resign_timestamp(state, gun, dialect, &ts, now).await {
        Ok(()) => Ok(store.current(gun.as_str(), "timestamp").await?),
        Err(e) => {
            // Keep serving the current one while it is valid; never an expired one.
            tracing::error!(gun = gun.as_str(), error = ?e, "could not re-sign the timestamp");
            if parsed.header.expires > now {
                Ok(Some(ts))
            } else {
                Err(ApiError::unavailable())
            }
        }
    }
}

async fn resign_timestamp(
    state: &AppState,
    gun: &Gun,
    dialect: Dialect,
    ts: &StoredFile,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let store = &state.store;
    let root = stored_root(state, gun, dialect)
        .await?
        .ok_or_else(ApiError::internal)?;
    let snapshot = store
        .current(gun.as_str(), "snapshot")
        .await?
        .ok_or_else(ApiError::internal)?;
    let signer =
        online::signer_for(store, &state.vault, gun.as_str(), TopRole::Timestamp, &root).await?;
    let new = online::make_timestamp(
        dialect,
        &root,
        &snapshot.data,
        snapshot.version,
        ts.version,
        &signer,
        now,
    )?;
    let change = (new.version, hex::encode(Sha256::digest(&new.data)));
    match store.publish(gun.as_str(), vec![new], Some(change)).await {
        // Another request (or replica) re-signed first: theirs is served.
        Ok(()) | Err(StoreError::VersionConflict { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// `GET <role>.key` (`rotate == false`) and `POST <role>.key` (`rotate == true`).
pub(crate) async fn key(
    state: &AppState,
    gun: &Gun,
    dialect: Dialect,
    role: &str,
    rotate: bool,
) -> Result<Response, ApiError> {
    let root = stored_root(state, gun, dialect).await?;
    let (store, vault) = (&state.store, &state.vault);
    let k = online::server_key(store, vault, gun.as_str(), role, root.as_ref(), rotate).await?;
    Ok(text_plain(
        StatusCode::OK,
        Body::from(online::key_json(dialect, &k)),
    ))
}

/// `DELETE /v2/<gun>/_trust/tuf/`.
pub(crate) async fn delete(state: &AppState, gun: &Gun) -> Result<Response, ApiError> {
    state.store.delete_gun(gun.as_str()).await?;
    Ok(StatusCode::OK.into_response())
}

fn query_param<'a>(uri: &'a Uri, name: &str) -> Option<&'a str> {
    uri.query()?
        .split('&')
        .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `GET /v2/_trust/changefeed` and `GET /v2/<gun>/_trust/changefeed`.
pub(crate) async fn changefeed(
    state: &AppState,
    gun: Option<&Gun>,
    uri: &Uri,
) -> Result<Response, ApiError> {
    let records_raw = query_param(uri, "records").unwrap_or_default();
    let mut records: i64 = records_raw.parse().map_err(|_| {
        ApiError::invalid_parameters(format!("invalid records parameter: {records_raw:?}"))
    })?;
    if records == 0 {
        records = 100;
    }
    let cap = state.limits.max_changefeed_records;
    records = records.clamp(-cap, cap);
    let change_id: i64 = match query_param(uri, "change_id") {
        None | Some("") => 0,
        Some(s) => s.parse().map_err(|_| {
            ApiError::invalid_parameters(format!("invalid change_id parameter: {s:?}"))
        })?,
    };
    let rows = state
        .store
        .changefeed(gun.map(Gun::as_str), change_id, records)
        .await?;
    let records: Vec<_> = rows
        .iter()
        .map(|r| {
            json!({
                "ID": r.id.to_string(),
                "CreatedAt": r.created_at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
                "GUN": r.gun,
                "Version": r.version,
                "SHA256": r.sha256,
                "Category": r.category,
            })
        })
        .collect();
    let body = json!({"count": records.len(), "records": records}).to_string();
    let mut resp = (StatusCode::OK, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}

/// One part of a multipart upload.
pub(crate) struct Part {
    /// The form field name.
    pub field: String,
    /// The part's filename.
    pub filename: String,
    /// Its bytes.
    pub data: Vec<u8>,
}

/// Reads the multipart body: every part's filename is a role (an optional `.json` suffix is
/// removed), its bytes the file. Sizes and counts are capped while reading.
async fn read_parts(state: &AppState, req: Request) -> Result<Vec<UploadPart>, ApiError> {
    Ok(read_multipart(state, req)
        .await?
        .into_iter()
        .map(|p| UploadPart {
            role: p
                .filename
                .strip_suffix(".json")
                .unwrap_or(&p.filename)
                .to_owned(),
            data: p.data,
        })
        .collect())
}

/// Reads a multipart body; every part must have a filename. Sizes and counts are capped
/// while reading.
pub(crate) async fn read_multipart(state: &AppState, req: Request) -> Result<Vec<Part>, ApiError> {
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(ApiError::malformed_upload("expected multipart/form-data"));
    }
    let mut mp = Multipart::from_request(req, &())
        .await
        .map_err(|e| ApiError::malformed_upload(e.body_text()))?;
    let limits = &state.limits;
    let mut parts = Vec::new();
    loop {
        let field = mp.next_field().await.map_err(multipart_error)?;
        let Some(mut field) = field else { break };
        if parts.len() >= limits.max_parts {
            return Err(ApiError::too_large(format!(
                "more than {} files",
                limits.max_parts
            )));
        }
        let filename = field
            .file_name()
            .map(str::to_owned)
            .ok_or_else(ApiError::no_filename)?;
        let name = field.name().unwrap_or_default().to_owned();
        let role = filename
            .strip_suffix(".json")
            .unwrap_or(&filename)
            .to_owned();
        let mut data = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
            if data.len().saturating_add(chunk.len()) > limits.max_part_bytes {
                return Err(ApiError::too_large(format!(
                    "{role}: larger than {} bytes",
                    limits.max_part_bytes
                )));
            }
            data.extend_from_slice(&chunk);
        }
        parts.push(Part {
            field: name,
            filename,
            data,
        });
    }
    if parts.is_empty() {
        return Err(ApiError::malformed_upload("no files in the upload"));
    }
    Ok(parts)
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::too_large(e.body_text())
    } else {
        ApiError::malformed_upload(e.body_text())
    }
}

/// `POST /v2/<gun>/_trust/tuf/`: validate, add the server's snapshot (if it holds the key) and
/// timestamp, and store everything in one transaction.
pub(crate) async fn publish(
    state: &AppState,
    gun: &Gun,
    req: Request,
) -> Result<Response, ApiError> {
    let parts = read_parts(state, req).await?;
    let store = &state.store;
    let current_files = store.current_all(gun.as_str()).await?;
    let versions: BTreeMap<String, u64> = current_files
        .iter()
        .map(|f| (f.role.clone(), f.version))
        .collect();
    let current: BTreeMap<String, Vec<u8>> = current_files
        .into_iter()
        .map(|f| (f.role, f.data))
        .collect();
    let held = HeldKeys {
        timestamp: online::held_public_keys(store, gun.as_str(), "timestamp").await?,
        snapshot: online::held_public_keys(store, gun.as_str(), "snapshot").await?,
    };
    let now = Utc::now();
    // Verification of large files is CPU-bound: keep it off the async workers.
    let (validated, current) = {
        let gun = gun.clone();
        tokio::task::spawn_blocking(move || {
            let v = validate_upload(&gun, now, &current, &held, parts);
            (v, current)
        })
        .await
        .map_err(|_| ApiError::internal())?
    };
    let validated = validated?;
    let root = validated.root;
    let mut files: Vec<NewFile> = validated.files;
    let mut merged = current;
    for f in &files {
        merged.insert(f.role.clone(), f.data.clone());
    }
    if validated.server_signs_snapshot {
        let signer =
            online::signer_for(store, &state.vault, gun.as_str(), TopRole::Snapshot, &root).await?;
        let listed: BTreeMap<String, Vec<u8>> = std::iter::once("root".to_owned())
            .chain(validated.live_roles.iter().cloned())
            .filter_map(|role| merged.get(&role).map(|b| (role, b.clone())))
            .collect();
        let prev = versions.get("snapshot").copied().unwrap_or(0);
        let snapshot = online::make_snapshot(&root, &listed, prev, &signer, now)?;
        merged.insert("snapshot".into(), snapshot.data.clone());
        files.push(snapshot);
    }
    let snapshot_bytes = merged.get("snapshot").ok_or_else(ApiError::internal)?;
    let signer =
        online::signer_for(store, &state.vault, gun.as_str(), TopRole::Timestamp, &root).await?;
    let prev = versions.get("timestamp").copied().unwrap_or(0);
    let ts = online::make_timestamp(
        Dialect::Notary,
        &root,
        snapshot_bytes,
        0,
        prev,
        &signer,
        now,
    )?;
    let change = (ts.version, hex::encode(Sha256::digest(&ts.data)));
    files.push(ts);
    store.publish(gun.as_str(), files, Some(change)).await?;
    Ok(StatusCode::OK.into_response())
}
