use std::fmt;

/// Everything that can go wrong in a harness run; assertion failures carry expected vs actual.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The backend cannot start on this machine (the reason says why); tests report it as skipped.
    #[error("backend {backend} is unavailable: {reason}")]
    Unavailable { backend: String, reason: String },
    /// The backend cannot observe what the assertion needs (e.g. LocalStack has one owner for all).
    #[error("{what} is not supported on backend {backend}: {reason}")]
    Unsupported { backend: String, what: String, reason: String },
    #[error("assertion failed: {0}")]
    Assertion(AssertionFailure),
    #[error("{call} failed: {message}")]
    Aws { call: String, message: String },
    #[error(transparent)]
    Provision(#[from] xrepl_provisioner::ProvisionError),
    #[error("{0}")]
    Other(String),
}

/// A failed expectation, rendered with both sides and (for replication) AWS's failure reason and
/// the explanation of what is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionFailure {
    pub what: String,
    pub expected: String,
    pub actual: String,
    pub explanation: Option<String>,
}

impl fmt::Display for AssertionFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n  expected: {}\n    actual: {}", self.what, self.expected, self.actual)?;
        if let Some(e) = &self.explanation {
            write!(f, "\n       why: {e}")?;
        }
        Ok(())
    }
}

impl HarnessError {
    pub fn assertion(what: impl Into<String>, expected: impl fmt::Display, actual: impl fmt::Display) -> Self {
        Self::Assertion(AssertionFailure {
            what: what.into(),
            expected: expected.to_string(),
            actual: actual.to_string(),
            explanation: None,
        })
    }

    pub fn aws<E: std::error::Error>(call: &str, err: &E) -> Self {
        let mut message = err.to_string();
        let mut source = err.source();
        while let Some(s) = source {
            message = format!("{message}: {s}");
            source = s.source();
        }
        Self::Aws { call: call.to_owned(), message }
    }
}
