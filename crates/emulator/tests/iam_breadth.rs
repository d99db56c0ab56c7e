//! IAM as infrastructure tools use it (issue 14): groups and their policies in authorization,
//! in-place updates, access key status at authentication, the reads an IaC refresh makes,
//! case-insensitive names and IAM's listing order. Everything through the AWS SDKs.

mod common;

use aws_sdk_iam::types::{StatusType, SummaryKeyType, Tag};
use common::{code, sdk_config, Env, A};
use serde_json::json;

fn allow(actions: &[&str], resource: &str) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]}).to_string()
}

fn deny(actions: &[&str], resource: &str) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": actions, "Resource": resource}]}).to_string()
}

fn trust_account(account: &str) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{account}:root")}, "Action": "sts:AssumeRole"}]})
        .to_string()
}

async fn iam_as(env: &Env, key: &(String, String)) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::new(&sdk_config(&env.emulator.endpoint(), &key.0, &key.1, None).await)
}

async fn sts_as(env: &Env, key: &(String, String)) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::new(&sdk_config(&env.emulator.endpoint(), &key.0, &key.1, None).await)
}

async fn kms_as(env: &Env, key: &(String, String)) -> aws_sdk_kms::Client {
    aws_sdk_kms::Client::new(&sdk_config(&env.emulator.endpoint(), &key.0, &key.1, None).await)
}

/// Creates a user with an access key; returns (key id, secret).
async fn user_with_key(iam: &aws_sdk_iam::Client, name: &str) -> (String, String) {
    iam.create_user().user_name(name).send().await.expect("create user");
    let out = iam.create_access_key().user_name(name).send().await.expect("create key");
    let key = out.access_key().expect("key");
    (key.access_key_id().to_owned(), key.secret_access_key().to_owned())
}

// ---------------------------------------------------------------------------------------------
// Groups

