//! IAM (Query protocol, API version 2010-05-08): roles, users, access keys, inline and customer
//! managed policies, with IAM's validation, error codes and messages.
//!
//! Every handler follows the same order, so that a refused request changes nothing:
//! parameter shape (`ValidationError`, `MissingParameter`) → authorization of the caller
//! (`AccessDenied`) → existence (`NoSuchEntity`, `EntityAlreadyExists`) → documents
//! (`LimitExceeded`, `MalformedPolicyDocument`) → only then the state change.
//!
//! Layout: `docs` validates policy documents; `roles`, `users`, `groups`, `holders`, `managed`,
//! `oidc` and `account` hold the actions; `request` (the call and its parameters), `reply` (what
//! the answers share) and `authz` (identity-based authorization) are the leaves they share. This
//! file only dispatches.

mod account;
mod authz;
mod docs;
mod groups;
pub(crate) mod holders;
mod managed;
mod oidc;
mod reply;
mod request;
mod roles;
mod users;

use self::request::Call;
use crate::error::ServiceError;
use crate::identity::Caller;
use crate::runtime::Shared;
use crate::state::iam::{Group, Role, User};

pub use docs::{policy_resources, unknown_principal};
pub use oidc::{issuer_key, provider_arn};
pub use request::Params;

pub(crate) use authz::{authorize_identity, denial_message, identity_decision, principal_context};

/// Answers one IAM action. Returns the inner XML of `<ActionResult>` (None for actions whose
/// response has no result element). One piece: the action table, one line per IAM action the
/// emulator answers, grouped by entity, reads best whole.
pub fn handle(shared: &Shared, caller: &Caller, action: &str, params: &Params) -> Result<Option<String>, ServiceError> {
    let Some(account) = caller.account.clone() else {
        return Err(ServiceError::access_denied(format!("User: {} is not authorized to perform: iam:{action}", caller.arn())));
    };
    let mut world = shared.world();
    world.ensure_account(&account);
    let mut call = Call { world: &mut world, caller, account, params };
    match action {
        // Roles
        "CreateRole" => roles::create_role(&mut call),
        "GetRole" => roles::get_role(&mut call),
        "ListRoles" => roles::list_roles(&mut call),
        "DeleteRole" => roles::delete_role(&mut call),
        "UpdateRole" => roles::update_role(&mut call),
        "UpdateRoleDescription" => roles::update_role_description(&mut call),
        "UpdateAssumeRolePolicy" => roles::update_assume_role_policy(&mut call),
        "PutRolePolicy" => holders::put_policy::<Role>(&mut call),
        "GetRolePolicy" => holders::get_policy::<Role>(&mut call),
        "DeleteRolePolicy" => holders::delete_policy::<Role>(&mut call),
        "ListRolePolicies" => holders::list_policies::<Role>(&mut call),
        "AttachRolePolicy" => holders::attach::<Role>(&mut call),
        "DetachRolePolicy" => holders::detach::<Role>(&mut call),
        "ListAttachedRolePolicies" => holders::list_attached::<Role>(&mut call),
        "TagRole" => holders::tag::<Role>(&mut call),
        "UntagRole" => holders::untag::<Role>(&mut call),
        "ListRoleTags" => holders::list_tags::<Role>(&mut call),
        // Users and access keys
        "CreateUser" => users::create_user(&mut call),
        "GetUser" => users::get_user(&mut call),
        "ListUsers" => users::list_users(&mut call),
        "DeleteUser" => users::delete_user(&mut call),
        "UpdateUser" => users::update_user(&mut call),
        "CreateAccessKey" => users::create_access_key(&mut call),
        "DeleteAccessKey" => users::delete_access_key(&mut call),
        "UpdateAccessKey" => users::update_access_key(&mut call),
        "ListAccessKeys" => users::list_access_keys(&mut call),
        "PutUserPolicy" => holders::put_policy::<User>(&mut call),
        "GetUserPolicy" => holders::get_policy::<User>(&mut call),
        "DeleteUserPolicy" => holders::delete_policy::<User>(&mut call),
        "ListUserPolicies" => holders::list_policies::<User>(&mut call),
        "AttachUserPolicy" => holders::attach::<User>(&mut call),
        "DetachUserPolicy" => holders::detach::<User>(&mut call),
        "ListAttachedUserPolicies" => holders::list_attached::<User>(&mut call),
        "TagUser" => holders::tag::<User>(&mut call),
        "UntagUser" => holders::untag::<User>(&mut call),
        "ListUserTags" => holders::list_tags::<User>(&mut call),
        // Groups
        "CreateGroup" => groups::create_group(&mut call),
        "GetGroup" => groups::get_group(&mut call),
        "ListGroups" => groups::list_groups(&mut call),
        "DeleteGroup" => groups::delete_group(&mut call),
        "UpdateGroup" => groups::update_group(&mut call),
        "AddUserToGroup" => groups::add_user_to_group(&mut call),
        "RemoveUserFromGroup" => groups::remove_user_from_group(&mut call),
        "ListGroupsForUser" => groups::list_groups_for_user(&mut call),
        "PutGroupPolicy" => holders::put_policy::<Group>(&mut call),
        "GetGroupPolicy" => holders::get_policy::<Group>(&mut call),
        "DeleteGroupPolicy" => holders::delete_policy::<Group>(&mut call),
        "ListGroupPolicies" => holders::list_policies::<Group>(&mut call),
        "AttachGroupPolicy" => holders::attach::<Group>(&mut call),
        "DetachGroupPolicy" => holders::detach::<Group>(&mut call),
        "ListAttachedGroupPolicies" => holders::list_attached::<Group>(&mut call),
        // Customer managed policies
        "CreatePolicy" => managed::create_policy(&mut call),
        "GetPolicy" => managed::get_policy(&mut call),
        "DeletePolicy" => managed::delete_policy(&mut call),
        "ListPolicies" => managed::list_policies(&mut call),
        "GetPolicyVersion" => managed::get_policy_version(&mut call),
        "CreatePolicyVersion" => managed::create_policy_version(&mut call),
        "DeletePolicyVersion" => managed::delete_policy_version(&mut call),
        "ListPolicyVersions" => managed::list_policy_versions(&mut call),
        "SetDefaultPolicyVersion" => managed::set_default_policy_version(&mut call),
        "TagPolicy" => managed::tag_policy(&mut call),
        "UntagPolicy" => managed::untag_policy(&mut call),
        "ListPolicyTags" => managed::list_policy_tags(&mut call),
        "ListEntitiesForPolicy" => account::list_entities_for_policy(&mut call),
        // The account
        "GetAccountSummary" => account::get_account_summary(&mut call),
        "ListInstanceProfilesForRole" => account::list_instance_profiles_for_role(&mut call),
        // OpenID Connect providers
        "CreateOpenIDConnectProvider" => oidc::create_provider(&mut call),
        "GetOpenIDConnectProvider" => oidc::get_provider(&mut call),
        "ListOpenIDConnectProviders" => oidc::list_providers(&mut call),
        "DeleteOpenIDConnectProvider" => oidc::delete_provider(&mut call),
        "AddClientIDToOpenIDConnectProvider" => oidc::add_client_id(&mut call),
        "RemoveClientIDFromOpenIDConnectProvider" => oidc::remove_client_id(&mut call),
        "UpdateOpenIDConnectProviderThumbprint" => oidc::update_thumbprint(&mut call),
        "" => Err(ServiceError::missing_parameter("Action")),
        other => Err(ServiceError::bad_request("InvalidAction", format!("Could not find operation {other} for version 2010-05-08"))),
    }
}
