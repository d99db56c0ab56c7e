//! The harness's one error type. Its `Debug` is its `Display`: a test that returns
//! `Result<(), HarnessError>` prints the failure the way a person reads it (expected, actual,
//! why, and the statement that fixes it), not a derived struct dump.

use std::fmt;

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

/// Everything that can go wrong in a harness run; assertion failures carry expected vs actual.
#[derive(thiserror::Error)]
pub enum HarnessError {
    /// The backend cannot start on this machine (the reason says why); tests report it as skipped.
    #[error("backend {backend} is unavailable: {reason}")]
    Unavailable {
        /// The backend's name (`embedded`, `container`, …).
        backend: String,
        /// Why it cannot start here, and what to do about it.
        reason: String,
    },
    /// The backend cannot observe what the assertion needs (e.g. LocalStack has one owner for all).
    #[error("{what} is not supported on backend {backend}: {reason}")]
    Unsupported {
        /// The backend's name.
        backend: String,
        /// What was asked for.
        what: String,
        /// Why this backend cannot answer it faithfully.
        reason: String,
    },
    /// An expectation about replication did not hold.
    #[error("assertion failed: {0}")]
    Assertion(AssertionFailure),
    /// An AWS API call failed: the operation, and AWS's error code and message when a response
    /// arrived (otherwise the client-side cause, e.g. a refused connection).
    #[error("{call} failed: {message}")]
    Aws {
        /// The operation (`PutObject`, `CreateBucket`, …), or `AWS call` when the SDK does not say.
        call: String,
        /// AWS's error code, when the service answered with one (`NoSuchBucket`, `AccessDenied`, …).
        code: Option<String>,
        /// `CODE: message` as AWS sent it, or the client-side error chain.
        message: String,
    },
    /// Applying, verifying or loading a spec failed in the provisioner.
    #[error(transparent)]
    Provision(#[from] xrepl_provisioner::ProvisionError),
    /// Anything else (a misused harness, an unexpected answer), in words.
    #[error("{0}")]
    Other(String),
}

impl HarnessError {
    /// [`HarnessError::Unavailable`] for `backend`, with the reason.
    #[cfg(feature = "containers")]
    pub(crate) fn unavailable(backend: &str, reason: impl Into<String>) -> Self {
        HarnessError::Unavailable { backend: backend.to_owned(), reason: reason.into() }
    }
}

impl fmt::Debug for HarnessError {
    /// The same text as `Display`, so `Result<(), HarnessError>` tests print it readably.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A failed expectation, rendered with both sides and (for replication) AWS's failure reason, the
/// explanation of what is missing and the statement that would fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionFailure {
    /// What was checked (`replica of reports/q1.csv in s3://dst`).
    pub what: String,
    /// What the assertion wanted.
    pub expected: String,
    /// What the backend showed instead.
    pub actual: String,
    /// Why, when the backend recorded a replication failure for the key.
    pub explanation: Option<String>,
    /// The policy statement (JSON) that would make replication succeed, when there is one.
    pub fix: Option<String>,
}

impl fmt::Display for AssertionFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n  expected: {}\n    actual: {}", self.what, self.expected, self.actual)?;
        if let Some(e) = &self.explanation {
            write!(f, "\n       why: {}", indent_continuation(e))?;
        }
        if let Some(fix) = &self.fix {
            write!(f, "\n       fix: {}", indent_continuation(&pretty_json(fix)))?;
        }
        Ok(())
    }
}

/// Continuation lines line up under the text after the 12-character labels above.
fn indent_continuation(text: &str) -> String {
    text.replace('\n', "\n            ")
}

/// A JSON statement pretty-printed (real quotes, one element a line); other text as it is.
pub(crate) fn pretty_json(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.to_owned())
}

impl HarnessError {
    /// An assertion failure with both sides and no replication explanation.
    pub fn assertion(what: impl Into<String>, expected: impl fmt::Display, actual: impl fmt::Display) -> Self {
        Self::Assertion(AssertionFailure {
            what: what.into(),
            expected: expected.to_string(),
            actual: actual.to_string(),
            explanation: None,
            fix: None,
        })
    }

    /// A failed AWS call named `call`, keeping AWS's code and message (or the client error chain).
    pub fn aws<E, R>(call: &str, err: &SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug,
    {
        let (code, message) = sdk_error_parts(err);
        Self::Aws { call: call.to_owned(), code, message }
    }

    /// AWS's error code, when this is an AWS error that carried one (also through the provisioner).
    pub fn aws_code(&self) -> Option<&str> {
        match self {
            Self::Aws { code, .. } => code.as_deref(),
            Self::Provision(p) => p.aws_code(),
            _ => None,
        }
    }
}

/// AWS's code and `CODE: message` for a service error; the error chain for anything else.
fn sdk_error_parts<E, R>(err: &SdkError<E, R>) -> (Option<String>, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    if let Some(code) = err.code() {
        let message = err.message().unwrap_or("(no message)");
        return (Some(code.to_owned()), format!("{code}: {message}"));
    }
    let mut message = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        message = format!("{message}: {s}");
        source = s.source();
    }
    (None, message)
}

/// `?` on a team's own aws-sdk-s3 (or IAM, STS, KMS) call inside a harness test. The operation's
/// name is not known here, so `call` reads `AWS call`; AWS's code and message are kept.
impl<E, R> From<SdkError<E, R>> for HarnessError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    fn from(err: SdkError<E, R>) -> Self {
        let (code, message) = sdk_error_parts(&err);
        Self::Aws { call: "AWS call".to_owned(), code, message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_renders_the_multi_line_layout_with_real_quotes() {
        let e = HarnessError::Assertion(AssertionFailure {
            what: "replica of a.txt in s3://dst".to_owned(),
            expected: "version v1 present".to_owned(),
            actual: "GetObject failed: NoSuchKey: The specified key does not exist.".to_owned(),
            explanation: Some("replication failed with DstPutObjectNotPermitted".to_owned()),
            fix: Some(r#"{"Effect":"Allow","Action":"s3:ReplicateObject"}"#.to_owned()),
        });
        let debug = format!("{e:?}");
        assert_eq!(debug, e.to_string());
        assert!(debug.contains("\n  expected: version v1 present\n    actual: GetObject failed"), "{debug}");
        assert!(debug.contains("\n       fix: {\n              \"Effect\": \"Allow\""), "{debug}");
        assert!(!debug.contains("\\\""), "no escaped quotes: {debug}");
    }
}
