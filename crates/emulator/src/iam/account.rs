//! Account-wide reads: GetAccountSummary, ListEntitiesForPolicy, and ListInstanceProfilesForRole
//! (the emulator has no instance profiles, so a role is in none, as a role never added to one).

use super::docs::{GROUP_INLINE_MAX, MANAGED_MAX, ROLE_INLINE_MAX, TRUST_MAX, USER_INLINE_MAX};
use super::holders::Holder;
use super::reply::truncation;
use super::request::{check_path_prefix, constraint, paginate, Call};
use super::{groups, managed, roles, users};
use crate::error::ServiceError;
use crate::state::iam::{fold, Group, IamAccount, Role, User};
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
    let iam = call.iam()?;
    // In the order of the paging key: Group < Role < User.
    let mut entities: Vec<Entity> = Vec::new();
    attached_entities::<Group>(iam, filter.as_deref(), &policy.arn, &prefix, &mut entities);
    attached_entities::<Role>(iam, filter.as_deref(), &policy.arn, &prefix, &mut entities);
    attached_entities::<User>(iam, filter.as_deref(), &policy.arn, &prefix, &mut entities);
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

/// An entity ListEntitiesForPolicy lists: (kind, folded name, name, id).
type Entity = (&'static str, String, String, String);

/// Adds the entities of kind `H` under `prefix` that `arn` is attached to, unless `filter` names
/// another kind.
fn attached_entities<H: Holder>(iam: &IamAccount, filter: Option<&str>, arn: &str, prefix: &str, out: &mut Vec<Entity>) {
    if filter.is_some_and(|f| f != H::KIND) {
        return;
    }
    out.extend(
        H::all(iam)
            .values()
            .filter(|h| h.attached().contains(arn) && h.path().starts_with(prefix))
            .map(|h| (H::KIND, fold(h.name()), h.name().to_owned(), h.id().to_owned())),
    );
}

/// ListInstanceProfilesForRole: the role must exist; it is in no instance profile.
pub(super) fn list_instance_profiles_for_role(call: &mut Call<'_>) -> Answer {
    roles::authorized_role(call, "ListInstanceProfilesForRole")?;
    let mut buf = XmlBuf::default();
    buf.open("InstanceProfiles").close("InstanceProfiles");
    truncation(&mut buf, None);
    Ok(Some(buf.0))
}
