//! The crate's one error type, and the source locations that errors and lint findings point at.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::report::ApplyReport;

/// A position in a file: 1-based line, 1-based column counted in characters (not bytes), so that
/// a column after an en dash (three bytes in UTF-8) still matches what an editor shows.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// The file, when the text came from one (`None` for text given as a string without a path).
    pub file: Option<PathBuf>,
    /// Line number, starting at 1.
    pub line: usize,
    /// Column number, starting at 1, counted in characters.
    pub column: usize,
}

impl Location {
    /// The location of byte `offset` in `text` (clamped as [`line_col`] does), in `file`.
    pub fn from_offset(text: &str, offset: usize, file: Option<&Path>) -> Location {
        let (line, column) = line_col(text, offset);
        Location { file: file.map(Path::to_path_buf), line, column }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(file) => write!(f, "{}:{}:{}", file.display(), self.line, self.column),
            None => write!(f, "{}:{}", self.line, self.column),
        }
    }
}

/// 1-based (line, column-in-characters) of byte `offset` in `text`. Offsets past the end or inside
/// a multi-byte character are clamped to the nearest preceding character boundary.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..offset].chars().count() + 1;
    (line, column)
}

/// A problem with a spec file (or a document it references): where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// The spec file, or the JSON document the problem is in; `None` when the spec was given
    /// without a path. Displayed as `<spec>` then.
    pub file: Option<PathBuf>,
    /// 1-based line, when the problem has a position.
    pub line: Option<usize>,
    /// 1-based column in characters, when the problem has a position.
    pub column: Option<usize>,
    /// What is wrong, and usually how to fix it (e.g. ``unknown field `buckt`, expected one of …``).
    pub message: String,
}

impl SpecError {
    /// An error at `location` (file, line and column).
    pub fn at(location: Location, message: impl Into<String>) -> SpecError {
        SpecError { file: location.file, line: Some(location.line), column: Some(location.column), message: message.into() }
    }

    /// An error about a whole file (no line or column), e.g. a missing `[destination]` table.
    pub fn in_file(file: Option<&Path>, message: impl Into<String>) -> SpecError {
        SpecError { file: file.map(Path::to_path_buf), line: None, column: None, message: message.into() }
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.as_ref().map_or_else(|| "<spec>".to_string(), |p| p.display().to_string());
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(f, "{file}:{line}:{column}: {}", self.message),
            (Some(line), None) => write!(f, "{file}:{line}: {}", self.message),
            _ => write!(f, "{file}: {}", self.message),
        }
    }
}

impl std::error::Error for SpecError {}

/// Everything that can go wrong in this crate.
///
/// The AWS variant's Display is written for the person running the command: which call, on which
/// account, and AWS's own error code and message, e.g.
/// `PutBucketReplication on account 111111111111 failed: InvalidRequest: Destination bucket must have versioning enabled.`
/// `Debug` prints the same text, so a test or `main` returning this error shows it readably.
#[derive(thiserror::Error)]
pub enum ProvisionError {
    /// The spec (or a file it references) is invalid; carries file, line and column.
    #[error("{0}")]
    Spec(SpecError),

    /// An AWS API call failed. `code` is AWS's error code (or a client-side category such as
    /// `DispatchFailure` when no response arrived); `status` is the HTTP status when there was one.
    #[error("{operation} on account {account} failed: {code}: {message}")]
    Aws {
        /// The API operation, e.g. `PutBucketReplication`, `CreateRole`, `HeadBucket`.
        operation: &'static str,
        /// The 12-digit account id whose clients made the call.
        account: String,
        /// AWS's error code (e.g. `InvalidRequest`, `NoSuchEntity`, `MalformedPolicy`); for a
        /// bodiless answer `NotFound`, `Forbidden` or `Http<status>`; without any answer
        /// `DispatchFailure`, `Timeout`, `ConstructionFailure` or `ResponseError`.
        code: String,
        /// AWS's error message; without an answer, the SDK's whole error chain (e.g. "Connection refused").
        message: String,
        /// The HTTP status code of the answer; `None` when no answer arrived.
        status: Option<u16>,
    },

    /// Credentials could not be resolved for an account.
    #[error("credentials for account {account}: {message}")]
    Credentials {
        /// The 12-digit account id the credentials were for.
        account: String,
        /// What went wrong (e.g. STS GetCallerIdentity returned no account).
        message: String,
    },

