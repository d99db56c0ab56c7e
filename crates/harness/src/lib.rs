//! xrepl's test harness: two AWS accounts on a backend, your replication spec applied through
//! the provisioner, and assertions that objects, ownership and deletes replicate — with expected
//! vs actual, AWS's failure reason and the statement that fixes it when they do not.
//!
//! # Quickstart
//!
//! ```
//! use xrepl_harness::prelude::*;
//!
//! # #[tokio::main] async fn main() -> Result<(), HarnessError> {
//! // Two accounts in an in-process emulator: no Docker, no AWS account.
//! let h = Harness::builder().accounts(["123456789012", "210987654321"]).start().await?;
//! let spec: Spec = h.spec_from_toml(r#"
//!     [source]
//!     account_id = "123456789012"
//!     bucket = "acme-prod-logs"
//!     create_bucket = true
//!     [destination]
//!     account_id = "210987654321"
//!     bucket = "acme-dr-logs"
//!     create_bucket = true
//!     [[rules]]
//!     id = "logs"
//!     prefix = "logs/"
//!     delete_marker_replication = true
//!     owner_override = true
//! "#)?;
//! h.apply(&spec).await?;
//!
//! let version = h.put(&spec, "logs/app.log", b"started").await?;
//! h.wait_for_replication().await?; // no sleeps: waits until replication is idle
//! h.assert_replicated(&spec, "logs/app.log", &version, b"started").await?;
//! h.assert_owner(&spec, "logs/app.log", "210987654321").await?;
//!
//! let marker = h.delete(&spec, "logs/app.log").await?;
//! h.wait_for_replication().await?;
//! h.assert_delete_marker(&spec, "logs/app.log", &marker).await?;
//!
//! // Your own SDK calls take `?` too: the error keeps AWS's code and message.
//! h.source(&spec)?.s3().head_bucket().bucket("acme-prod-logs").send().await?;
//! # Ok(()) }
//! ```
//!
//! A failing assertion prints, also through `Debug` (a test returning
//! `Result<(), HarnessError>`):
//!
//! ```text
//! assertion failed: replica of logs/app.log in s3://acme-dr-logs
//!   expected: version 3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY present
//!     actual: GetObject failed: NoSuchKey: The specified key does not exist.
//!        why: replication of s3://acme-prod-logs/logs/app.log (version 3HL4…) to acme-dr-logs failed
//!             with DstPutObjectNotPermitted (rule logs): S3 acting as role … could not …
//!        fix: {
//!               "Effect": "Allow",
//!               "Principal": { "AWS": "arn:aws:iam::123456789012:role/…" },
//!               "Action": "s3:ReplicateObject",
//!               "Resource": "arn:aws:s3:::acme-dr-logs/*"
//!             }
//! ```
//!
//! # Backends
//!
//! [`BackendKind::Embedded`] (in-process, the default) and [`BackendKind::Served`] (an emulator
//! that already runs: [`HarnessBuilder::endpoint`]) are always built. With the `containers`
//! feature: [`BackendKind::Container`], [`BackendKind::TwoContainers`], `XreplImage` (a
//! testcontainers module) and the `testcontainers` crate re-exported at the version the harness uses; with
//! `localstack`: [`BackendKind::LocalStack`]; with `batch`: S3 Batch Replication jobs
//! (`Harness::batch_replicate`); with `kms`: KMS keys for SSE-KMS replication (`Harness::create_kms_key`,
//! `Harness::allow_role_on_key`). `XREPL_BACKEND` picks one at run time.
//!
//! # One emulator for many tests
//!
//! A harness in a `static` serves every `#[tokio::test]` of a test binary: the embedded emulator
//! runs on a runtime of its own, so it outlives each test's runtime. Give each test its own keys
//! (or buckets), or call [`Harness::reset`] at its start.
//!
//! ```
//! use tokio::sync::OnceCell;
//! use xrepl_harness::prelude::*;
//!
//! static HARNESS: OnceCell<Harness> = OnceCell::const_new();
//!
//! async fn harness() -> Result<&'static Harness, HarnessError> {
//!     HARNESS.get_or_try_init(|| Harness::builder().start()).await
//! }
//! # #[tokio::main] async fn main() -> Result<(), HarnessError> { harness().await?; Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod backend;
pub mod backends;
#[cfg(feature = "batch")]
pub mod batch;
mod error;
mod harness;
#[cfg(feature = "containers")]
pub mod image;
#[cfg(feature = "kms")]
mod kms;

pub use backend::{Backend, BackendKind, Capabilities, Capability, FailureView};
#[cfg(feature = "batch")]
pub use batch::{BatchFilter, BatchOutcome, ReportRow};
pub use error::{AssertionFailure, HarnessError};
pub use harness::{AccountHandle, Harness, HarnessBuilder, DESTINATION_ACCOUNT, SOURCE_ACCOUNT};
#[cfg(feature = "containers")]
pub use image::XreplImage;
/// The testcontainers crate at the version this harness is built with (a second copy at another
/// version would not accept [`XreplImage`]).
#[cfg(feature = "containers")]
pub use testcontainers;
/// The spec types: what `spec_from_file`/`spec_from_toml` return and `apply` reports.
pub use xrepl_provisioner::{ApplyReport, ProvisionError, RuleSpec, Spec};

/// What a harness test needs in one `use`: `use xrepl_harness::prelude::*;`.
pub mod prelude {
    #[cfg(feature = "containers")]
    pub use crate::XreplImage;
    pub use crate::{BackendKind, Capability, FailureView, Harness, HarnessBuilder, HarnessError, Spec};
}
