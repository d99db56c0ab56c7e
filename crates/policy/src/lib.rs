//! IAM policy documents for xrepl: a typed model, validation with AWS's error
//! messages and exact positions, and evaluation (one document, and AWS's
//! identity + resource combination, including cross-account).
//!
//! ```
//! use xrepl_policy::{Context, Decision, DocumentKind, Policy, PrincipalInfo, Request};
//!
//! let trust = Policy::parse(
//!     r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
//!         "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#,
//!     DocumentKind::Trust,
//! )
//! .unwrap();
//! let s3 = PrincipalInfo { service: Some("s3.amazonaws.com".into()), ..Default::default() };
//! let ctx = Context::new();
//! let req = Request {
//!     principal: &s3,
//!     action: "sts:AssumeRole",
//!     resource: "arn:aws:iam::111111111111:role/service-role/replication",
//!     context: &ctx,
//! };
//! assert_eq!(trust.evaluate(&req).decision, Decision::Allow);
//! ```

// Tests may unwrap; library code may not (workspace lint).
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod condition;
mod context;
mod error;
mod eval;
mod locate;
mod model;
mod parse;
mod principal;
mod public;
mod values;
mod version;
mod wildcard;

pub use condition::{BaseOperator, ConditionBlock, ConditionOperator, SetQualifier};
pub use context::Context;
pub use error::{PolicyError, PolicyErrorKind};
pub use eval::{authorize, Authorization, Decision, Evaluation, Request, StatementRef};
pub use model::{
    ActionBlock, DocumentKind, Effect, Policy, Principal, PrincipalBlock, PrincipalType, ResourceBlock, Statement, VALID_VERSIONS,
};
pub use principal::PrincipalInfo;
pub use values::Values;
pub use version::find_version_problem;
pub use wildcard::matches as wildcard_matches;
