//! xrepl's provisioner: the cross-account replication guide's fifteen console steps as one safe,
//! repeatable command.
//!
//! Given a [`Spec`] — a source bucket in account A, one or more destination buckets in account B,
//! the replication rules — it writes the least-privilege documents S3 replication needs and makes
//! both accounts match them: versioning on both buckets, the replication role in A with its trust
//! and permission policy, xrepl's statements in B's bucket policy, and the source bucket's
//! replication configuration. It changes only what it owns (see [`ownership`]), can be run again
//! at any time (a second [`apply()`] makes no mutating call), and proves the result by replicating
//! probe objects ([`verify()`]).
//!
//! # The pipeline
//!
//! 1. **Spec**: [`Spec::load`] reads a TOML file, [`Spec::from_toml_str`] a string (the format is
//!    in [`spec`]); errors are [`ProvisionError::Spec`] with file, line and column.
//! 2. **Documents**: [`Documents::for_spec`] renders the trust policy, the role's permission
//!    policy, the destination bucket policy and the `PutBucketReplication` document, in AWS's
//!    JSON shapes. Offline.
//! 3. **Lint**: [`lint_spec`] (and [`lint_policy_text`], [`lint_replication_json`] for single
//!    documents) reports what AWS would reject or what would make replication fail, as
//!    [`Finding`]s with positions and fixes. Offline.
//! 4. **Clients**: [`Accounts::from_spec`] builds SDK clients per account from the spec's
//!    credentials and checks with STS that they belong to the spec's accounts;
//!    [`Accounts::for_emulator`] points them at an emulator or LocalStack instead.
//! 5. **Plan**: [`plan()`] reads both accounts and lists, per resource, what [`apply()`] would
//!    change ([`Plan`], which displays as a diff).
//! 6. **Apply**: [`apply()`] makes the changes in the order AWS needs, retrying IAM's eventual
//!    consistency; a failure part-way reports what was done and what remains
//!    ([`ProvisionError::ApplyFailed`]).
//! 7. **Verify**: [`verify()`] writes a probe object per rule and checks status, version, owner,
//!    tags, storage class, encryption and delete markers of the replica ([`VerifyReport`]).
//! 8. **Destroy**: [`destroy()`] removes what xrepl created, in reverse order, and keeps the rest.
//!
//! Besides: [`import()`] writes the spec of a replication setup that already exists on AWS, and
//! `batch` (feature `batch`) replicates objects that existed before the rules (S3 Batch Replication).
//!
//! Each account's half can be run alone ([`Side`]): the source team applies [`Side::Source`], the
//! destination team [`Side::Destination`].
//!
//! # Example: documents from a spec, offline
//!
//! ```
//! use xrepl_provisioner::{has_errors, lint_spec, Documents, Spec};
//!
//! let spec = Spec::from_toml_str(
//!     r#"
//!     [source]
//!     account_id = "123456789012"
//!     bucket = "acme-prod-logs"
//!
//!     [destination]
//!     account_id = "210987654321"
//!     bucket = "acme-dr-logs"
//!
//!     [[rules]]
//!     prefix = "logs/"
//!     delete_marker_replication = true
//!     "#,
//!     "spec.toml",
//! )?;
//! assert!(!has_errors(&lint_spec(&spec)));
//!
//! let docs = Documents::for_spec(&spec);
//! let rule = &docs.replication["Rules"][0];
//! assert_eq!(docs.replication["Role"], "arn:aws:iam::123456789012:role/service-role/s3crr_role_for_acme-prod-logs");
//! assert_eq!(rule["Filter"]["Prefix"], "logs/");
//! assert_eq!(rule["DeleteMarkerReplication"]["Status"], "Enabled");
//! assert_eq!(rule["Destination"]["Bucket"], "arn:aws:s3:::acme-dr-logs");
//! // Owner override is on by default: replicas belong to the destination account.
//! assert_eq!(rule["Destination"]["AccessControlTranslation"]["Owner"], "Destination");
//!
//! // The destination bucket policy lets exactly that role replicate, deletes included.
//! let bucket_policy = docs.bucket_policy.expect("a cross-account setup needs one");
//! let actions = &bucket_policy["Statement"][0]["Action"];
//! assert!(actions.as_array().is_some_and(|a| a.contains(&"s3:ReplicateDelete".into())));
//! println!("{:#}", docs.replication);
//! # Ok::<(), xrepl_provisioner::ProvisionError>(())
//! ```
//!
//! # Example: apply and verify
//!
//! Against AWS this needs credentials for both accounts (the spec's `[*.credentials]` tables, or
//! the SDK's default chain); against an emulator, build the clients with
//! [`Accounts::for_emulator`] instead.
//!
//! ```no_run
//! # async fn demo() -> Result<(), xrepl_provisioner::ProvisionError> {
//! use xrepl_provisioner::{apply, verify, Accounts, ApplyOptions, Side, Spec, VerifyOptions};
//! let spec = Spec::load("fixtures/guide/spec.toml")?;
//! let accounts = Accounts::from_spec(&spec, Side::Both).await?;
//! let report = apply(&spec, &accounts, &ApplyOptions::default()).await?;
//! println!("{} mutating calls", report.mutating_calls);
//! let checks = verify(&spec, &accounts, &VerifyOptions::default()).await?;
//! assert!(checks.passed(), "{checks}");
//! # Ok(()) }
//! ```
//!
//! # Modules
//!
//! - [`spec`]: the TOML spec (and AWS's own JSON documents as inputs);
//! - [`documents`]: the least-privilege policies and replication configuration a spec needs;
//! - [`lint`]: problems AWS would reject or that would break replication, with positions;
//! - [`aws`]: SDK clients per account, errors, document comparison;
//! - [`mod@plan`], [`mod@apply`], [`mod@verify`], [`mod@destroy`]: reading, changing, proving and
//!   removing the setup;
//! - [`ownership`]: how xrepl recognizes what it created (tags and Sids on AWS, no local state);
//! - [`mod@import`], `batch` (feature `batch`): existing setups and existing objects;
//! - [`error`], [`json_pos`]: errors with positions, and the position-keeping JSON reader lint uses.
#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod apply;
pub mod aws;
#[cfg(feature = "batch")]
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
mod report;
mod side;
pub mod spec;
pub mod verify;

pub use apply::{apply, AppliedChange, ApplyFailure, ApplyOptions, ApplyReport, MadeCall, RemainingChange};
pub use aws::{AccountClients, Accounts, Backoff, Side, StaticKeys};
#[cfg(feature = "batch")]
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
