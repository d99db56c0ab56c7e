//! "Does this policy allow that action on that resource?" — the approximation the linter needs to
//! say which permission a user's own document is missing. Conditions are ignored (a lint cannot
//! know the request context); an explicit Deny that matches wins, as in IAM.

use serde_json::Value;

use crate::documents::statements_of;

/// Who is asking, for resource policies (bucket policies name a principal; identity policies don't).
#[derive(Debug, Clone, Copy)]
pub enum Caller<'a> {
    /// Identity policy: the statement applies to whoever holds the policy.
    Holder,
    /// Resource policy: the statement must name this role ARN (or its account root, or `*`).
    Role { arn: &'a str, account: &'a str },
}

pub fn allows(policy: &Value, caller: Caller<'_>, action: &str, resource: &str) -> bool {
    let mut allowed = false;
    for st in statements_of(policy) {
        if !applies(&st, caller, action, resource) {
            continue;
        }
        match st.get("Effect").and_then(Value::as_str) {
            Some("Deny") => return false,
            Some("Allow") => allowed = true,
            _ => {}
        }
    }
    allowed
}

/// Whether a statement of `policy` explicitly denies `action` on `resource` to `caller`.
pub fn denies(policy: &Value, caller: Caller<'_>, action: &str, resource: &str) -> bool {
    statements_of(policy).iter().any(|st| st.get("Effect").and_then(Value::as_str) == Some("Deny") && applies(st, caller, action, resource))
}

fn applies(st: &Value, caller: Caller<'_>, action: &str, resource: &str) -> bool {
    let action_ok = match (st.get("Action"), st.get("NotAction")) {
        (Some(a), _) => strings(a).iter().any(|p| glob(p, action, false)),
        (None, Some(na)) => !strings(na).iter().any(|p| glob(p, action, false)),
        _ => false,
    };
    let resource_ok = match (st.get("Resource"), st.get("NotResource")) {
        (Some(r), _) => strings(r).iter().any(|p| glob(p, resource, true)),
        (None, Some(nr)) => !strings(nr).iter().any(|p| glob(p, resource, true)),
        // Trust policies have no Resource.
        _ => true,
    };
    let principal_ok = match caller {
        Caller::Holder => true,
        Caller::Role { arn, account } => st.get("Principal").is_some_and(|p| principal_names(p, arn, account) || p.as_str() == Some("*")),
    };
    action_ok && resource_ok && principal_ok
}

fn principal_names(p: &Value, arn: &str, account: &str) -> bool {
    let Some(aws) = p.get("AWS") else {
        return false;
    };
    let root = format!("arn:aws:iam::{account}:root");
    strings(aws).iter().any(|s| s == arn || s == "*" || *s == root || *s == account)
}

/// A string or an array of strings, as a list.
pub fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

/// IAM wildcard match: `*` any run of characters, `?` one character. Actions compare
/// case-insensitively, resources case-sensitively.
pub fn glob(pattern: &str, text: &str, case_sensitive: bool) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = if case_sensitive {
        (pattern.chars().collect(), text.chars().collect())
    } else {
        (pattern.to_ascii_lowercase().chars().collect(), text.to_ascii_lowercase().chars().collect())
    };
    // Iterative wildcard matching with backtracking to the last `*`.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn glob_matches_iam_wildcards() {
        assert!(glob("s3:Replicate*", "s3:replicateobject", false));
        assert!(glob("s3:*", "s3:ListBucket", false));
        assert!(!glob("s3:Get*", "s3:ListBucket", false));
        assert!(glob("arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y", true));
        assert!(!glob("arn:aws:s3:::b/*", "arn:aws:s3:::B/x", true));
        assert!(glob("a?c", "abc", true));
        assert!(glob("*", "", true));
    }

    #[test]
    fn deny_wins_and_principal_must_match() {
        let p = json!({"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:role/r"}, "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": "s3:ReplicateDelete", "Resource": "*"}
        ]});
        let role = Caller::Role { arn: "arn:aws:iam::1:role/r", account: "1" };
        let other = Caller::Role { arn: "arn:aws:iam::1:role/other", account: "2" };
        assert!(allows(&p, role, "s3:ReplicateObject", "arn:aws:s3:::b/k"));
        assert!(!allows(&p, role, "s3:ReplicateDelete", "arn:aws:s3:::b/k"));
        assert!(!allows(&p, other, "s3:ReplicateObject", "arn:aws:s3:::b/k"));
    }
}
