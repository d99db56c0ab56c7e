//! One conformance suite, run unchanged against every backend (like object_store's integration
//! suite): the scenario functions in `scenarios.rs` take a `Harness` and assert through the AWS SDK.
//!
//! - `embedded::*` runs on every `cargo test` with zero setup.
//! - `container::*`, `two_containers::*` and `localstack::*` are `#[ignore]`d with the reason
//!   (they need Docker or a LocalStack install); `.ci/run` runs them with `--ignored`, and there a
//!   backend that cannot start FAILS its tests: a skip is never reported as a pass.
//! - Scenarios a backend cannot observe (e.g. owners on LocalStack) are listed as
//!   `unsupported_*` tests that are ignored with the reason and panic if forced to run.

mod scenarios;

use std::future::Future;
use std::pin::Pin;

use xrepl_harness::{BackendKind, Harness, HarnessError};

type ScenarioFuture<'a> = Pin<Box<dyn Future<Output = Result<(), HarnessError>> + 'a>>;

async fn run(kind: BackendKind, name: &str, scenario: for<'a> fn(&'a Harness) -> ScenarioFuture<'a>) {
    // RUST_LOG=debug shows every API call the provisioner and harness make.
    let _ = tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).with_test_writer().try_init();
    let harness = match Harness::start(kind).await {
        Ok(h) => h,
        Err(e) => panic!("{name}: the {kind} backend could not start, so this scenario did not run: {e}"),
    };
    if let Err(e) = scenario(&harness).await {
        panic!("{name} on the {kind} backend:\n{e}");
    }
}

