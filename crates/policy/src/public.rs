//! Whether a resource policy is public, as S3 Block Public Access judges it (User Guide
//! `access-control-block-public-access`, "The meaning of public"): an Allow for a wildcard
//! principal (`"*"`, `{"AWS": "*"}`, or `NotPrincipal`) is public unless a condition pins one
//! of the keys AWS lists to fixed values (no wildcards; an IP range narrower than /8).

use crate::condition::{BaseOperator, ConditionBlock};
use crate::model::{Effect, Policy, Principal, PrincipalBlock, PrincipalType, Statement};

/// Condition keys that make a wildcard principal non-public when fixed (same page).
const PINNING_KEYS: &[&str] = &[
    "aws:sourceip",
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:userid",
    "aws:principalarn",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
];

fn wildcard_principal(statement: &Statement) -> bool {
    match &statement.principal {
        None => false,
        Some(PrincipalBlock::NotPrincipal(_)) => true,
        Some(PrincipalBlock::Principal(Principal::Any)) => true,
        Some(PrincipalBlock::Principal(Principal::Map(entries))) => {
            entries.iter().any(|(kind, values)| *kind == PrincipalType::Aws && values.items.iter().any(|v| v == "*"))
        }
    }
}

/// A condition that restricts callers to fixed values of a pinning key.
fn pins(block: &ConditionBlock) -> bool {
    let fixed_operator = matches!(
        block.operator.base,
        BaseOperator::StringEquals | BaseOperator::StringEqualsIgnoreCase | BaseOperator::ArnEquals | BaseOperator::IpAddress
    ) || matches!(block.operator.base, BaseOperator::StringLike | BaseOperator::ArnLike);
    fixed_operator
        && !block.operator.if_exists
        && block.entries.iter().any(|(key, values)| {
            PINNING_KEYS.contains(&key.to_ascii_lowercase().as_str())
                && !values.items.is_empty()
                && values.items.iter().all(|v| fixed_value(key, v))
        })
}

fn fixed_value(key: &str, value: &str) -> bool {
    if key.eq_ignore_ascii_case("aws:SourceIp") {
        // Ranges of /8 or wider count as public.
        return value.split_once('/').is_none_or(|(_, bits)| bits.parse::<u8>().is_ok_and(|b| b > 8));
    }
    !value.contains('*') && !value.contains('?')
}

impl Policy {
    /// True when the policy grants access to anyone (see the module documentation).
    pub fn is_public(&self) -> bool {
        self.statements.iter().any(|s| s.effect == Effect::Allow && wildcard_principal(s) && !s.conditions.iter().any(pins))
    }
}