#[tokio::test]
async fn groups_lifecycle_membership_and_errors() {
    let env = common::start().await;
    let iam = env.iam(A).await;
    let err = iam.get_group().group_name("Deploy").send().await.expect_err("no group yet");
    assert_eq!(code(&err), "NoSuchEntity");

    let created = iam.create_group().group_name("Deploy").path("/ci/").send().await.expect("create group");
    let group = created.group().expect("group");
    assert_eq!(group.group_name(), "Deploy");
    assert_eq!(group.path(), "/ci/");
    assert_eq!(group.arn(), format!("arn:aws:iam::{A}:group/ci/Deploy"));
    assert!(group.group_id().starts_with("AGPA"));
    // Names are unique regardless of case; the created spelling is kept.
    let err = iam.create_group().group_name("deploy").send().await.expect_err("same name, other case");
    assert_eq!(code(&err), "EntityAlreadyExists");
    assert_eq!(iam.get_group().group_name("DEPLOY").send().await.expect("any case finds it").group().expect("g").group_name(), "Deploy");

    iam.create_user().user_name("alice").send().await.expect("user");
    let err = iam.add_user_to_group().group_name("Deploy").user_name("nobody").send().await.expect_err("no such user");
    assert_eq!(code(&err), "NoSuchEntity");
    iam.add_user_to_group().group_name("Deploy").user_name("alice").send().await.expect("add");
    iam.add_user_to_group().group_name("deploy").user_name("Alice").send().await.expect("adding again changes nothing");
    let got = iam.get_group().group_name("Deploy").send().await.expect("get group");
    assert_eq!(got.users().iter().map(|u| u.user_name()).collect::<Vec<_>>(), ["alice"]);
    let for_user = iam.list_groups_for_user().user_name("alice").send().await.expect("groups for user");
    assert_eq!(for_user.groups().iter().map(|g| g.group_name()).collect::<Vec<_>>(), ["Deploy"]);

    // A user in a group cannot be deleted; a group with members or policies neither.
    let err = iam.delete_user().user_name("alice").send().await.expect_err("user in a group");
    assert_eq!(code(&err), "DeleteConflict");
    let err = iam.delete_group().group_name("Deploy").send().await.expect_err("group has members");
    assert_eq!(code(&err), "DeleteConflict");

    // Rename and move: id, members stay.
    iam.update_group().group_name("Deploy").new_group_name("Release").new_path("/cd/").send().await.expect("update group");
    let err = iam.get_group().group_name("Deploy").send().await.expect_err("old name gone");
    assert_eq!(code(&err), "NoSuchEntity");
    let moved = iam.get_group().group_name("Release").send().await.expect("new name");
    let g = moved.group().expect("g");
    assert_eq!((g.path(), g.arn(), g.group_id()), ("/cd/", format!("arn:aws:iam::{A}:group/cd/Release").as_str(), group.group_id()));
    assert_eq!(moved.users().len(), 1);

    iam.put_group_policy().group_name("Release").policy_name("p").policy_document(allow(&["s3:*"], "*")).send().await.expect("put");
    assert_eq!(iam.list_group_policies().group_name("Release").send().await.expect("list").policy_names(), ["p"]);
    let doc = iam.get_group_policy().group_name("Release").policy_name("p").send().await.expect("get policy");
    assert!(doc.policy_document().contains("s3%3A%2A"), "URL-encoded as IAM returns it: {}", doc.policy_document());
    iam.attach_group_policy()
        .group_name("Release")
        .policy_arn("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
        .send()
        .await
        .expect("attach");
    let attached = iam.list_attached_group_policies().group_name("Release").send().await.expect("attached");
    assert_eq!(attached.attached_policies().iter().filter_map(|p| p.policy_name()).collect::<Vec<_>>(), ["AmazonS3ReadOnlyAccess"]);
    let err = iam
        .detach_group_policy()
        .group_name("Release")
        .policy_arn("arn:aws:iam::aws:policy/IAMReadOnlyAccess")
        .send()
        .await
        .expect_err("not attached");
    assert_eq!(code(&err), "NoSuchEntity");

    iam.remove_user_from_group().group_name("Release").user_name("alice").send().await.expect("remove");
    let err = iam.remove_user_from_group().group_name("Release").user_name("alice").send().await.expect_err("not a member");
    assert_eq!(code(&err), "NoSuchEntity");
    let err = iam.delete_group().group_name("Release").send().await.expect_err("policies left");
    assert_eq!(code(&err), "DeleteConflict");
    iam.delete_group_policy().group_name("Release").policy_name("p").send().await.expect("delete policy");
    iam.detach_group_policy()
        .group_name("Release")
        .policy_arn("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
        .send()
        .await
        .expect("detach");
    iam.delete_group().group_name("release").send().await.expect("delete group");
    assert!(iam.list_groups().send().await.expect("list").groups().is_empty());
    iam.delete_user().user_name("alice").send().await.expect("user deletable once out of the group");
}

#[tokio::test]
async fn group_policies_authorize_s3_kms_and_sts_like_user_policies() {
    let env = common::start().await;
    let iam = env.iam(A).await;
    let key = user_with_key(&iam, "builder").await;
    let s3 = env.s3_with(&key.0, &key.1, None).await;
    let kms = kms_as(&env, &key).await;
    let sts = sts_as(&env, &key).await;
    iam.create_role().role_name("deployer").assume_role_policy_document(trust_account(A)).send().await.expect("role");
    let role_arn = format!("arn:aws:iam::{A}:role/deployer");

    // Nothing allows anything yet.
    assert_eq!(code(&s3.list_buckets().send().await.expect_err("no policy")), "AccessDenied");
    assert_eq!(code(&kms.create_key().send().await.expect_err("no policy")), "AccessDeniedException");
    assert_eq!(code(&sts.assume_role().role_arn(&role_arn).role_session_name("sess").send().await.expect_err("no policy")), "AccessDenied");

    iam.create_group().group_name("builders").send().await.expect("group");
    iam.put_group_policy()
        .group_name("builders")
        .policy_name("all")
        .policy_document(allow(&["s3:ListAllMyBuckets", "kms:CreateKey", "sts:AssumeRole"], "*"))
        .send()
        .await
        .expect("group policy");
    // The group's policy applies only once the user is a member.
    assert_eq!(code(&s3.list_buckets().send().await.expect_err("not a member yet")), "AccessDenied");
    iam.add_user_to_group().group_name("builders").user_name("builder").send().await.expect("join");
    s3.list_buckets().send().await.expect("S3 allowed through the group");
    kms.create_key().send().await.expect("KMS allowed through the group");
    sts.assume_role().role_arn(&role_arn).role_session_name("sess").send().await.expect("STS allowed through the group");

    // A Deny in another group wins over the Allow.
    iam.create_group().group_name("frozen").send().await.expect("group");
    iam.attach_group_policy()
        .group_name("frozen")
        .policy_arn("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
        .send()
        .await
        .expect("attach");
    iam.put_group_policy().group_name("frozen").policy_name("no-kms").policy_document(deny(&["kms:*"], "*")).send().await.expect("deny");
    iam.add_user_to_group().group_name("frozen").user_name("builder").send().await.expect("join");
    assert_eq!(code(&kms.create_key().send().await.expect_err("denied by a group")), "AccessDeniedException");
    s3.list_buckets().send().await.expect("still allowed");

    // Leaving the group takes its permissions away.
    iam.remove_user_from_group().group_name("builders").user_name("builder").send().await.expect("leave");
    iam.remove_user_from_group().group_name("frozen").user_name("builder").send().await.expect("leave");
    assert_eq!(code(&s3.list_buckets().send().await.expect_err("left the groups")), "AccessDenied");
    // An IAM action through a managed policy attached to a group.
    let own = iam_as(&env, &key).await;
    assert_eq!(code(&own.list_roles().send().await.expect_err("no policy")), "AccessDenied");
    iam.attach_group_policy().group_name("builders").policy_arn("arn:aws:iam::aws:policy/IAMReadOnlyAccess").send().await.expect("attach");
    iam.add_user_to_group().group_name("builders").user_name("builder").send().await.expect("join");
    own.list_roles().send().await.expect("IAM read allowed through the group's managed policy");
}

// ---------------------------------------------------------------------------------------------
// In-place updates

#[tokio::test]
async fn update_user_renames_and_moves_and_keys_follow() {
    let env = common::start().await;
    let iam = env.iam(A).await;
    let err = iam.update_user().user_name("ghost").new_user_name("spirit").send().await.expect_err("no user");
    assert_eq!(code(&err), "NoSuchEntity");
    let key = user_with_key(&iam, "bob").await;
    iam.create_user().user_name("carol").send().await.expect("carol");
    let before = iam.get_user().user_name("bob").send().await.expect("get").user().cloned().expect("user");
    iam.put_user_policy()
        .user_name("bob")
        .policy_name("read")
        .policy_document(allow(&["s3:ListAllMyBuckets"], "*"))
        .send()
        .await
        .expect("policy");

    let err = iam.update_user().user_name("bob").new_user_name("CAROL").send().await.expect_err("name taken (any case)");
    assert_eq!(code(&err), "EntityAlreadyExists");
    iam.update_user().user_name("bob").new_user_name("robert").new_path("/eng/").send().await.expect("rename and move");
    assert_eq!(code(&iam.get_user().user_name("bob").send().await.expect_err("old name")), "NoSuchEntity");
    let after = iam.get_user().user_name("robert").send().await.expect("new name").user().cloned().expect("user");
    assert_eq!(after.user_id(), before.user_id());
    assert_eq!(after.arn(), format!("arn:aws:iam::{A}:user/eng/robert"));
    // The key still works, acts as the renamed user and keeps the user's policies.
    let who = sts_as(&env, &key).await.get_caller_identity().send().await.expect("caller");
    assert_eq!(who.arn(), Some(format!("arn:aws:iam::{A}:user/eng/robert").as_str()));
    env.s3_with(&key.0, &key.1, None).await.list_buckets().send().await.expect("policy kept");
    let keys = iam.list_access_keys().user_name("robert").send().await.expect("keys");
    assert_eq!(keys.access_key_metadata().iter().filter_map(|k| k.access_key_id()).collect::<Vec<_>>(), [key.0.as_str()]);
}

#[tokio::test]
async fn update_role_description_duration_and_trust_in_place() {
    let env = common::start().await;
    let iam = env.iam(A).await;
    let err = iam.update_role().role_name("nope").send().await.expect_err("no role");
    assert_eq!(code(&err), "NoSuchEntity");
    iam.create_role().role_name("replicator").assume_role_policy_document(trust_account(common::B)).send().await.expect("role");
    let original = iam.get_role().role_name("replicator").send().await.expect("get").role().cloned().expect("role");

    iam.update_role().role_name("replicator").description("copies objects").max_session_duration(43_200).send().await.expect("update");
    let role = iam.get_role().role_name("replicator").send().await.expect("get").role().cloned().expect("role");
    assert_eq!((role.description(), role.max_session_duration()), (Some("copies objects"), Some(43_200)));
    assert_eq!((role.role_id(), role.arn()), (original.role_id(), original.arn()));

    // A bad value is refused and changes nothing.
    let err = iam.update_role().role_name("replicator").max_session_duration(60).send().await.expect_err("too short");
    assert_eq!(code(&err), "ValidationError");
    let err = iam.update_role_description().role_name("replicator").description("x".repeat(1001)).send().await.expect_err("too long");
    assert_eq!(code(&err), "ValidationError");
    let role = iam.get_role().role_name("replicator").send().await.expect("get").role().cloned().expect("role");
    assert_eq!((role.description(), role.max_session_duration()), (Some("copies objects"), Some(43_200)));

    let out = iam.update_role_description().role_name("replicator").description("second").send().await.expect("describe");
    assert_eq!(out.role().and_then(|r| r.description()), Some("second"));

    // UpdateAssumeRolePolicy decides who may assume the role from then on: a user of account A
    // (allowed by its own policy) is refused while the trust names only account B.
    let user = user_with_key(&iam, "assumer").await;
    iam.put_user_policy()
        .user_name("assumer")
        .policy_name("assume")
        .policy_document(allow(&["sts:AssumeRole"], "*"))
        .send()
        .await
        .expect("p");
    let role_arn = original.arn().to_owned();
    let own = sts_as(&env, &user).await;
    let err = iam.update_assume_role_policy().role_name("replicator").policy_document("{not json").send().await.expect_err("malformed");
    assert_eq!(code(&err), "MalformedPolicyDocument");
    let still = iam.get_role().role_name("replicator").send().await.expect("get").role().cloned().expect("role");
    assert_eq!(still.assume_role_policy_document(), original.assume_role_policy_document(), "a refused update changes nothing");
    let b_user = {
        let b_iam = env.iam(common::B).await;
        let key = user_with_key(&b_iam, "outsider").await;
        b_iam
            .put_user_policy()
            .user_name("outsider")
            .policy_name("assume")
            .policy_document(allow(&["sts:AssumeRole"], "*"))
            .send()
            .await
            .expect("p");
        sts_as(&env, &key).await
    };
    b_user.assume_role().role_arn(&role_arn).role_session_name("sess").send().await.expect("B is trusted");
    iam.update_assume_role_policy().role_name("replicator").policy_document(trust_account(A)).send().await.expect("new trust");
    assert_eq!(
        code(&b_user.assume_role().role_arn(&role_arn).role_session_name("sess").send().await.expect_err("B no longer")),
        "AccessDenied"
    );
    own.assume_role().role_arn(&role_arn).role_session_name("sess").send().await.expect("trusted now");
}

#[tokio::test]
async fn inactive_access_keys_are_refused_at_authentication() {
    let env = common::start().await;
    let iam = env.iam(A).await;
    let key = user_with_key(&iam, "dave").await;
    iam.put_user_policy()
        .user_name("dave")
        .policy_name("all")
        .policy_document(allow(&["s3:*", "iam:*", "sts:*"], "*"))
        .send()
        .await
        .expect("p");
    let s3 = env.s3_with(&key.0, &key.1, None).await;
    let own_iam = iam_as(&env, &key).await;
    let sts = sts_as(&env, &key).await;
    s3.list_buckets().send().await.expect("active key works");

    let err = iam
        .update_access_key()
        .user_name("dave")
        .access_key_id(&key.0)
        .status(StatusType::from("Paused"))
        .send()
        .await
        .expect_err("bad status");
    assert_eq!(code(&err), "ValidationError");
    iam.update_access_key().user_name("dave").access_key_id(&key.0).status(StatusType::Inactive).send().await.expect("deactivate");
    let listed = iam.list_access_keys().user_name("dave").send().await.expect("list");
    assert_eq!(listed.access_key_metadata()[0].status(), Some(&StatusType::Inactive));
    // Each service's own error for a key it does not accept.
    assert_eq!(code(&s3.list_buckets().send().await.expect_err("inactive")), "InvalidAccessKeyId");
    assert_eq!(code(&own_iam.list_users().send().await.expect_err("inactive")), "InvalidClientTokenId");
    assert_eq!(code(&sts.get_caller_identity().send().await.expect_err("inactive")), "InvalidClientTokenId");
    assert_eq!(code(&kms_as(&env, &key).await.list_keys().send().await.expect_err("inactive")), "UnrecognizedClientException");

    iam.update_access_key().user_name("dave").access_key_id(&key.0).status(StatusType::Active).send().await.expect("reactivate");
    s3.list_buckets().send().await.expect("active again");
}

#[tokio::test]
async fn account_summary_and_entities_for_policy() {
    let env = common::start().await;
    let iam = env.iam(A).await;
    let key = user_with_key(&iam, "erin").await;
    iam.create_group().group_name("g1").send().await.expect("group");
    iam.create_role().role_name("r1").assume_role_policy_document(trust_account(A)).send().await.expect("role");
    let policy = iam.create_policy().policy_name("shared").policy_document(allow(&["s3:GetObject"], "*")).send().await.expect("policy");
    let arn = policy.policy().and_then(|p| p.arn()).expect("arn").to_owned();
    iam.attach_user_policy().user_name("erin").policy_arn(&arn).send().await.expect("attach to user");
    iam.attach_group_policy().group_name("g1").policy_arn(&arn).send().await.expect("attach to group");
    iam.attach_role_policy().role_name("r1").policy_arn(&arn).send().await.expect("attach to role");

    let summary = iam.get_account_summary().send().await.expect("summary");
    let map = summary.summary_map().expect("map");
    assert_eq!(map.get(&SummaryKeyType::Users), Some(&1));
    assert_eq!(map.get(&SummaryKeyType::Groups), Some(&1));
    assert_eq!(map.get(&SummaryKeyType::Roles), Some(&1));
    assert_eq!(map.get(&SummaryKeyType::Policies), Some(&1));
    assert_eq!(map.get(&SummaryKeyType::AccessKeysPerUserQuota), Some(&2));
    assert_eq!(map.get(&SummaryKeyType::UsersQuota), Some(&5000));
    assert!(map.contains_key(&SummaryKeyType::GroupsQuota));
    // A user needs iam:GetAccountSummary.
    let own = iam_as(&env, &key).await;
    assert_eq!(code(&own.get_account_summary().send().await.expect_err("no permission")), "AccessDenied");

    let entities = iam.list_entities_for_policy().policy_arn(&arn).send().await.expect("entities");
    assert_eq!(entities.policy_users().iter().filter_map(|u| u.user_name()).collect::<Vec<_>>(), ["erin"]);
    assert_eq!(entities.policy_groups().iter().filter_map(|g| g.group_name()).collect::<Vec<_>>(), ["g1"]);
    assert_eq!(entities.policy_roles().iter().filter_map(|r| r.role_name()).collect::<Vec<_>>(), ["r1"]);
    let only_roles =
        iam.list_entities_for_policy().policy_arn(&arn).entity_filter(aws_sdk_iam::types::EntityType::Role).send().await.expect("filtered");
    assert!(only_roles.policy_users().is_empty() && only_roles.policy_groups().is_empty());
    assert_eq!(only_roles.policy_roles().len(), 1);
    let err = iam.list_entities_for_policy().policy_arn(format!("arn:aws:iam::{A}:policy/none")).send().await.expect_err("no policy");
    assert_eq!(code(&err), "NoSuchEntity");
}

// ---------------------------------------------------------------------------------------------
// What a Terraform refresh of aws_iam_role, aws_iam_role_policy and aws_iam_policy reads

#[tokio::test]
async fn terraform_refresh_reads_answer_as_aws() {
    let env = common::start().await;
    let iam = env.iam(A).await;
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().expect("tag");
    iam.create_role()
        .role_name("replication")
        .path("/service/")
        .assume_role_policy_document(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"}]}).to_string())
        .description("S3 replication")
        .tags(tag("team", "storage"))
        .send()
        .await
        .expect("role");
    iam.put_role_policy()
        .role_name("replication")
        .policy_name("inline")
        .policy_document(allow(&["s3:GetObject"], "*"))
        .send()
        .await
        .expect("inline");
    let created = iam
        .create_policy()
        .policy_name("replication-managed")
        .policy_document(allow(&["s3:ReplicateObject"], "*"))
        .tags(tag("owner", "ci"))
        .send()
        .await
        .expect("policy");
    let policy_arn = created.policy().and_then(|p| p.arn()).expect("arn").to_owned();
    assert_eq!(created.policy().map(|p| p.tags().len()), Some(1), "CreatePolicy returns the tags");
    iam.attach_role_policy().role_name("replication").policy_arn(&policy_arn).send().await.expect("attach");

    // aws_iam_role: GetRole, ListRolePolicies + GetRolePolicy, ListAttachedRolePolicies, and on
    // destroy ListInstanceProfilesForRole.
    let role = iam.get_role().role_name("replication").send().await.expect("GetRole").role().cloned().expect("role");
    assert_eq!((role.path(), role.description()), ("/service/", Some("S3 replication")));
    assert_eq!(role.tags().iter().map(|t| (t.key(), t.value())).collect::<Vec<_>>(), [("team", "storage")]);
    assert!(role.assume_role_policy_document().is_some_and(|d| d.contains("s3.amazonaws.com")));
    let names = iam.list_role_policies().role_name("replication").send().await.expect("ListRolePolicies");
    assert_eq!(names.policy_names(), ["inline"]);
    let inline = iam.get_role_policy().role_name("replication").policy_name("inline").send().await.expect("GetRolePolicy");
    assert_eq!((inline.role_name(), inline.policy_name()), ("replication", "inline"));
    let attached = iam.list_attached_role_policies().role_name("replication").send().await.expect("ListAttachedRolePolicies");
    assert_eq!(attached.attached_policies().iter().filter_map(|p| p.policy_arn()).collect::<Vec<_>>(), [policy_arn.as_str()]);
    let profiles = iam.list_instance_profiles_for_role().role_name("replication").send().await.expect("ListInstanceProfilesForRole");
    assert!(profiles.instance_profiles().is_empty() && !profiles.is_truncated());
    let tags = iam.list_role_tags().role_name("replication").send().await.expect("ListRoleTags");
    assert_eq!(tags.tags().len(), 1);

    // aws_iam_policy: GetPolicy, GetPolicyVersion, ListPolicyVersions, ListPolicyTags.
    let got = iam.get_policy().policy_arn(&policy_arn).send().await.expect("GetPolicy").policy().cloned().expect("policy");
    assert_eq!((got.default_version_id(), got.attachment_count()), (Some("v1"), Some(1)));
    assert_eq!(got.tags().iter().map(|t| (t.key(), t.value())).collect::<Vec<_>>(), [("owner", "ci")]);
    let version = iam.get_policy_version().policy_arn(&policy_arn).version_id("v1").send().await.expect("GetPolicyVersion");
    let document = version.policy_version().and_then(|v| v.document()).expect("document");
    assert!(document.contains("s3%3AReplicateObject"), "{document}");
    let versions = iam.list_policy_versions().policy_arn(&policy_arn).send().await.expect("ListPolicyVersions");
    assert_eq!(versions.versions().iter().filter_map(|v| v.version_id()).collect::<Vec<_>>(), ["v1"]);
    iam.tag_policy().policy_arn(&policy_arn).tags(tag("env", "test")).send().await.expect("TagPolicy");
    iam.untag_policy().policy_arn(&policy_arn).tag_keys("OWNER").send().await.expect("UntagPolicy (keys compare case-insensitively)");
    let policy_tags = iam.list_policy_tags().policy_arn(&policy_arn).send().await.expect("ListPolicyTags");
    assert_eq!(policy_tags.tags().iter().map(|t| (t.key(), t.value())).collect::<Vec<_>>(), [("env", "test")]);
    let err = iam
        .tag_policy()
        .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
        .tags(tag("a", "b"))
        .send()
        .await
        .expect_err("AWS managed");
    assert_eq!(code(&err), "AccessDenied");

    // A refresh after the role was deleted outside Terraform: every read says NoSuchEntity.
    for err in [
        iam.get_role().role_name("gone").send().await.err().map(|e| code(&e)),
        iam.list_role_policies().role_name("gone").send().await.err().map(|e| code(&e)),
        iam.list_attached_role_policies().role_name("gone").send().await.err().map(|e| code(&e)),
        iam.list_instance_profiles_for_role().role_name("gone").send().await.err().map(|e| code(&e)),
        iam.list_role_tags().role_name("gone").send().await.err().map(|e| code(&e)),
        iam.get_role_policy().role_name("replication").policy_name("gone").send().await.err().map(|e| code(&e)),
        iam.get_policy().policy_arn(format!("arn:aws:iam::{A}:policy/gone")).send().await.err().map(|e| code(&e)),
    ] {
        assert_eq!(err.as_deref(), Some("NoSuchEntity"));
    }
}

// ---------------------------------------------------------------------------------------------
// Names: unique regardless of case, listed in case-insensitive alphabetical order

#[tokio::test]
async fn names_are_unique_case_insensitively_and_keep_their_case() {
    let env = common::start().await;
    let iam = env.iam(A).await;
    iam.create_role().role_name("Replicator").assume_role_policy_document(trust_account(A)).send().await.expect("role");
    let err = iam.create_role().role_name("replicator").assume_role_policy_document(trust_account(A)).send().await.expect_err("taken");
    assert_eq!(code(&err), "EntityAlreadyExists");
    let role = iam.get_role().role_name("REPLICATOR").send().await.expect("found by any case").role().cloned().expect("role");
    assert_eq!((role.role_name(), role.arn()), ("Replicator", format!("arn:aws:iam::{A}:role/Replicator").as_str()));
    iam.put_role_policy().role_name("replicator").policy_name("p").policy_document(allow(&["s3:*"], "*")).send().await.expect("any case");
    iam.delete_role_policy().role_name("REPLICATOR").policy_name("p").send().await.expect("any case");
    iam.delete_role().role_name("rEpLiCaToR").send().await.expect("delete by any case");
    assert_eq!(code(&iam.get_role().role_name("Replicator").send().await.expect_err("deleted")), "NoSuchEntity");

    iam.create_user().user_name("Admin").send().await.expect("user");
    assert_eq!(code(&iam.create_user().user_name("ADMIN").send().await.expect_err("taken")), "EntityAlreadyExists");
    assert_eq!(iam.get_user().user_name("admin").send().await.expect("get").user().map(|u| u.user_name().to_owned()), Some("Admin".into()));
}

#[tokio::test]
async fn lists_are_in_case_insensitive_name_order_across_pages() {
    let env = common::start().await;
    let iam = env.iam(A).await;
    // Created out of order, in different paths.
    for (name, path) in [("Ad", "/w/"), ("ac", "/x/"), ("Ab", "/y/"), ("aa", "/z/")] {
        iam.create_user().user_name(name).path(path).send().await.expect("user");
        iam.create_group().group_name(name).path(path).send().await.expect("group");
        iam.create_role().role_name(name).path(path).assume_role_policy_document(trust_account(A)).send().await.expect("role");
    }
    let want = ["aa", "Ab", "ac", "Ad"];
    let users: Vec<String> = iam.list_users().send().await.expect("users").users().iter().map(|u| u.user_name().to_owned()).collect();
    assert_eq!(users, want);
    let groups: Vec<String> = iam.list_groups().send().await.expect("groups").groups().iter().map(|g| g.group_name().to_owned()).collect();
    assert_eq!(groups, want);
    let roles: Vec<String> = iam.list_roles().send().await.expect("roles").roles().iter().map(|r| r.role_name().to_owned()).collect();
    assert_eq!(roles, want);

    // One item per page: the same order, every name once.
    let mut paged = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = iam.list_users().max_items(1).set_marker(marker.clone()).send().await.expect("page");
        paged.extend(page.users().iter().map(|u| u.user_name().to_owned()));
        if !page.is_truncated() {
            break;
        }
        marker = page.marker().map(str::to_owned);
        assert!(marker.is_some(), "a truncated page carries a marker");
    }
    assert_eq!(paged, want);
}

// ---------------------------------------------------------------------------------------------
// Durable state: groups, memberships, renamed users, policy tags and OIDC providers

#[tokio::test]
async fn groups_providers_and_renames_survive_a_restart() {
    let dir = std::env::temp_dir().join(format!("xrepl-iam-breadth-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let start = || async {
        let config = xrepl_emulator::EmulatorConfig::with_accounts(&[A, common::B]).data_dir(&dir);
        Env { emulator: xrepl_emulator::Emulator::start(config).await.expect("emulator starts") }
    };
    let key;
    let policy_arn;
    {
        let env = start().await;
        let iam = env.iam(A).await;
        key = user_with_key(&iam, "Builder").await;
        iam.create_group().group_name("Readers").send().await.expect("group");
        iam.put_group_policy()
            .group_name("Readers")
            .policy_name("list")
            .policy_document(allow(&["s3:ListAllMyBuckets"], "*"))
            .send()
            .await
            .expect("p");
        iam.add_user_to_group().group_name("Readers").user_name("Builder").send().await.expect("join");
        iam.update_user().user_name("Builder").new_user_name("Maker").send().await.expect("rename");
        let created = iam
            .create_policy()
            .policy_name("tagged")
            .policy_document(allow(&["s3:GetObject"], "*"))
            .tags(Tag::builder().key("k").value("v").build().expect("tag"))
            .send()
            .await
            .expect("policy");
        policy_arn = created.policy().and_then(|p| p.arn()).expect("arn").to_owned();
        iam.create_open_id_connect_provider().url("https://idp.example.com").client_id_list("app").send().await.expect("provider");
    }
    let env = start().await;
    let iam = env.iam(A).await;
    // Found by any case after the reload, in the created case.
    let group = iam.get_group().group_name("readers").send().await.expect("group kept");
    assert_eq!(group.group().map(|g| g.group_name()), Some("Readers"));
    assert_eq!(group.users().iter().map(|u| u.user_name()).collect::<Vec<_>>(), ["Maker"]);
    env.s3_with(&key.0, &key.1, None).await.list_buckets().send().await.expect("the group's policy still applies to the renamed user");
    let tags = iam.list_policy_tags().policy_arn(&policy_arn).send().await.expect("tags kept");
    assert_eq!(tags.tags().len(), 1);
    let providers = iam.list_open_id_connect_providers().send().await.expect("providers");
    assert_eq!(providers.open_id_connect_provider_list().len(), 1);
    drop(env);
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// The S3 side of the same refresh: aws_s3_bucket_replication_configuration (GetBucketReplication)
// and aws_s3_bucket_policy (GetBucketPolicy), and the "gone" answers Terraform keys on.

#[tokio::test]
async fn terraform_refresh_of_replication_and_bucket_policy() {
    use aws_sdk_s3::types::{Destination, ReplicationConfiguration, ReplicationRule, ReplicationRuleFilter, ReplicationRuleStatus};
    let env = common::start().await;
    let (a, b, iam) = (env.s3(A).await, env.s3(common::B).await, env.iam(A).await);
    common::versioned_bucket(&a, "tf-source").await;
    common::versioned_bucket(&b, "tf-destination").await;
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    iam.create_role().role_name("tf-replication").assume_role_policy_document(trust.to_string()).send().await.expect("role");
    let role_arn = format!("arn:aws:iam::{A}:role/tf-replication");
    let bucket_policy = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": role_arn}, "Action": ["s3:ReplicateObject", "s3:ReplicateDelete"],
        "Resource": "arn:aws:s3:::tf-destination/*"}]})
    .to_string();
    b.put_bucket_policy().bucket("tf-destination").policy(&bucket_policy).send().await.expect("bucket policy");
    let rule = ReplicationRule::builder()
        .id("tf-rule")
        .priority(1)
        .status(ReplicationRuleStatus::Enabled)
        .filter(ReplicationRuleFilter::builder().prefix("").build())
        .delete_marker_replication(
            aws_sdk_s3::types::DeleteMarkerReplication::builder()
                .status(aws_sdk_s3::types::DeleteMarkerReplicationStatus::Disabled)
                .build(),
        )
        .destination(Destination::builder().bucket("arn:aws:s3:::tf-destination").account(common::B).build().expect("destination"))
        .build()
        .expect("rule");
    a.put_bucket_replication()
        .bucket("tf-source")
        .replication_configuration(ReplicationConfiguration::builder().role(&role_arn).rules(rule).build().expect("config"))
        .send()
        .await
        .expect("put replication");

    let got = a.get_bucket_replication().bucket("tf-source").send().await.expect("GetBucketReplication");
    let config = got.replication_configuration().expect("configuration");
    assert_eq!(config.role(), role_arn);
    assert_eq!(config.rules().iter().filter_map(|r| r.id()).collect::<Vec<_>>(), ["tf-rule"]);
    let policy = b.get_bucket_policy().bucket("tf-destination").send().await.expect("GetBucketPolicy");
    let got_policy: serde_json::Value = serde_json::from_str(policy.policy().expect("policy")).expect("JSON");
    assert_eq!(got_policy, serde_json::from_str::<serde_json::Value>(&bucket_policy).expect("JSON"));

    // Removed outside Terraform: the errors its read treats as "gone".
    a.delete_bucket_replication().bucket("tf-source").send().await.expect("delete replication");
    b.delete_bucket_policy().bucket("tf-destination").send().await.expect("delete policy");
    let err = a.get_bucket_replication().bucket("tf-source").send().await.expect_err("no configuration");
    assert_eq!(code(&err), "ReplicationConfigurationNotFoundError");
    let err = b.get_bucket_policy().bucket("tf-destination").send().await.expect_err("no policy");
    assert_eq!(code(&err), "NoSuchBucketPolicy");
}
