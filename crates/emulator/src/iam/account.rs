//! Account-wide reads: GetAccountSummary, ListEntitiesForPolicy, and ListInstanceProfilesForRole
//! (the emulator has no instance profiles, so a role is in none, as a role never added to one).

use super::docs::{GROUP_INLINE_MAX, MANAGED_MAX, ROLE_INLINE_MAX, TRUST_MAX, USER_INLINE_MAX};
use super::reply::truncation;
use super::request::{check_path_prefix, constraint, paginate, Call};
use super::{groups, managed, roles, users};
use crate::error::ServiceError;
use crate::state::iam::fold;
use crate::state::KeyOwner;
use crate::xml::XmlBuf;

type Answer = Result<Option<String>, ServiceError>;

/// GetAccountSummary: entity counts and quotas (API Reference `API_GetAccountSummary`).
pub(super) fn get_account_summary(call: &mut Call<'_>) -> Answer {
    call.authorize("GetAccountSummary", "*")?;
    let iam = call.iam()?;
    let (customer, versions) = iam
        .policies
        .values()
        .filter(|p| !p.arn.starts_with(managed::AWS_POLICY_PREFIX))
        .fold((0usize, 0usize), |(policies, versions), p| (policies + 1, versions + p.versions.len()));
    let root_keys = call.world.keys.iter().any(|(id, k)| k.account == call.account && k.owner == KeyOwner::Root && id.starts_with("AKIA"));
    let entries: [(&str, usize); 31] = [
        ("Users", iam.users.len()),
        ("UsersQuota", users::USERS_PER_ACCOUNT),
        ("Groups", iam.groups.len()),
        ("GroupsQuota", groups::GROUPS_PER_ACCOUNT),
        ("GroupsPerUserQuota", groups::GROUPS_PER_USER),
        ("Roles", iam.roles.len()),
        ("RolesQuota", roles::ROLES_PER_ACCOUNT),
        ("Policies", customer),
        ("PoliciesQuota", managed::POLICIES_PER_ACCOUNT),
        ("PolicyVersionsInUse", versions),
        ("PolicyVersionsInUseQuota", 10_000),
        ("VersionsPerPolicyQuota", managed::VERSIONS_PER_POLICY),
        ("PolicySizeQuota", MANAGED_MAX),
        ("UserPolicySizeQuota", USER_INLINE_MAX),
        ("GroupPolicySizeQuota", GROUP_INLINE_MAX),
        ("RolePolicySizeQuota", ROLE_INLINE_MAX),
        ("AssumeRolePolicySizeQuota", TRUST_MAX),
        ("AttachedPoliciesPerUserQuota", users::POLICIES_PER_USER),
        ("AttachedPoliciesPerGroupQuota", groups::POLICIES_PER_GROUP),
        ("AttachedPoliciesPerRoleQuota", roles::POLICIES_PER_ROLE),
        ("AccessKeysPerUserQuota", users::ACCESS_KEYS_PER_USER),
        ("AccountAccessKeysPresent", usize::from(root_keys)),
        ("AccountMFAEnabled", 0),
        ("AccountSigningCertificatesPresent", 0),
        ("MFADevices", 0),
        ("MFADevicesInUse", 0),
        ("InstanceProfiles", 0),
        ("InstanceProfilesQuota", 1000),
        ("Providers", iam.oidc_providers.len()),
        ("ServerCertificates", 0),
        ("ServerCertificatesQuota", 20),
    ];
    let mut buf = XmlBuf::default();
    buf.open("SummaryMap");
    for (key, value) in entries {
        buf.open("entry").elem("key", key).elem("value", &value.to_string()).close("entry");
    }
    buf.close("SummaryMap");
    Ok(Some(buf.0))
}

/// ListEntitiesForPolicy: the users, groups and roles a managed policy is attached to.
pub(super) fn list_entities_for_policy(call: &mut Call<'_>) -> Answer {
    let filter = call.optional("EntityFilter").map(str::to_owned);
    if let Some(f) = &filter {
        if !matches!(f.as_str(), "User" | "Role" | "Group" | "LocalManagedPolicy" | "AWSManagedPolicy") {
            return Err(constraint(
                f,
                "entityFilter",
                "Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]",
            ));
        }
    }
    let prefix = call.optional("PathPrefix").unwrap_or("/").to_owned();
    check_path_prefix(&prefix)?;
    let policy = managed::authorized_policy(call, "ListEntitiesForPolicy")?;
    let wants = |kind: &str| filter.as_deref().is_none_or(|f| f == kind);
    let iam = call.iam()?;
    // (kind, folded name, name, id), in the order of the paging key: Group < Role < User.
    let mut entities: Vec<(&str, String, String, String)> = Vec::new();
    if wants("Group") {
        entities.extend(
            iam.groups
                .values()
                .filter(|g| g.attached.contains(&policy.arn) && g.path.starts_with(&prefix))
                .map(|g| ("Group", fold(&g.name), g.name.clone(), g.group_id.clone())),
        );
    }
    if wants("Role") {
        entities.extend(
            iam.roles
                .values()
                .filter(|r| r.attached.contains(&policy.arn) && r.path.starts_with(&prefix))
                .map(|r| ("Role", fold(&r.name), r.name.clone(), r.role_id.clone())),
        );
    }
    if wants("User") {
        entities.extend(
            iam.users
                .values()
                .filter(|u| u.attached.contains(&policy.arn) && u.path.starts_with(&prefix))
                .map(|u| ("User", fold(&u.name), u.name.clone(), u.user_id.clone())),
        );
    }
    let (page, next) = paginate(call, entities, |(kind, folded, _, _)| format!("{kind}\u{0}{folded}"))?;
    let mut buf = XmlBuf::default();
    for (kind, element) in [("Group", "PolicyGroups"), ("User", "PolicyUsers"), ("Role", "PolicyRoles")] {
        buf.open(element);
        for (_, _, name, id) in page.iter().filter(|e| e.0 == kind) {
            buf.open("member").elem(&format!("{kind}Name"), name).elem(&format!("{kind}Id"), id).close("member");
        }
        buf.close(element);
    }
    truncation(&mut buf, next.as_deref());
    Ok(Some(buf.0))
}

/// ListInstanceProfilesForRole: the role must exist; it is in no instance profile.
pub(super) fn list_instance_profiles_for_role(call: &mut Call<'_>) -> Answer {
    roles::authorized_role(call, "ListInstanceProfilesForRole")?;
    let mut buf = XmlBuf::default();
    buf.open("InstanceProfiles").close("InstanceProfiles");
    truncation(&mut buf, None);
    Ok(Some(buf.0))
}
