//! Errors of the JSON API: a status and a message, rendered as `{"error": "..."}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use nectar_store::StoreError;
use tracing::error;

/// An API failure the client is told about.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    /// What the client is told.
    pub fn message(&self) -> String {
        self.message.clone()
    }

    /// 400: the request is malformed; `message` says what to fix.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    /// 401: no valid token.
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            message: message.into(),
        }
    }

    /// 403: a valid token whose role may not do this.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::FORBIDDEN,
            message: message.into(),
        }
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }

    /// 409: the thing is not in a state that allows this.
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::CONFLICT,
            message: message.into(),
        }
    }

    /// 413: body or batch too large.
    pub fn too_large(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message: message.into(),
        }
    }

    /// 422: a well-formed event this token may not post (another sensor, a
    /// recording, a time far from now); `message` names the field.
    pub fn unprocessable(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: message.into(),
        }
    }

    /// 503 with `Retry-After`: a bounded resource is taken; `message` names its
    /// configuration key.
    pub fn busy(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: message.into(),
        }
    }

    /// The status it answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Any status.
    pub fn with_status(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }
}

impl From<nectar_bus::IngestError> for ApiError {
    fn from(err: nectar_bus::IngestError) -> ApiError {
        match err {
            nectar_bus::IngestError::Closed => ApiError::with_status(
                StatusCode::SERVICE_UNAVAILABLE,
                "the server is shutting down; retry later",
            ),
            nectar_bus::IngestError::Invalid { index, error } => {
                ApiError::bad_request(format!("event {index}: {error}"))
            }
            other => {
                error!(error = %other, "Posted events could not be stored.");
                ApiError::with_status(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "storage error; see the server log",
                )
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> ApiError {
        match err {
            StoreError::WriterClosed => ApiError::with_status(
                StatusCode::SERVICE_UNAVAILABLE,
                "the server is shutting down; retry later",
            ),
            other => {
                error!(error = %other, "Store error while answering an API request.");
                ApiError::with_status(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "storage error; see the server log",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(serde_json::json!({ "error": self.message })),
        )
            .into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            // Slots free up within seconds (a batch or an export ending).
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"nectar\""),
            );
        }
        response
    }
}
