//! The one mapping from errors to HTTP: `application/problem+json` (RFC 9457) with a
//! stable `code` clients can branch on. Internal details are logged, never sent.

use axum::Json;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use siteward_app::AppError;
use siteward_core::validate::FieldError;
use siteward_store::StoreError;
use utoipa::ToSchema;

/// A field at fault, as the OpenAPI document describes it.
#[derive(ToSchema)]
#[schema(as = FieldError)]
#[allow(dead_code)]
pub(crate) struct FieldErrorSchema {
    /// The field, as named in the request (`admin.email`).
    field: String,
    /// What is wrong with it.
    message: String,
}

/// An error document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong this time, for people.
    pub detail: String,
    /// A stable machine-readable code, such as `auth_code.used`.
    pub code: String,
    /// The fields at fault, for bad input.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<FieldErrorSchema>)]
    pub errors: Vec<FieldError>,
    /// Seconds to wait before retrying (429).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// The permission whose site authorization is missing (403
    /// `policy.authorization_required`, R-10): what to apply for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permission: Option<String>,
}

impl Problem {
    /// A problem with a status, a code and a detail.
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("https://siteward.dev/problems/{}", code.replace('.', "/")),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            code: code.to_owned(),
            errors: Vec::new(),
            retry_after: None,
            permission: None,
        }
    }

    /// The status as a [`StatusCode`].
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let retry = self.retry_after;
        let mut res = (status, Json(self)).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = retry
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }
}

/// Every error of a use case, mapped to its status and code.
impl From<AppError> for Problem {
    fn from(e: AppError) -> Self {
        use StatusCode as S;
        match e {
            AppError::Invalid(errors) => {
                let detail = errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ");
                Problem {
                    errors,
                    ..Problem::new(S::BAD_REQUEST, "invalid_input", detail)
                }
            }
            AppError::Unauthenticated => {
                Problem::new(S::UNAUTHORIZED, "auth.required", e.to_string())
            }
            AppError::BadCredentials => {
                Problem::new(S::UNAUTHORIZED, "auth.bad_credentials", e.to_string())
            }
            AppError::AccountDisabled => {
                Problem::new(S::FORBIDDEN, "account.disabled", e.to_string())
            }
            AppError::NotFound(what) => Problem::new(
                S::NOT_FOUND,
                "not_found",
                format!("{what} not found (or not visible to you)"),
            ),
            AppError::Forbidden(rule) => Problem {
                permission: rule.missing_permission().map(|p| p.as_str().to_owned()),
                ..Problem::new(S::FORBIDDEN, rule.code(), rule.text())
            },
            AppError::AuthCode(r) => Problem::new(S::UNPROCESSABLE_ENTITY, r.code(), r.to_string()),
            AppError::Conflict { code, message } => Problem::new(S::CONFLICT, code, message),
            AppError::Unprocessable { code, message } => {
                Problem::new(S::UNPROCESSABLE_ENTITY, code, message)
            }
            AppError::DeviceFailed { code, message } => Problem::new(S::BAD_GATEWAY, code, message),
            AppError::DeviceTimeout { message } => {
                Problem::new(S::GATEWAY_TIMEOUT, "device.timeout", message)
            }
            AppError::Throttled { retry_after_secs } => Problem {
                retry_after: Some(retry_after_secs),
                ..Problem::new(S::TOO_MANY_REQUESTS, "auth.throttled", e.to_string())
            },
            AppError::Store(StoreError::Duplicate(_)) => {
                Problem::new(S::CONFLICT, "conflict", "this conflicts with existing data")
            }
            AppError::Store(_) | AppError::Internal(_) => {
                tracing::error!(error = %e, "internal error");
                Problem::new(
                    S::INTERNAL_SERVER_ERROR,
                    "internal",
                    "something went wrong on our side; it has been logged",
                )
            }
        }
    }
}

