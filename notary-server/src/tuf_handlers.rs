//! Request handlers for TUF 1.0 collections (see [`crate::path::Route`]'s `Tuf*` routes):
//! the spec's repository layout under `/v2/<gun>/_tuf/metadata/` and `/v2/<gun>/_tuf/targets/`,
//! publishing (`POST /v2/<gun>/_tuf/`), deletion and the server-held keys.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::json;
use tuf_core::crypto::SoftwareSigner;
use tuf_core::name::{percent_decode_segment, Gun};
use tuf_core::Dialect;

use crate::app::AppState;
use crate::error::ApiError;
use crate::handlers::{current_timestamp, metadata_response, read_multipart};
use crate::storage::{HashAlg, MetadataStore, StoreError};
use crate::tuf_publish::{parse_metadata_name, validate_tuf_publish, HeldSigners, TufUpload};

/// `GET /v2/<gun>/_tuf/metadata/<file>`: `N.root.json`, `root.json`, `timestamp.json`,
/// `V.<role>.json`, `<role>.json` (role names percent-encoded, as clients request them).
pub(crate) async fn get_metadata(
    state: &AppState,
    gun: &Gun,
    file: &str,
) -> Result<Response, ApiError> {
    let (version, role) = parse_metadata_name(file).ok_or_else(ApiError::not_found)?;
    let store = &state.store;
    let found = match (role.as_str(), version) {
        ("timestamp", _) => current_timestamp(state, gun, Dialect::TufSpec).await?,
        (_, Some(v)) => store.by_version(gun.as_str(), &role, v).await?,
        (_, None) => store.current(gun.as_str(), &role).await?,
    };
    let f = found.ok_or_else(ApiError::not_found)?;
    let mut resp = metadata_response(state, &f, version.is_none());
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}

/// The digest a target request names: a path segment `<hex>.<name>` with 64 (SHA-256) or
/// 128 (SHA-512) hex digits. python-tuf asks for `dir/<hash>.<basename>`, tough for
/// `<hash>.<whole path>`; both are served.
fn hash_in(path: &str) -> Option<(HashAlg, &str)> {
    path.split('/').find_map(|seg| {
        let (h, rest) = seg.split_once('.')?;
        if rest.is_empty() || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        match h.len() {
            64 => Some((HashAlg::Sha256, h)),
            128 => Some((HashAlg::Sha512, h)),
            _ => None,
        }
    })
}

/// `GET /v2/<gun>/_tuf/targets/<path>`: by hash (consistent snapshots) or by path.
pub(crate) async fn get_target(
    state: &AppState,
    gun: &Gun,
    raw_path: &str,
) -> Result<Response, ApiError> {
    let store = &state.store;
    let mut found = None;
    if let Some((alg, h)) = hash_in(raw_path) {
        found = store.target_by_hash(gun.as_str(), alg, h).await?;
    }
    if found.is_none() {
        let path = raw_path
            .split('/')
            .map(percent_decode_segment)
            .collect::<Option<Vec<_>>>()
            .ok_or_else(ApiError::not_found)?
            .join("/");
        found = store.target_by_path(gun.as_str(), &path).await?;
    }
    let data = found.ok_or_else(ApiError::not_found)?;
    let mut resp = (StatusCode::OK, Body::from(data)).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    Ok(resp)
}

/// Every held key of `role` for `gun`, unsealed.
async fn held(state: &AppState, gun: &Gun, role: &str) -> Result<Vec<SoftwareSigner>, ApiError> {
    let mut out = Vec::new();
    for k in state.store.keys(gun.as_str(), role).await? {
        let seed = state.vault.unseal(&k.sealed_private).map_err(|e| {
            tracing::error!(gun = gun.as_str(), role, error = %e, "held key unusable");
            ApiError::internal()
        })?;
        let seed: [u8; 32] = seed.as_slice().try_into().map_err(|_| {
            tracing::error!(gun = gun.as_str(), role, "held key has the wrong length");
            ApiError::internal()
        })?;
        out.push(SoftwareSigner::ed25519_from_seed(seed));
    }
    Ok(out)
}

fn invalid_update(msg: String) -> ApiError {
    crate::error::invalid_update("ErrBadTUFRepository", json!({"Msg": msg}))
}

/// `POST /v2/<gun>/_tuf/`: multipart with `metadata` parts (filename `<encoded role>.json`)
/// and `target` parts (filename: the percent-encoded target path).
pub(crate) async fn publish(
    state: &AppState,
    gun: &Gun,
    req: Request,
) -> Result<Response, ApiError> {
    let mut upload = TufUpload::default();
    for part in read_multipart(state, req).await? {
        let name = percent_decode_segment(&part.filename);
        match (part.field.as_str(), name) {
            ("target", Some(path)) => upload.targets.push((path, part.data)),
            ("metadata", Some(file)) => {
                let role = file
                    .strip_suffix(".json")
                    .filter(|r| !r.is_empty())
                    .ok_or_else(|| {
                        ApiError::malformed_upload(format!(
                            "metadata part {:?}: expected <role>.json",
                            part.filename
                        ))
                    })?;
                upload.metadata.push((role.to_owned(), part.data));
            }
            (field, _) => {
                return Err(ApiError::malformed_upload(format!(
                    "part {field:?} with filename {:?}: expected fields \"metadata\" \
                     (<role>.json) and \"target\" (percent-encoded path)",
                    part.filename
                )))
            }
        }
    }
    if upload.metadata.is_empty() {
        return Err(ApiError::malformed_upload("no metadata in the upload"));
    }
    let store = &state.store;
    let current: BTreeMap<String, (u64, Vec<u8>)> = store
        .current_all(gun.as_str())
        .await?
        .into_iter()
        .map(|f| (f.role, (f.version, f.data)))
        .collect();
    let signers = HeldSigners {
        timestamp: held(state, gun, "timestamp").await?,
        snapshot: held(state, gun, "snapshot").await?,
    };
    let now = Utc::now();
    let accepted =
        tokio::task::spawn_blocking(move || validate_tuf_publish(&current, &signers, upload, now))
            .await
            .map_err(|_| ApiError::internal())?
            .map_err(|e| {
                tracing::info!(gun = gun.as_str(), error = %e, "TUF publish refused");
                match e {
                    crate::tuf_publish::TufPublishError::Version { .. } => ApiError::version(),
                    crate::tuf_publish::TufPublishError::Stored(msg) => {
                        tracing::error!(error = %msg, "stored metadata unusable");
                        ApiError::internal()
                    }
                    other => invalid_update(other.to_string()),
                }
            })?;
    match store
        .publish_with_targets(
            gun.as_str(),
            accepted.files,
            accepted.targets,
            Some(accepted.change),
        )
        .await
    {
        Ok(()) => Ok(StatusCode::OK.into_response()),
        Err(StoreError::VersionConflict { .. }) => Err(ApiError::version()),
        Err(e) => Err(e.into()),
    }
}
