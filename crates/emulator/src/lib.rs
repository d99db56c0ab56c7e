//! xrepl's AWS-faithful emulator: several AWS accounts with S3, IAM, STS and KMS on one HTTP port,
//! real SigV4 verification, real policy evaluation and an asynchronous replication engine.
//!
//! Layout (one folder per layer, each calling only the layers below it; `scripts/module-cycles.py`
//! checks in CI that no module file reaches back up):
//! - [`server`]: the HTTP front door — dispatches on the SigV4 credential scope, verifies signatures
//!   for the Query/JSON services, serves the `/_xrepl` admin endpoints, and hands S3 to `s3s`.
//! - [`s3`], [`s3control`]: the S3 API (handlers over `s3/api.rs`, what they share) and the S3
//!   Control jobs API for S3 Batch Replication. A write to a bucket with a replication
//!   configuration is planned by [`replication::on_change`] under the world lock (so `PENDING`
//!   is visible in the response) and its tasks go to the runtime's queue.
//! - [`replication`]: the engine that takes tasks from that queue and copies objects, delete
//!   markers and tags across accounts, checking the replication role as S3 does, with Replication
//!   Time Control events.
//! - [`access`]: may this principal do this — identity policies, bucket policy, ACLs, Block Public
//!   Access — asked by both the S3 handlers and the replication engine.
//! - [`iam`], [`sts`], [`kms`]: the other service APIs, and [`identity`]: who is calling (account
//!   root, IAM user, assumed-role session, anonymous).
//! - [`runtime`]: the context every service works in ([`runtime::Shared`]: the world behind its
//!   lock, the replication queue, the configuration, the durable store), and [`wire`]: the few
//!   HTTP-level errors the front door and the services share.
//! - [`state`]: the in-memory world — accounts, access keys, IAM entities, buckets, object versions
//!   — and its durable store.
//!
//! ```no_run
//! # async fn demo() -> Result<(), xrepl_emulator::EmulatorError> {
//! let emulator = xrepl_emulator::Emulator::start(
//!     xrepl_emulator::EmulatorConfig::with_accounts(&["111111111111", "222222222222"]),
//! ).await?;
//! println!("S3/IAM/STS/KMS at {}", emulator.endpoint());
//! emulator.drain().await; // wait until replication is idle
//! # Ok(()) }
//! ```

pub mod access;
pub mod config;
pub mod error;
pub mod iam;
pub mod identity;
pub mod kms;
pub mod replication;
pub mod runtime;
pub mod s3;
pub mod s3control;
pub mod server;
pub mod state;
pub mod sts;
pub mod wire;
mod xml;

pub use config::EmulatorConfig;
pub use config::ServerLimits;
pub use error::{EmulatorError, ServiceError};
pub use replication::{FailureEvent, ReplicationControl};
pub use server::Emulator;
pub use state::AccountInfo;