/// A JSON body that could not be read.
impl From<JsonRejection> for Problem {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::MissingJsonContentType(_) => Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "body.content_type",
                "send the body as JSON with Content-Type: application/json",
            ),
            JsonRejection::BytesRejection(b) => Problem::from(b),
            JsonRejection::JsonDataError(e) => {
                Problem::new(StatusCode::BAD_REQUEST, "body.invalid", e.body_text())
            }
            other => Problem::new(StatusCode::BAD_REQUEST, "body.malformed", other.body_text()),
        }
    }
}

/// A body that could not be received (too large, cut off).
impl From<BytesRejection> for Problem {
    fn from(r: BytesRejection) -> Self {
        let status = r.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::new(status, "body.too_large", "the request body is too large")
        } else {
            Problem::new(StatusCode::BAD_REQUEST, "body.unreadable", r.body_text())
        }
    }
}

/// A panic in a handler is a bug: answer 500 as a problem, never tear the connection.
pub(crate) fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a handler panicked");
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "something went wrong on our side; it has been logged",
    )
    .into_response()
}

/// Turns the few API error answers made outside our handlers (a malformed query
/// string, a method the path does not take, a body over the limit) into problem documents too, so API clients
/// meet one error format.
pub(crate) async fn api_errors_as_problems(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let is_api = req.uri().path().starts_with("/api/");
    let res = next.run(req).await;
    if !is_api {
        return res;
    }
    let status = res.status();
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return res;
    }
    let body = axum::body::to_bytes(res.into_body(), 16 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body);
    let code = match status {
        StatusCode::BAD_REQUEST => "invalid_input",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "body.too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "body.content_type",
        _ => "http_error",
    };
    let detail = if text.trim().is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text.into_owned()
    };
    Problem::new(status, code, detail).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use siteward_core::auth_code::AuthCodeRefusal;
    use siteward_core::policy::Rule;

    /// The mapping table, so a change of status is a deliberate one.
    #[test]
    fn mapping_table() {
        let cases: Vec<(AppError, u16, &str)> = vec![
            (
                AppError::invalid("name", "is required"),
                400,
                "invalid_input",
            ),
            (AppError::Unauthenticated, 401, "auth.required"),
            (AppError::BadCredentials, 401, "auth.bad_credentials"),
            (AppError::AccountDisabled, 403, "account.disabled"),
            (AppError::NotFound("site"), 404, "not_found"),
            (
                AppError::Forbidden(Rule::LastInstallerAdmin),
                403,
                "policy.last_installer_admin",
            ),
            (
                AppError::AuthCode(AuthCodeRefusal::Used),
                422,
                "auth_code.used",
            ),
            (
                AppError::Conflict {
                    code: "account.email_taken",
                    message: String::new(),
                },
                409,
                "account.email_taken",
            ),
            (
                AppError::Unprocessable {
                    code: "logo.invalid",
                    message: String::new(),
                },
                422,
                "logo.invalid",
            ),
            (
                AppError::Throttled {
                    retry_after_secs: 7,
                },
                429,
                "auth.throttled",
            ),
            (
                AppError::Store(StoreError::Duplicate("x".into())),
                409,
                "conflict",
            ),
            (AppError::Internal("secret detail".into()), 500, "internal"),
        ];
        for (err, status, code) in cases {
            let p = Problem::from(err);
            assert_eq!((p.status, p.code.as_str()), (status, code));
            assert!(
                !p.detail.contains("secret detail"),
                "internal details are not sent"
            );
        }
        let p = Problem::from(AppError::Throttled {
            retry_after_secs: 7,
        });
        assert_eq!(p.retry_after, Some(7));
        let p = Problem::from(AppError::Forbidden(Rule::AuthorizationRequired(
            siteward_core::handover::Permission::HealthMonitoring,
        )));
        assert_eq!(
            (p.status, p.code.as_str(), p.permission.as_deref()),
            (
                403,
                "policy.authorization_required",
                Some("health_monitoring")
            )
        );
        assert_eq!(
            Problem::from(AppError::Forbidden(Rule::OwnerOnly)).permission,
            None
        );
        let p = Problem::from(AppError::invalid(
            "admin.email",
            "must be an e-mail address",
        ));
        assert_eq!(p.errors[0].field, "admin.email");
    }
}
