//! Evaluating one document against a request, and AWS's combination of identity
//! and resource policies (IAM User Guide `reference_policies_evaluation-logic` and
//! `reference_policies_evaluation-logic-cross-account`).

use crate::context::{expand, Context};
use crate::model::{ActionBlock, Effect, Policy, PrincipalBlock, ResourceBlock, Statement};
use crate::principal::{not_principal_matches, principal_matches, Naming, PrincipalInfo};
use crate::wildcard;

/// One request to authorize.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// Matched against Principal/NotPrincipal in resource and trust documents;
    /// ignored for identity documents.
    pub principal: &'a PrincipalInfo,
    /// E.g. `s3:GetObject`; matched case-insensitively.
    pub action: &'a str,
    /// The resource ARN (the role ARN for trust documents, which have no Resource
    /// element); matched case-sensitively.
    pub resource: &'a str,
    pub context: &'a Context,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    Allow,
    Deny,
    NotApplicable,
}

/// A statement that took part in a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRef {
    /// Position in [`Policy::statements`], from 0.
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
}

/// One document's verdict: Deny if any Deny statement matched (then `matched`
/// lists all matching Deny statements), else Allow if any Allow statement matched
/// (`matched` lists those), else NotApplicable (`matched` is empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub decision: Decision,
    pub matched: Vec<StatementRef>,
}

/// The per-document verdict plus what [`authorize`] needs to know.
struct Detailed {
    evaluation: Evaluation,
    /// An Allow statement named the caller directly (not only via its account).
    direct_allow: bool,
}

impl Policy {
    /// This one document's verdict for the request.
    pub fn evaluate(&self, req: &Request<'_>) -> Evaluation {
        self.evaluate_detailed(req).evaluation
    }

    fn evaluate_detailed(&self, req: &Request<'_>) -> Detailed {
        let variables = self.variables_enabled();
        let mut allows = Vec::new();
        let mut denies = Vec::new();
        let mut direct_allow = false;
        for (index, statement) in self.statements.iter().enumerate() {
            let naming = statement_applies(statement, req, variables);
            if naming == Naming::NotNamed {
                continue;
            }
            let reference = StatementRef { index, sid: statement.sid.clone(), effect: statement.effect };
            match statement.effect {
                Effect::Deny => denies.push(reference),
                Effect::Allow => {
                    direct_allow |= naming == Naming::Direct;
                    allows.push(reference);
                }
            }
        }
        let evaluation = if !denies.is_empty() {
            Evaluation { decision: Decision::Deny, matched: denies }
        } else if !allows.is_empty() {
            Evaluation { decision: Decision::Allow, matched: allows }
        } else {
            Evaluation { decision: Decision::NotApplicable, matched: Vec::new() }
        };
        Detailed { evaluation, direct_allow }
    }
}

/// Whether a statement applies to the request, and how it named the caller.
/// Statements without a principal element (identity policies) name the caller
/// directly: the policy is attached to it.
fn statement_applies(statement: &Statement, req: &Request<'_>, variables: bool) -> Naming {
    let action = match &statement.action {
        ActionBlock::Action(v) => v.items.iter().any(|a| wildcard::matches(a, req.action, true)),
        ActionBlock::NotAction(v) => !v.items.iter().any(|a| wildcard::matches(a, req.action, true)),
    };
    if !action {
        return Naming::NotNamed;
    }
    let resource_matches =
        |pattern: &String| expand(pattern, req.context, variables).is_some_and(|p| wildcard::matches_tokens(&p, req.resource, false));
    let resource = match &statement.resource {
        None => true,
        Some(ResourceBlock::Resource(v)) => v.items.iter().any(resource_matches),
        Some(ResourceBlock::NotResource(v)) => !v.items.iter().any(resource_matches),
    };
    if !resource {
        return Naming::NotNamed;
    }
    let naming = match &statement.principal {
        None => Naming::Direct,
        Some(PrincipalBlock::Principal(p)) => principal_matches(p, req.principal),
        Some(PrincipalBlock::NotPrincipal(p)) => {
            if not_principal_matches(p, req.principal) {
                Naming::Direct
            } else {
                Naming::NotNamed
            }
        }
    };
    if naming == Naming::NotNamed {
        return naming;
    }
    if statement.conditions.iter().all(|c| c.matches(req.context, variables)) {
        naming
    } else {
        Naming::NotNamed
    }
}

/// The combined verdict of all policies that apply to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Authorization {
    Allowed,
    /// A Deny statement matched; says where.
    ExplicitDeny {
        in_identity: bool,
        in_resource: bool,
    },
    /// Nothing denied, but not enough allowed; says which side allowed.
    ImplicitDeny {
        identity_allows: bool,
        resource_allows: bool,
    },
}

impl Authorization {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Authorization::Allowed)
    }
}

/// AWS's policy evaluation logic for identity + resource policies:
/// - an explicit Deny in any of them wins;
/// - same account: an Allow in the identity policies OR in the resource policy suffices;
/// - cross-account: the identity side AND the resource side must allow.
///
/// `identity_is_root`: the caller is the account root, whose identity side
/// implicitly allows everything. `acl_allows`: the resource side allows through
/// something other than the policy (an ACL grant decided by the caller).
///
/// A resource policy that names only the caller's *account* (`"AWS": "A"` or
/// `arn:aws:iam::A:root`) delegates to that account's identity policies: it counts
/// as the resource side allowing, but on its own does not allow a same-account
/// caller (the identity side must allow too).
///
/// Anonymous callers and AWS service principals have no identity side: for them
/// the resource policy (or `acl_allows`) alone decides.
pub fn authorize(
    identity: &[&Policy],
    resource: Option<&Policy>,
    req: &Request<'_>,
    same_account: bool,
    identity_is_root: bool,
    acl_allows: bool,
) -> Authorization {
    let identity_decisions: Vec<Decision> = identity.iter().map(|p| p.evaluate_detailed(req).evaluation.decision).collect();
    let resource_result = resource.map(|p| p.evaluate_detailed(req));
    let resource_decision = resource_result.as_ref().map(|r| &r.evaluation.decision);

    let in_identity = identity_decisions.contains(&Decision::Deny);
    let in_resource = resource_decision == Some(&Decision::Deny);
    if in_identity || in_resource {
        return Authorization::ExplicitDeny { in_identity, in_resource };
    }

    let identity_allows = identity_is_root || identity_decisions.contains(&Decision::Allow);
    let policy_allows = resource_decision == Some(&Decision::Allow);
    let resource_allows = policy_allows || acl_allows;
    let resource_grants_alone = acl_allows || resource_result.as_ref().is_some_and(|r| policy_allows && r.direct_allow);

    // Anonymous callers and AWS services have no identity policies: the resource
    // side alone decides, whatever `same_account` says.
    let caller = req.principal;
    let no_identity_side = caller.anonymous || (caller.service.is_some() && caller.account.is_none());
    let allowed = if no_identity_side {
        resource_grants_alone
    } else if same_account {
        identity_allows || resource_grants_alone
    } else {
        identity_allows && resource_allows
    };
    if allowed {
        Authorization::Allowed
    } else {
        Authorization::ImplicitDeny { identity_allows, resource_allows }
    }
}
