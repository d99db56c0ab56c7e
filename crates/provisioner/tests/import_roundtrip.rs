//! `xrepl import` round trip: apply a fixture, import what is there, and the imported spec plans
//! no change (on the embedded emulator), for the guide and every variant.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use xrepl_provisioner::{apply, import, plan, AccountClients, Accounts, ApplyOptions, ImportOptions, Side, Spec};

mod common;

fn fixtures() -> PathBuf {
    common::fixture("")
}

fn specs() -> Vec<PathBuf> {
    let mut out = vec![fixtures().join("guide/spec.toml"), fixtures().join("guide/spec-from-replication-json.toml")];
    let mut variants: Vec<PathBuf> = std::fs::read_dir(fixtures().join("variants"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    variants.sort();
    out.extend(variants);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imported_spec_plans_no_change() {
    let dir = std::env::temp_dir().join(format!("xrepl-import-{}", std::process::id()));
    for path in specs() {
        let emulator = common::start().await;
        let endpoint = emulator.endpoint();
        let mut spec = Spec::load(&path).unwrap();
        spec.point_at_endpoint(&endpoint);
        let accounts = Accounts::from_spec(&spec, Side::Both).await.unwrap();
        apply(&spec, &accounts, &ApplyOptions::default()).await.unwrap_or_else(|e| panic!("{}: {e}", path.display()));

        let source = AccountClients::for_emulator(&endpoint, &spec.source.account_id, "us-east-1");
        let destination = |account: &str| Some(AccountClients::for_emulator(&endpoint, account, "us-east-1"));
        let options = ImportOptions { endpoint: Some(endpoint.clone()) };
        let imported = import(&source, &destination, &spec.source.bucket, &options).await.unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in &imported.files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        let back = Spec::from_toml_str(&imported.spec, dir.join("imported.toml"))
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", path.display(), imported.spec));
        assert_eq!(back.rules.len(), spec.rules.len(), "{}", path.display());
        assert_eq!(back.role_arn(), spec.role_arn());
        let again = plan(&back, &accounts, Side::Both).await.unwrap();
        assert!(again.is_noop(), "{}:\n{}\n{again}", path.display(), imported.spec);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
