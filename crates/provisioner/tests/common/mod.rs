//! What the emulator-backed tests share: the two accounts, fixtures, a started emulator, a loaded
//! spec with its clients, and fast apply/verify options.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use xrepl_emulator::{Emulator, EmulatorConfig};
use xrepl_provisioner::{Accounts, ApplyOptions, Backoff, Side, Spec, VerifyOptions};

pub const A: &str = "111111111111";
pub const B: &str = "222222222222";
/// A third account, for multi-destination fixtures.
pub const C: &str = "333333333333";

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(rel)
}

pub async fn start() -> Emulator {
    Emulator::start(EmulatorConfig::with_accounts(&[A, B, C])).await.expect("emulator starts")
}

/// Load a fixture, point it at the emulator, and build (and identity-check) both accounts' clients.
pub async fn load(emulator: &Emulator, rel: &str) -> (Spec, Accounts) {
    let mut spec = Spec::load(fixture(rel)).expect("fixture loads");
    spec.point_at_endpoint(&emulator.endpoint());
    let accounts = Accounts::from_spec(&spec, Side::Both).await.expect("credentials belong to the spec's accounts");
    (spec, accounts)
}

pub fn fast() -> ApplyOptions {
    ApplyOptions {
        backoff: Backoff { initial: Duration::from_millis(20), max_delay: Duration::from_millis(200), max_attempts: 5 },
        ..ApplyOptions::default()
    }
}

pub fn quick_verify() -> VerifyOptions {
    VerifyOptions {
        timeout: Duration::from_secs(20),
        poll_initial: Duration::from_millis(10),
        poll_max: Duration::from_millis(200),
        keep_probes: false,
    }
}
