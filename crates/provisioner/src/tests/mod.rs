//! Offline tests: spec parsing, documents, lint. (AWS-facing code is tested against the emulator
//! in tests/emulator_apply.rs.)

mod documents;
mod lint;
mod spec;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::Spec;

pub(crate) fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

pub(crate) fn fixture(rel: &str) -> PathBuf {
    fixtures().join(rel)
}

pub(crate) fn load(rel: &str) -> Spec {
    match Spec::load(fixture(rel)) {
        Ok(s) => s,
        Err(e) => panic!("{rel} does not load: {e}"),
    }
}

/// Every `.toml` under fixtures/<dir>.
pub(crate) fn fixture_specs(dir: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(fixtures().join(dir))
        .expect("fixture dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    out.sort();
    out
}

/// A fresh scratch directory for files a test spec references.
pub(crate) fn scratch_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("xrepl-provisioner-test-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The smallest valid spec, plus `extra` TOML appended (rules, overrides, ...).
pub(crate) fn minimal(extra: &str) -> String {
    format!(
        r#"[source]
account_id = "111111111111"
bucket = "src-bucket"

[destination]
account_id = "222222222222"
bucket = "dst-bucket"
{extra}"#
    )
}

pub(crate) fn parse(text: &str) -> Spec {
    match Spec::from_toml_str(text, "test.toml") {
        Ok(s) => s,
        Err(e) => panic!("spec does not parse: {e}\n{text}"),
    }
}

pub(crate) fn parse_err(text: &str) -> crate::SpecError {
    match Spec::from_toml_str(text, "test.toml") {
        Ok(_) => panic!("spec parsed but should not:\n{text}"),
        Err(e) => match e.as_spec_error() {
            Some(s) => s.clone(),
            None => panic!("not a spec error: {e}"),
        },
    }
}