    /// The credentials given for one side belong to another account than the spec names: refusing
    /// to provision into the wrong account.
    #[error("the {side} credentials belong to account {actual}, but the spec says the {side} account is {expected}")]
    AccountMismatch {
        /// `"source"` or `"destination"`.
        side: &'static str,
        /// The account id the spec names for that side.
        expected: String,
        /// The account id the credentials belong to (STS GetCallerIdentity).
        actual: String,
    },

    /// The world is not in a state xrepl may change safely (e.g. a bucket is missing and
    /// `create_bucket` is false, or the source bucket already replicates rules xrepl did not write).
    #[error("account {account}: {message}")]
    Conflict {
        /// The 12-digit account id where the conflicting resource is.
        account: String,
        /// What is in the way and, where there is one, how to proceed (e.g. `adopt`,
        /// `replace_foreign_rules`, `create_bucket`). Also used when AWS answers without a
        /// part xrepl needs (a role without ARN, a job id missing from CreateJob).
        message: String,
    },

    /// A document could not be turned into an API request (e.g. a replication JSON without `Role`).
    #[error("invalid document: {0}")]
    Document(String),

    /// The operation needs the clients of an account that were not supplied.
    #[error("this step needs the {side} account's clients, but none were given")]
    MissingClients {
        /// `"source"` or `"destination"`.
        side: &'static str,
    },

    /// Apply failed part-way: the error, and the report of every change made before it and of
    /// what remains (running apply again completes the rest). Displays as the error itself.
    #[error("{}", .0.error)]
    ApplyFailed(Box<ApplyFailure>),
}

/// A failed apply: the error, and what was done before it ([`ApplyReport::calls`]) and what
/// remains ([`ApplyReport::remaining`]). Running apply again completes the rest.
#[derive(Debug)]
pub struct ApplyFailure {
    /// The error of the call that failed (never itself an [`ProvisionError::ApplyFailed`]).
    pub error: ProvisionError,
    /// What was done before the failure and what remains.
    pub report: ApplyReport,
}

impl fmt::Debug for ProvisionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl From<SpecError> for ProvisionError {
    fn from(e: SpecError) -> Self {
        ProvisionError::Spec(e)
    }
}

impl ProvisionError {
    /// AWS's error code, when this is an AWS error.
    pub fn aws_code(&self) -> Option<&str> {
        match self.root() {
            ProvisionError::Aws { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The error itself, without the partial-apply report an [`ProvisionError::ApplyFailed`] wraps.
    pub fn root(&self) -> &ProvisionError {
        match self {
            ProvisionError::ApplyFailed(f) => f.error.root(),
            other => other,
        }
    }

    /// What a failed apply changed before failing and what remains, when this is such a failure.
    pub fn apply_failure(&self) -> Option<&ApplyFailure> {
        match self {
            ProvisionError::ApplyFailed(f) => Some(f),
            _ => None,
        }
    }

    /// The spec error, when this is one (tests and the CLI use it to print positions).
    pub fn as_spec_error(&self) -> Option<&SpecError> {
        match self {
            ProvisionError::Spec(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let text = "a\n\"2012–10–17\"";
        // The second en dash: after `"2012–10` on line 2.
        let offset = text.rfind('–').unwrap_or(0);
        assert_eq!(line_col(text, offset), (2, 9));
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, text.len() + 10), (2, 13));
    }

    #[test]
    fn aws_error_display_names_call_account_code_and_message() {
        let e = ProvisionError::Aws {
            operation: "PutBucketReplication",
            account: "111111111111".into(),
            code: "InvalidRequest".into(),
            message: "Destination bucket must have versioning enabled.".into(),
            status: Some(400),
        };
        assert_eq!(
            e.to_string(),
            "PutBucketReplication on account 111111111111 failed: InvalidRequest: Destination bucket must have versioning enabled."
        );
    }

    #[test]
    fn spec_error_display_has_file_line_column() {
        let e = SpecError { file: Some(PathBuf::from("x.toml")), line: Some(3), column: Some(7), message: "unknown field `buckt`".into() };
        assert_eq!(e.to_string(), "x.toml:3:7: unknown field `buckt`");
    }
}
