//! The errors of the use cases; the web crate maps them to HTTP once.

use siteward_core::auth_code::AuthCodeRefusal;
use siteward_core::policy::{Refusal, Rule};
use siteward_core::validate::FieldError;
use siteward_store::StoreError;

/// Why a use case did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input that breaks a field rule.
    #[error("invalid input: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// Not signed in, or the session ended.
    #[error("sign in first")]
    Unauthenticated,
    /// Wrong e-mail or password (the same message for both).
    #[error("wrong e-mail or password")]
    BadCredentials,
    /// Right password, but the account is disabled.
    #[error("this account is disabled; ask your Installer Admin")]
    AccountDisabled,
    /// The thing does not exist, or is not visible to the asker.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A policy rule refused.
    #[error("{}", .0.text())]
    Forbidden(Rule),
    /// A registration code that cannot be used.
    #[error("{0}")]
    AuthCode(AuthCodeRefusal),
    /// A duplicate or a wrong state.
    #[error("{message}")]
    Conflict {
        /// A stable code.
        code: &'static str,
        /// What conflicts, for people.
        message: String,
    },
    /// Understood but not accepted (an image of the wrong kind, …).
    #[error("{message}")]
    Unprocessable {
        /// A stable code.
        code: &'static str,
        /// Why, for people.
        message: String,
    },
    /// A device answered badly or not in a usable way (HTTP 502).
    #[error("{message}")]
    DeviceFailed {
        /// A stable code.
        code: &'static str,
        /// What the device did, for people.
        message: String,
    },
    /// A device did not answer in time (HTTP 504).
    #[error("{message}")]
    DeviceTimeout {
        /// What timed out, for people.
        message: String,
    },
    /// Too many attempts; try again later.
    #[error("too many attempts; try again in {retry_after_secs} s")]
    Throttled {
        /// Seconds until the next attempt may succeed.
        retry_after_secs: u64,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A bug or an environment failure; details go to the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// One invalid field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid(vec![FieldError::new(field, message)])
    }

    /// The refusal of the policy as an error, naming what was not found.
    pub fn refused(what: &'static str) -> impl Fn(Refusal) -> AppError {
        move |r| match r {
            Refusal::NotFound => AppError::NotFound(what),
            Refusal::Forbidden(rule) => AppError::Forbidden(rule),
        }
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::Invalid(vec![e])
    }
}

/// Collects field errors so a form can show all of them at once.
#[derive(Debug, Default)]
pub(crate) struct Fields(Vec<FieldError>);

impl Fields {
    /// Keeps the value, or records the error and returns the default.
    pub(crate) fn take<T: Default>(&mut self, r: Result<T, FieldError>) -> T {
        r.unwrap_or_else(|e| {
            self.0.push(e);
            T::default()
        })
    }

    /// Records an error.
    pub(crate) fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }

    /// Fails with every recorded error, if any.
    pub(crate) fn finish(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(self.0))
        }
    }
}