macro_rules! scenario_test {
    ($kind:expr, $name:ident, [$($attr:meta),*]) => {
        #[tokio::test]
        $(#[$attr])*
        async fn $name() {
            crate::run($kind, stringify!($name), |h| Box::pin(crate::scenarios::$name(h))).await;
        }
    };
}

/// `scenarios!(kind, [attributes]; names...)`: one test per scenario on that backend.
macro_rules! scenarios {
    ($kind:expr, $attrs:tt; $($name:ident),* $(,)?) => {
        $( scenario_test!($kind, $name, $attrs); )*
    };
}

macro_rules! unsupported {
    ($backend:literal, $why:literal; $($name:ident),* $(,)?) => {
        $(
            #[test]
            #[ignore = $why]
            fn $name() {
                panic!(concat!(stringify!($name), " is unsupported on ", $backend, ": ", $why));
            }
        )*
    };
}

/// The AWS-fidelity scenarios and the reset need the role's policies evaluated and the backend's own
/// reset call: the bridged backends cannot observe them (`$why`).
macro_rules! unsupported_fidelity {
    ($backend:literal, $why:literal) => {
        unsupported!($backend, $why;
            unsupported_aws_example_bucket_policy_replicates_tags,
            unsupported_without_tag_read_objects_replicate_untagged,
            unsupported_deny_non_tls_statement_does_not_stop_replication,
            unsupported_archived_objects_are_not_replicated,
            unsupported_object_lock_source_needs_a_locked_destination,
            unsupported_reset_between_tests,
        );
    };
}

/// Everything that every backend can run.
macro_rules! portable {
    ($kind:expr, $attrs:tt) => {
        scenarios!($kind, $attrs;
            guide_objects_tags_and_deletes,
            versioned_deletes_are_not_replicated,
            delete_markers_off_are_not_replicated,
            prefix_filter,
            tag_filter,
            overlapping_rules_highest_priority_wins,
            storage_class,
        );
    };
}

/// Scenarios that need owners, statuses, kept version ids and enforced policies.
macro_rules! faithful {
    ($kind:expr, $attrs:tt) => {
        scenarios!($kind, $attrs;
            replica_keeps_version_id_and_status,
            owner_override_gives_replicas_to_destination,
            no_override_keeps_source_owner_when_acls_enabled,
            bucket_owner_enforced_owns_replicas_without_override,
            sse_kms_objects_are_reencrypted_under_the_replica_key,
            broken_role_trusts_ec2,
            broken_no_bucket_policy,
            broken_role_without_replicate_object,
            broken_no_owner_override_permission,
            broken_bucket_policy_without_owner_override,
            broken_no_replicate_delete,
            broken_destination_versioning_suspended,
            broken_destination_unversioned,
            broken_guide_verbatim_documents,
            aws_example_bucket_policy_replicates_tags,
            without_tag_read_objects_replicate_untagged,
            deny_non_tls_statement_does_not_stop_replication,
            archived_objects_are_not_replicated,
            object_lock_source_needs_a_locked_destination,
            reset_between_tests,
            batch_replication_of_existing_and_failed_objects,
        );
    };
}

/// Batch Replication needs xrepl's engine and its S3 Control jobs API: bridged backends have neither.
macro_rules! unsupported_batch {
    ($backend:literal) => {
        unsupported!($backend, "replication runs in the harness's bridge, which has no S3 Control jobs API and sets no replication status for a manifest to filter on";
            unsupported_batch_replication_of_existing_and_failed_objects,
        );
    };
}

mod embedded {
    use xrepl_harness::BackendKind;
    portable!(BackendKind::Embedded, []);
    faithful!(BackendKind::Embedded, []);
}

mod container {
    use xrepl_harness::BackendKind;
    portable!(
        BackendKind::Container,
        [ignore = "needs Docker and the xrepl-emulator:local image (scripts/build-image.sh); .ci/run runs it"]
    );
    faithful!(
        BackendKind::Container,
        [ignore = "needs Docker and the xrepl-emulator:local image (scripts/build-image.sh); .ci/run runs it"]
    );
}

mod two_containers {
    use xrepl_harness::BackendKind;
    portable!(
        BackendKind::TwoContainers,
        [ignore = "needs Docker and the xrepl-emulator:local image (scripts/build-image.sh); .ci/run runs it"]
    );
    scenarios!(BackendKind::TwoContainers, [ignore = "needs Docker and the xrepl-emulator:local image (scripts/build-image.sh); .ci/run runs it"];
        owner_override_gives_replicas_to_destination,
        bucket_owner_enforced_owns_replicas_without_override,
    );
    unsupported!("two-containers", "replication crosses containers through the bridge: the destination assigns new version ids and the bridge does not evaluate the role's policies";
        unsupported_replica_keeps_version_id_and_status,
        unsupported_broken_setups_fail_with_aws_reasons,
        unsupported_no_override_keeps_source_owner_when_acls_enabled,
        unsupported_sse_kms_objects_are_reencrypted_under_the_replica_key,
    );
    unsupported_batch!("two-containers");
    unsupported_fidelity!("two-containers", "the bridge replicates as the destination account over plain HTTP without evaluating the role's policies, copies archived objects, and the two emulators have no common reset");
}

mod localstack {
    use xrepl_harness::BackendKind;
    portable!(BackendKind::LocalStack, [ignore = "needs LocalStack (scripts/install-localstack.sh); .ci/run runs it"]);
    unsupported!("localstack", "LocalStack community has one canonical owner for all accounts, no IAM or bucket-policy enforcement, no replication status, and it rejects cross-account replication rules (the bridge replicates instead)";
        unsupported_replica_keeps_version_id_and_status,
        unsupported_owner_override_gives_replicas_to_destination,
        unsupported_no_override_keeps_source_owner_when_acls_enabled,
        unsupported_bucket_owner_enforced_owns_replicas_without_override,
        unsupported_broken_setups_fail_with_aws_reasons,
        unsupported_sse_kms_objects_are_reencrypted_under_the_replica_key,
    );
    unsupported_batch!("localstack");
    unsupported_fidelity!(
        "localstack",
        "LocalStack community enforces no IAM or bucket policies, the bridge copies archived objects, and xrepl drives no LocalStack reset"
    );
}
