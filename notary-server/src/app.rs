//! The router: Notary's `/v2/` API, health and metrics, with limits and timeouts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::dialects::GunDialects;
use crate::error::ApiError;
use crate::handlers;
use crate::metrics::Metrics;
use crate::path::{self, FileRef, Route};
use crate::storage::{MetadataStore, SqliteStore};
use crate::tuf_handlers;
use crate::vault::Vault;
use tuf_core::name::Gun;
use tuf_core::Dialect;

/// Size and time limits.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest request body (a whole publish).
    pub max_body_bytes: usize,
    /// Largest single uploaded file.
    pub max_part_bytes: usize,
    /// Most files in one publish.
    pub max_parts: usize,
    /// Whole-request timeout.
    pub request_timeout: Duration,
    /// Most changefeed records in one answer.
    pub max_changefeed_records: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 << 20,
            max_part_bytes: 32 << 20,
            max_parts: 256,
            request_timeout: Duration::from_secs(60),
            max_changefeed_records: 1000,
        }
    }
}

/// `Cache-Control` max-ages (Go defaults: 300 s current, 30 days consistent).
#[derive(Clone, Copy, Debug)]
pub struct CacheConfig {
    /// For `<role>.json`.
    pub current_max_age: u32,
    /// For `<role>.<sha256>.json` and `<N>.<role>.json`.
    pub consistent_max_age: u32,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            current_max_age: 300,
            consistent_max_age: 2_592_000,
        }
    }
}

/// Shared server state.
#[derive(Clone, Debug)]
pub struct AppState {
    /// Storage.
    pub store: SqliteStore,
    /// Sealing of server-held keys.
    pub vault: Arc<Vault>,
    /// Limits.
    pub limits: Limits,
    /// Cache headers.
    pub cache: CacheConfig,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Which collections are TUF 1.0 repositories.
    pub dialects: Arc<GunDialects>,
}

impl AppState {
    /// State with default limits and cache headers.
    pub fn new(store: SqliteStore, vault: Vault) -> Self {
        Self {
            store,
            vault: Arc::new(vault),
            limits: Limits::default(),
            cache: CacheConfig::default(),
            metrics: Arc::new(Metrics::default()),
            dialects: Arc::new(GunDialects::default()),
        }
    }

    /// The same state, serving collections that match `dialects` as TUF 1.0 repositories.
    pub fn with_dialects(mut self, dialects: GunDialects) -> Self {
        self.dialects = Arc::new(dialects);
        self
    }
}

/// The application router.
pub fn app(state: AppState) -> Router {
    let limits = state.limits.clone();
    Router::new()
        .route("/v2/", get(ping))
        .route("/v2/{*rest}", any(dispatch))
        .route("/_notary_server/health", get(health))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .fallback(|| async { ApiError::no_route() })
        .layer(middleware::from_fn_with_state(state.clone(), record))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// A label for metrics, from the path.
fn handler_label(path: &str) -> &'static str {
    if path == "/v2/" {
        "ping"
    } else if path.ends_with("/changefeed") {
        "changefeed"
    } else if path.ends_with(".key") {
        "key"
    } else if path.ends_with("/_trust/tuf/") || path.ends_with("/_tuf/") {
        "collection"
    } else if path.contains("/_tuf/targets/") {
        "target"
    } else if path.starts_with("/v2/") {
        "metadata"
    } else if path.contains("health") {
        "health"
    } else if path == "/metrics" {
        "metrics"
    } else {
        "other"
    }
}

async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let label = handler_label(req.uri().path());
    let resp = next.run(req).await;
    state
        .metrics
        .record(label, &method, resp.status().as_u16(), start.elapsed());
    resp
}

async fn ping() -> Response {
    text_plain(StatusCode::OK, Body::from("{}"))
}

async fn health(State(state): State<AppState>) -> Response {
    let status = match state.store.ping().await {
        Ok(()) => StatusCode::OK,
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            StatusCode::SERVICE_UNAVAILABLE
        }
    };
    let mut resp = (status, "{}").into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

async fn metrics(State(state): State<AppState>) -> Response {
    let mut resp = state.metrics.render().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    resp
}

/// A body with Go's sniffed content type for metadata and keys.
pub(crate) fn text_plain(status: StatusCode, body: Body) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// The collection a dialect-specific route is about (changefeeds serve both dialects).
fn route_gun(route: &Route) -> Option<&Gun> {
    match route {
        Route::GlobalChangefeed | Route::Changefeed(_) => None,
        Route::Collection(g)
        | Route::File(g, _)
        | Route::TufCollection(g)
        | Route::TufMetadata(g, _)
        | Route::TufTarget(g, _)
        | Route::TufKey(g, _) => Some(g),
    }
}

async fn dispatch(State(state): State<AppState>, req: Request) -> Response {
    // The raw path: percent-escapes are refused in GUNs rather than decoded.
    let rest = req
        .uri()
        .path()
        .strip_prefix("/v2/")
        .unwrap_or_default()
        .to_owned();
    let route = match path::parse(&rest) {
        Ok(Some(r)) => r,
        Ok(None) => return ApiError::no_route().into_response(),
        Err(e) => return e.into_response(),
    };
    let method = req.method().clone();
    if let Some(gun) = route_gun(&route) {
        let tuf_route = matches!(
            route,
            Route::TufCollection(_)
                | Route::TufMetadata(..)
                | Route::TufTarget(..)
                | Route::TufKey(..)
        );
        let tuf_gun = state.dialects.dialect_of(gun) == Dialect::TufSpec;
        if tuf_route != tuf_gun {
            let (is, use_) = if tuf_gun {
                ("a TUF 1.0 repository", "/v2/<gun>/_tuf/")
            } else {
                ("a Notary 0.7 collection", "/v2/<gun>/_trust/tuf/")
            };
            return ApiError::wrong_dialect(format!(
                "{} is {is} on this server: use {use_}",
                gun.as_str()
            ))
            .into_response();
        }
    }
    let result = match (route, method) {
        (Route::GlobalChangefeed, Method::GET) => {
            handlers::changefeed(&state, None, req.uri()).await
        }
        (Route::Changefeed(gun), Method::GET) => {
            handlers::changefeed(&state, Some(&gun), req.uri()).await
        }
        (Route::Collection(gun), Method::POST) => handlers::publish(&state, &gun, req).await,
        (Route::Collection(gun), Method::DELETE) => handlers::delete(&state, &gun).await,
        (Route::File(gun, FileRef::Key(role)), m @ (Method::GET | Method::POST)) => {
            handlers::key(&state, &gun, Dialect::Notary, &role, m == Method::POST).await
        }
        (Route::TufCollection(gun), Method::POST) => tuf_handlers::publish(&state, &gun, req).await,
        (Route::TufCollection(gun), Method::DELETE) => handlers::delete(&state, &gun).await,
        (Route::TufMetadata(gun, file), Method::GET) => {
            tuf_handlers::get_metadata(&state, &gun, &file).await
        }
        (Route::TufTarget(gun, path), Method::GET) => {
            tuf_handlers::get_target(&state, &gun, &path).await
        }
        (Route::TufKey(gun, role), m @ (Method::GET | Method::POST)) => {
            handlers::key(&state, &gun, Dialect::TufSpec, &role, m == Method::POST).await
        }
        (Route::File(gun, file), Method::GET) => handlers::get_file(&state, &gun, &file).await,
        _ => Err(ApiError::no_route()),
    };
    result.unwrap_or_else(IntoResponse::into_response)
}
