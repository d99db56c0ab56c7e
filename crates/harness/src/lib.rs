//! xrepl's test harness: two AWS accounts on a backend, a spec applied through the provisioner,
//! and assertions that objects, ownership and deletes replicate — with expected vs actual and the
//! replication failure explained when they do not.
//!
//! ```no_run
//! # async fn demo() -> Result<(), xrepl_harness::HarnessError> {
//! use xrepl_harness::{BackendKind, Harness};
//! let h = Harness::start(BackendKind::Embedded).await?;
//! let spec = h.spec_from_file("fixtures/guide/spec.toml")?;
//! h.apply(&spec).await?;
//! let version = h.put(&spec, "reports/q1.csv", b"a,b,c").await?;
//! h.wait_for_replication().await?;
//! h.assert_replicated(&spec, "reports/q1.csv", &version, b"a,b,c").await?;
//! h.assert_owner(&spec, "reports/q1.csv", &spec.destination.account_id).await?;
//! # Ok(()) }
//! ```
//!
//! Backends: [`BackendKind::Embedded`] (in-process, no Docker) is the default; others are added
//! by `backends::*` and picked with `XREPL_BACKEND` or [`Harness::start`].

pub mod backend;
pub mod backends;
pub mod batch;
mod error;
mod harness;
pub mod image;

pub use backend::{Backend, BackendKind, Capabilities, Capability, FailureView};
pub use batch::{BatchFilter, BatchOutcome, ReportRow};
pub use error::HarnessError;
pub use harness::{AccountHandle, Harness};
pub use image::XreplImage;
