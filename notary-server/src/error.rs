//! API errors in the docker/distribution errcode envelope Go notary-server answers with:
//! `{"errors":[{"code":..,"message":..,"detail":..}]}` plus a newline, `application/json`.
//! Every failure is mapped to one here, in one place.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::online::OnlineError;
use crate::storage::StoreError;
use crate::validate::ValidationError;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: &'static str,
    detail: Option<Value>,
}

impl ApiError {
    fn new(
        status: StatusCode,
        code: &'static str,
        message: &'static str,
        detail: Option<Value>,
    ) -> Self {
        Self {
            status,
            code,
            message,
            detail,
        }
    }

    /// 404 `METADATA_NOT_FOUND` with `"detail":{}` (unknown GUN, role, version, checksum).
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "METADATA_NOT_FOUND",
            "You have requested metadata that does not exist.",
            Some(json!({})),
        )
    }

    /// 404 `METADATA_NOT_FOUND` with a detail saying which layout the collection uses (a
    /// Notary route for a TUF 1.0 collection or the reverse).
    pub fn wrong_dialect(detail: String) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "METADATA_NOT_FOUND",
            "You have requested metadata that does not exist.",
            Some(Value::String(detail)),
        )
    }

    /// 404 `METADATA_NOT_FOUND` without detail (no route matched).
    pub fn no_route() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "METADATA_NOT_FOUND",
            "You have requested metadata that does not exist.",
            None,
        )
    }

    /// 400 `MALFORMED_UPLOAD`.
    pub fn malformed_upload(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "MALFORMED_UPLOAD",
            "The body of your request is malformed.",
            Some(Value::String(detail.into())),
        )
    }

    /// 413 with the `MALFORMED_UPLOAD` code: the body or a part is larger than allowed.
    pub fn too_large(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "MALFORMED_UPLOAD",
            "The body of your request is malformed.",
            Some(Value::String(detail.into())),
        )
    }

    /// 400 `NO_FILENAME`.
    pub fn no_filename() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "NO_FILENAME",
            "No file/role name provided.",
            None,
        )
    }

    /// 400 `INVALID_GUN`.
    pub fn invalid_gun(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "INVALID_GUN",
            "The server does not support actions on images of this name.",
            Some(Value::String(detail.into())),
        )
    }

    /// 400 `INVALID_PARAMETERS`.
    pub fn invalid_parameters(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "INVALID_PARAMETERS",
            "The parameters provided are not valid.",
            Some(Value::String(detail.into())),
        )
    }

    /// 400 `VERSION` with `"detail":{}`.
    pub fn version() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "VERSION",
            "A newer version of metadata is already available.",
            Some(json!({})),
        )
    }

    /// 503 `UNAVAILABLE`-style answer for storage outages (clients retry later).
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "UNKNOWN",
            "unknown error",
            None,
        )
    }

    /// 500 `UNKNOWN`.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNKNOWN",
            "unknown error",
            None,
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The errcode.
    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut e = json!({"code": self.code, "message": self.message});
        if let (Some(d), Some(obj)) = (self.detail, e.as_object_mut()) {
            obj.insert("detail".into(), d);
        }
        let mut body = json!({"errors": [e]}).to_string();
        body.push('\n');
        let mut resp = (self.status, body).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        resp
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::VersionConflict { .. } => Self::version(),
            StoreError::OutOfRange { .. } => Self::version(),
            other => {
                tracing::error!(error = %other, "storage failure");
                Self::unavailable()
            }
        }
    }
}

impl From<OnlineError> for ApiError {
    fn from(e: OnlineError) -> Self {
        match e {
            OnlineError::Store(s) => s.into(),
            other => {
                tracing::error!(error = %other, "server signing failure");
                Self::internal()
            }
        }
    }
}

/// 400 `INVALID_UPDATE` with Go's detail shape `{"Name": name, "Error": error}`.
pub(crate) fn invalid_update(name: &str, error: Value) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "INVALID_UPDATE",
        "Update sent by the client is invalid.",
        Some(json!({"Name": name, "Error": error})),
    )
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        match e {
            ValidationError::InvalidRole(role) => Self::new(
                StatusCode::BAD_REQUEST,
                "INVALID_ROLE",
                "The role you are attempting to operate on is invalid.",
                Some(Value::String(role)),
            ),
            ValidationError::MalformedJson { role, reason } => Self::new(
                StatusCode::BAD_REQUEST,
                "MALFORMED_JSON",
                "JSON sent by the client could not be parsed by the server",
                Some(Value::String(format!("{role}: {reason}"))),
            ),
            ValidationError::Version { .. } => Self::version(),
            ValidationError::BadRoot(msg) => invalid_update("ErrBadRoot", json!({"Msg": msg})),
            ValidationError::BadTargets(msg) => {
                invalid_update("ErrBadTargets", json!({"Msg": msg}))
            }
            ValidationError::BadSnapshot(msg) => {
                invalid_update("ErrBadSnapshot", json!({"Msg": msg}))
            }
            ValidationError::BadHierarchy { missing, msg } => {
                invalid_update("ErrBadHierarchy", json!({"Missing": missing, "Msg": msg}))
            }
            ValidationError::Validation(msg) => {
                invalid_update("ErrValidation", json!({"Msg": msg}))
            }
            ValidationError::Stored(msg) => {
                tracing::error!(error = %msg, "stored metadata unusable");
                Self::internal()
            }
        }
    }
}
