//! xrepl's provisioner: the cross-account replication guide's fifteen console steps as one safe,
//! repeatable command.
//!
//! - [`spec`]: the TOML spec (and AWS's own JSON documents as inputs);
//! - [`documents`]: the least-privilege policies and replication configuration a spec needs;
//! - [`lint`]: problems AWS would reject or that would break replication, with positions;
//! - [`aws`]: SDK clients per account, errors, document comparison;
//! - [`mod@plan`], [`mod@apply`], [`mod@verify`], [`mod@destroy`]: reading, changing, proving and
//!   removing the setup.
//!
//! ```no_run
//! # async fn demo() -> Result<(), xrepl_provisioner::ProvisionError> {
//! use xrepl_provisioner::{apply, verify, Accounts, ApplyOptions, Side, Spec, VerifyOptions};
//! let spec = Spec::load("fixtures/guide/spec.toml")?;
//! let accounts = Accounts::from_spec(&spec, Side::Both).await?;
//! let report = apply(&spec, &accounts, &ApplyOptions::default()).await?;
//! println!("{} mutating calls", report.mutating_calls);
//! let checks = verify(&spec, &accounts, &VerifyOptions::default()).await?;
//! assert!(checks.passed());
//! # Ok(()) }
//! ```
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod apply;
pub mod aws;
pub mod batch;
pub mod destroy;
pub mod documents;
pub mod error;
pub mod import;
pub mod json_pos;
pub mod lint;
pub mod ownership;
pub mod plan;
mod policy_check;
pub mod spec;
pub mod verify;

pub use apply::{apply, AppliedChange, ApplyFailure, ApplyOptions, ApplyReport, MadeCall, RemainingChange};
pub use aws::{AccountClients, Accounts, Backoff, Side};
pub use batch::BatchFilter;
pub use destroy::{destroy, DestroyItem, DestroyOptions, DestroyReport};
pub use documents::Documents;
pub use error::{Location, ProvisionError, SpecError};
pub use import::{import, ImportOptions, Imported};
pub use lint::{has_errors, lint_policy_text, lint_replication_json, lint_spec, Finding, PolicyKind, Severity};
pub use plan::{plan, Change, Plan, PlannedChange, ResourceKind};
pub use spec::{AccountSpec, Credentials, Expectation, Overrides, RoleSpec, RuleSpec, Spec, UserDocument, VersioningOverride};
pub use verify::{verify, Check, Outcome, VerifyOptions, VerifyReport};

#[cfg(test)]
mod tests;
