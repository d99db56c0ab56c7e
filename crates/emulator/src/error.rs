//! Errors. S3 handlers use `s3s::S3Error` (rendered by s3s as S3's XML error); the Query and JSON
//! services (IAM, STS, KMS) use [`ServiceError`], rendered by `server` in each protocol's shape.

use std::fmt;

/// Failure to start or run the emulator itself.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
    #[error("invalid emulator configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Persist(#[from] crate::state::persist::PersistError),
}

/// An AWS service error: code, message and HTTP status, as IAM/STS/KMS return them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    pub code: String,
    pub message: String,
    pub status: u16,
}

impl ServiceError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self { code: code.to_owned(), message: message.into(), status }
    }
    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }
    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::new(403, "AccessDenied", message)
    }
    pub fn no_such_entity(message: impl Into<String>) -> Self {
        Self::new(404, "NoSuchEntity", message)
    }
    pub fn missing_parameter(name: &str) -> Self {
        Self::bad_request("MissingParameter", format!("The request must contain the parameter {name}"))
    }
    pub fn validation(message: impl Into<String>) -> Self {
        Self::bad_request("ValidationError", message)
    }
    /// "Sender" for 4xx, "Receiver" for 5xx, as in the Query protocol's `<Type>`.
    pub fn fault_type(&self) -> &'static str {
        if self.status >= 500 {
            "Receiver"
        } else {
            "Sender"
        }
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ServiceError {}
