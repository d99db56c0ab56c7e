//! Request context: the condition keys a request carries, and policy variables.

use std::collections::HashMap;

use crate::wildcard::Tok;

/// Condition keys of a request. Keys are case-insensitive (IAM User Guide
/// `reference_policies_condition-keys`); each key carries one or more values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    values: HashMap<String, Vec<String>>,
}

impl Context {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` to the single value `value`, replacing earlier values.
    pub fn insert(&mut self, key: &str, value: impl Into<String>) {
        self.values.insert(key.to_lowercase(), vec![value.into()]);
    }

    /// Sets a multi-valued key (e.g. `aws:TagKeys`), replacing earlier values.
    pub fn insert_many(&mut self, key: &str, values: Vec<String>) {
        self.values.insert(key.to_lowercase(), values);
    }

    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.values.get(&key.to_lowercase()).map(Vec::as_slice)
    }
}

/// Expands policy variables (`${aws:username}`, `${s3:prefix, 'default'}`, and the
/// escapes `${*}`, `${?}`, `${$}`) in a Resource or Condition value, producing a
/// pattern whose substituted text is literal. `None` when a variable has no single
/// value and no default: AWS then treats the element as not matching.
/// Variables only exist in Version 2012-10-17; otherwise `enabled` is false and the
/// text is taken as written.
pub(crate) fn expand(value: &str, ctx: &Context, enabled: bool) -> Option<Vec<Tok>> {
    if !enabled || !value.contains("${") {
        return Some(crate::wildcard::compile(value));
    }
    let mut out = Vec::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.extend(crate::wildcard::compile(&rest[..start]));
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            // An unterminated `${` is plain text.
            out.extend(crate::wildcard::compile(&rest[start..]));
            return Some(out);
        };
        let inner = after[..end].trim();
        match inner {
            "*" | "?" | "$" => out.extend(inner.chars().map(Tok::Lit)),
            _ => {
                let (key, default) = match inner.split_once(',') {
                    Some((key, default)) => (key.trim(), Some(unquote(default.trim()))),
                    None => (inner, None),
                };
                let substituted = match ctx.get(key) {
                    Some([single]) => single.as_str(),
                    _ => default?,
                };
                out.extend(substituted.chars().map(Tok::Lit));
            }
        }
        rest = &after[end + 1..];
    }
    out.extend(crate::wildcard::compile(rest));
    Some(out)
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')).unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wildcard::{literal, matches_tokens};

    #[test]
    fn keys_are_case_insensitive() {
        let mut ctx = Context::new();
        ctx.insert("aws:SourceAccount", "111111111111");
        assert_eq!(ctx.get("AWS:SOURCEACCOUNT"), Some(&["111111111111".to_string()][..]));
        ctx.insert_many("aws:TagKeys", vec!["a".into(), "b".into()]);
        assert_eq!(ctx.get("aws:tagkeys").map(<[String]>::len), Some(2));
    }

    #[test]
    fn variables() {
        let mut ctx = Context::new();
        ctx.insert("aws:username", "bob*");
        let p = expand("arn:aws:s3:::b/home/${aws:username}/*", &ctx, true).unwrap();
        assert!(matches_tokens(&p, "arn:aws:s3:::b/home/bob*/x", false));
        assert!(!matches_tokens(&p, "arn:aws:s3:::b/home/bobby/x", false));
        assert!(expand("${aws:userid}", &ctx, true).is_none());
        assert_eq!(literal(&expand("${aws:userid, 'none'}", &ctx, true).unwrap()), "none");
        assert_eq!(literal(&expand("a${*}b", &ctx, true).unwrap()), "a*b");
        assert_eq!(literal(&expand("${aws:username}", &ctx, false).unwrap()), "${aws:username}");
    }
}
