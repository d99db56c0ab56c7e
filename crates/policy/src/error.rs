//! Validation errors, with AWS's wording and the position in the document.

use std::fmt;

/// What is wrong with a policy document. Each kind maps onto one AWS error message
/// (see [`PolicyError::s3_message`] and [`PolicyError::iam_message`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyErrorKind {
    InvalidJson,
    NotAnObject,
    MissingStatement,
    InvalidVersion,
    UnknownElement,
    InvalidEffect,
    MissingEffect,
    MissingAction,
    MissingResource,
    InvalidResource,
    MissingPrincipal,
    PrincipalNotAllowed,
    InvalidPrincipal,
    InvalidCondition,
    InvalidAction,
}

/// A rejected policy document. `message` starts with AWS's wording and may add
/// detail; `line`/`column` are 1-based and count characters, not bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PolicyError {
    pub kind: PolicyErrorKind,
    pub message: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, " (line {line}, column {column})")?;
        }
        Ok(())
    }
}

impl PolicyError {
    pub(crate) fn new(kind: PolicyErrorKind, message: impl Into<String>) -> Self {
        PolicyError { kind, message: message.into(), line: None, column: None }
    }

    pub(crate) fn at(mut self, pos: Option<(usize, usize)>) -> Self {
        if let Some((line, column)) = pos {
            self.line = Some(line);
            self.column = Some(column);
        }
        self
    }

    /// The message S3 puts in a `MalformedPolicy` error for this problem
    /// (PutBucketPolicy). Recorded texts where AWS's are known (see
    /// docs/aws-replication-semantics.md §11), otherwise our closest choice.
    pub fn s3_message(&self) -> &'static str {
        use PolicyErrorKind::*;
        match self.kind {
            InvalidJson | NotAnObject => "Policies must be valid JSON and the first byte must be '{'",
            MissingStatement => "Missing required field Statement",
            InvalidVersion => "The policy must contain a valid version string",
            UnknownElement => "Policy has an unknown field",
            InvalidEffect => "Policy has an invalid effect",
            MissingEffect => "Missing required field Effect",
            MissingAction => "Missing required field Action",
            MissingResource => "Missing required field Resource",
            InvalidResource => "Policy has invalid resource",
            MissingPrincipal => "Missing required field Principal",
            PrincipalNotAllowed => "Policy document should not specify a principal.",
            InvalidPrincipal => "Invalid principal in policy",
            InvalidCondition => "Policy has an invalid condition key",
            InvalidAction => "Policy has invalid action",
        }
    }

    /// The message IAM puts in a `MalformedPolicyDocument` error for this problem
    /// (CreateRole, PutRolePolicy, CreatePolicy, ...).
    pub fn iam_message(&self) -> &'static str {
        use PolicyErrorKind::*;
        match self.kind {
            InvalidJson | NotAnObject => "This policy contains invalid Json",
            // What IAM answers for a Version it does not know.
            InvalidVersion => "The policy failed legacy parsing",
            MissingAction => "Policy statement must contain actions.",
            MissingResource => "Policy statement must contain resources.",
            MissingPrincipal => "Missing required field Principal",
            PrincipalNotAllowed => "Policy document should not specify a principal.",
            InvalidPrincipal => "Invalid principal in policy",
            InvalidAction => "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
            MissingStatement | UnknownElement | InvalidEffect | MissingEffect | InvalidResource | InvalidCondition => {
                "Syntax errors in policy."
            }
        }
    }
}
