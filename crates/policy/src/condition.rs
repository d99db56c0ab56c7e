//! Condition operators (IAM User Guide `reference_policies_elements_condition_operators`
//! and `reference_policies_condition-single-vs-multi-valued-context-keys`).

use std::net::IpAddr;

use crate::context::{expand, Context};
use crate::values::Values;
use crate::wildcard::{self, Tok};

/// `ForAnyValue:` / `ForAllValues:` set qualifiers for multi-valued keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetQualifier {
    ForAnyValue,
    ForAllValues,
}

/// The operator proper, without qualifier or `IfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BaseOperator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnNotEquals,
    ArnLike,
    ArnNotLike,
    Null,
}

const BASE_OPERATORS: [(&str, BaseOperator); 27] = {
    use BaseOperator::*;
    [
        ("StringEquals", StringEquals),
        ("StringNotEquals", StringNotEquals),
        ("StringEqualsIgnoreCase", StringEqualsIgnoreCase),
        ("StringNotEqualsIgnoreCase", StringNotEqualsIgnoreCase),
        ("StringLike", StringLike),
        ("StringNotLike", StringNotLike),
        ("NumericEquals", NumericEquals),
        ("NumericNotEquals", NumericNotEquals),
        ("NumericLessThan", NumericLessThan),
        ("NumericLessThanEquals", NumericLessThanEquals),
        ("NumericGreaterThan", NumericGreaterThan),
        ("NumericGreaterThanEquals", NumericGreaterThanEquals),
        ("DateEquals", DateEquals),
        ("DateNotEquals", DateNotEquals),
        ("DateLessThan", DateLessThan),
        ("DateLessThanEquals", DateLessThanEquals),
        ("DateGreaterThan", DateGreaterThan),
        ("DateGreaterThanEquals", DateGreaterThanEquals),
        ("Bool", Bool),
        ("BinaryEquals", BinaryEquals),
        ("IpAddress", IpAddress),
        ("NotIpAddress", NotIpAddress),
        ("ArnEquals", ArnEquals),
        ("ArnNotEquals", ArnNotEquals),
        ("ArnLike", ArnLike),
        ("ArnNotLike", ArnNotLike),
        ("Null", Null),
    ]
};

impl BaseOperator {
    pub fn name(self) -> &'static str {
        BASE_OPERATORS.iter().find(|(_, op)| *op == self).map_or("", |(name, _)| name)
    }

    /// Negated operators are true when no request value matches (and when the key
    /// is missing); they are evaluated as the negation of their positive twin.
    fn positive(self) -> (BaseOperator, bool) {
        use BaseOperator::*;
        match self {
            StringNotEquals => (StringEquals, true),
            StringNotEqualsIgnoreCase => (StringEqualsIgnoreCase, true),
            StringNotLike => (StringLike, true),
            NumericNotEquals => (NumericEquals, true),
            DateNotEquals => (DateEquals, true),
            NotIpAddress => (IpAddress, true),
            ArnNotEquals => (ArnEquals, true),
            ArnNotLike => (ArnLike, true),
            other => (other, false),
        }
    }
}

/// A full condition operator such as `ForAllValues:StringLikeIfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConditionOperator {
    pub qualifier: Option<SetQualifier>,
    pub base: BaseOperator,
    pub if_exists: bool,
}

impl ConditionOperator {
    /// Parses an operator name. Names are case-sensitive, as in IAM.
    pub fn parse(name: &str) -> Option<Self> {
        let (qualifier, rest) = if let Some(rest) = name.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), rest)
        } else if let Some(rest) = name.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), rest)
        } else {
            (None, name)
        };
        let (if_exists, rest) = match rest.strip_suffix("IfExists") {
            Some(rest) => (true, rest),
            None => (false, rest),
        };
        let base = BASE_OPERATORS.iter().find(|(n, _)| *n == rest).map(|(_, op)| *op)?;
        // `Null` tests presence itself, so neither IfExists nor a set qualifier means anything.
        if base == BaseOperator::Null && (if_exists || qualifier.is_some()) {
            return None;
        }
        Some(ConditionOperator { qualifier, base, if_exists })
    }

    pub fn name(&self) -> String {
        let prefix = match self.qualifier {
            Some(SetQualifier::ForAnyValue) => "ForAnyValue:",
            Some(SetQualifier::ForAllValues) => "ForAllValues:",
            None => "",
        };
        let suffix = if self.if_exists { "IfExists" } else { "" };
        format!("{prefix}{}{suffix}", self.base.name())
    }

    /// Checks a policy value at parse time, so that a policy that can never
    /// evaluate as written is rejected up front. Values holding policy variables
    /// are only known at request time and are not checked.
    pub(crate) fn check_value(&self, value: &str) -> Result<(), String> {
        use BaseOperator::*;
        if value.contains("${") {
            return Ok(());
        }
        let ok = match self.base.positive().0 {
            NumericEquals | NumericLessThan | NumericLessThanEquals | NumericGreaterThan | NumericGreaterThanEquals => {
                parse_number(value).is_some()
            }
            DateEquals | DateLessThan | DateLessThanEquals | DateGreaterThan | DateGreaterThanEquals => parse_date(value).is_some(),
            IpAddress => parse_cidr(value).is_some(),
            Null | Bool => value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false"),
            _ => true,
        };
        if ok {
            Ok(())
        } else {
            Err(format!("{} cannot compare {value:?}", self.name()))
        }
    }
}

/// One operator block of a Condition element: `"StringEquals": {"k1": [...], "k2": "v"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionBlock {
    pub operator: ConditionOperator,
    /// Condition keys with their allowed values, in document order.
    pub entries: Vec<(String, Values)>,
}

impl ConditionBlock {
    /// All keys must match (AND); see [`entry_matches`] for one key.
    pub(crate) fn matches(&self, ctx: &Context, variables: bool) -> bool {
        self.entries.iter().all(|(key, values)| entry_matches(&self.operator, key, &values.items, ctx, variables))
    }
}

/// One key of one operator: the values listed for the key are alternatives (OR).
fn entry_matches(op: &ConditionOperator, key: &str, policy_values: &[String], ctx: &Context, variables: bool) -> bool {
    let request_values = ctx.get(key).filter(|v| !v.is_empty());

    if op.base == BaseOperator::Null {
        let absent = request_values.is_none();
        return policy_values.iter().any(|v| {
            if v.eq_ignore_ascii_case("true") {
                absent
            } else if v.eq_ignore_ascii_case("false") {
                !absent
            } else {
                false
            }
        });
    }

    let (positive, negated) = op.base.positive();
    let Some(request_values) = request_values else {
        // Missing key: IfExists makes it true; a negated operator is true
        // ("no value equals"); ForAllValues over an empty set is vacuously true;
        // everything else is false.
        return op.if_exists
            || match op.qualifier {
                None => negated,
                Some(SetQualifier::ForAnyValue) => false,
                Some(SetQualifier::ForAllValues) => true,
            };
    };

    // Variables are expanded once per evaluation; a value whose variable has no
    // value cannot match anything.
    let patterns: Vec<Vec<Tok>> = policy_values.iter().filter_map(|v| expand(v, ctx, variables)).collect();
    let matches_any_value = |r: &str| patterns.iter().any(|p| value_matches(positive, p, r));

    match op.qualifier {
        None => request_values.iter().any(|r| matches_any_value(r)) != negated,
        Some(SetQualifier::ForAnyValue) => request_values.iter().any(|r| matches_any_value(r) != negated),
        Some(SetQualifier::ForAllValues) => request_values.iter().all(|r| matches_any_value(r) != negated),
    }
}

/// Whether one request value satisfies one policy value under a positive operator.
fn value_matches(op: BaseOperator, pattern: &[Tok], request: &str) -> bool {
    use BaseOperator::*;
    match op {
        StringEquals | BinaryEquals => wildcard::literal(pattern) == request,
        StringEqualsIgnoreCase => wildcard::literal(pattern).to_lowercase() == request.to_lowercase(),
        StringLike => wildcard::matches_tokens(pattern, request, false),
        ArnEquals | ArnLike => arn_matches(pattern, request),
        Bool => wildcard::literal(pattern).eq_ignore_ascii_case(request),
        NumericEquals | NumericLessThan | NumericLessThanEquals | NumericGreaterThan | NumericGreaterThanEquals => {
            match (parse_number(request), parse_number(&wildcard::literal(pattern))) {
                (Some(r), Some(p)) => compare(op, r.partial_cmp(&p)),
                _ => false,
            }
        }
        DateEquals | DateLessThan | DateLessThanEquals | DateGreaterThan | DateGreaterThanEquals => {
            match (parse_date(request), parse_date(&wildcard::literal(pattern))) {
                (Some(r), Some(p)) => compare(op, r.partial_cmp(&p)),
                _ => false,
            }
        }
        IpAddress => match (request.trim().parse::<IpAddr>(), parse_cidr(&wildcard::literal(pattern))) {
            (Ok(ip), Some((net, bits))) => in_network(ip, net, bits),
            _ => false,
        },
        // Negated operators never get here (see `BaseOperator::positive`).
        _ => false,
    }
}

fn compare(op: BaseOperator, ordering: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::*;
    use BaseOperator::*;
    match (op, ordering) {
        (_, None) => false,
        (NumericEquals | DateEquals, Some(o)) => o == Equal,
        (NumericLessThan | DateLessThan, Some(o)) => o == Less,
        (NumericLessThanEquals | DateLessThanEquals, Some(o)) => o != Greater,
        (NumericGreaterThan | DateGreaterThan, Some(o)) => o == Greater,
        (NumericGreaterThanEquals | DateGreaterThanEquals, Some(o)) => o != Less,
        _ => false,
    }
}

/// ArnEquals/ArnLike: "each of the six colon-delimited components of the ARN is
/// checked separately", each may use `*`/`?`, and matching is case-sensitive.
fn arn_matches(pattern: &[Tok], request: &str) -> bool {
    let parts: Vec<&str> = request.splitn(6, ':').collect();
    if parts.len() != 6 {
        return false;
    }
    let mut segments: Vec<&[Tok]> = Vec::with_capacity(6);
    let mut rest = pattern;
    while segments.len() < 5 {
        let Some(colon) = rest.iter().position(|t| *t == Tok::Lit(':')) else {
            return false;
        };
        segments.push(&rest[..colon]);
        rest = &rest[colon + 1..];
    }
    segments.push(rest);
    segments.iter().zip(parts).all(|(pattern, part)| wildcard::matches_tokens(pattern, part, false))
}

fn parse_number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let s = s.trim();
    let (addr, bits) = match s.split_once('/') {
        Some((addr, bits)) => (addr.parse::<IpAddr>().ok()?, Some(bits.parse::<u8>().ok()?)),
        None => (s.parse::<IpAddr>().ok()?, None),
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let bits = bits.unwrap_or(max);
    (bits <= max).then_some((addr, bits))
}

fn in_network(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

/// Dates as IAM accepts them: epoch seconds, `YYYY-MM-DD`, or ISO 8601 date-time
/// `YYYY-MM-DDTHH:MM[:SS[.fff]]` with `Z` or `±HH:MM` (UTC if absent).
/// Returns seconds since the epoch.
fn parse_date(s: &str) -> Option<f64> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<f64>().ok();
    }
    // At most four digits per field keeps all the arithmetic below far from overflow.
    let num = |s: &str| -> Option<i64> {
        let digits = (1..=4).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
        digits.then(|| s.parse().ok())?
    };
    let (date, time) = match s.split_once(['T', 't']) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut ymd = date.splitn(3, '-');
    let (year, month, day) = (num(ymd.next()?)?, num(ymd.next()?)?, num(ymd.next()?)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut seconds = days_from_civil(year, month, day) as f64 * 86_400.0;
    if let Some(time) = time {
        let (clock, offset) = if let Some(clock) = time.strip_suffix(['Z', 'z']) {
            (clock, 0i64)
        } else if let Some(pos) = time.rfind(['+', '-']) {
            let (clock, zone) = time.split_at(pos);
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let (h, m) = zone[1..].split_once(':').unwrap_or((&zone[1..], "0"));
            (clock, sign * (num(h)? * 3600 + num(m)? * 60))
        } else {
            (time, 0)
        };
        let mut hms = clock.splitn(3, ':');
        let (h, m) = (num(hms.next()?)?, num(hms.next()?)?);
        let sec = match hms.next() {
            Some(sec) => sec.parse::<f64>().ok().filter(|v| (0.0..61.0).contains(v))?,
            None => 0.0,
        };
        if h > 23 || m > 59 {
            return None;
        }
        seconds += (h * 3600 + m * 60 - offset) as f64 + sec;
    }
    Some(seconds)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_names_round_trip() {
        for name in [
            "StringEquals",
            "ForAnyValue:StringLike",
            "ForAllValues:StringEqualsIfExists",
            "ArnNotLikeIfExists",
            "Null",
            "NumericLessThanEquals",
        ] {
            let op = ConditionOperator::parse(name).unwrap();
            assert_eq!(op.name(), name);
        }
        assert!(ConditionOperator::parse("stringequals").is_none());
        assert!(ConditionOperator::parse("NullIfExists").is_none());
        assert!(ConditionOperator::parse("StringEqualz").is_none());
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(parse_date("1970-01-02"), Some(86_400.0));
        assert_eq!(parse_date("2020-03-01T01:00:00+01:00"), parse_date("2020-03-01T00:00:00Z"));
        assert_eq!(parse_date("86400"), Some(86_400.0));
        assert!(parse_date("2020-13-01").is_none());
        assert!(parse_date("yesterday").is_none());
        // Oversized fields are rejected, not overflowed.
        assert!(parse_date("2020-01-01T00:00+9999999999999999:00").is_none());
        assert!(parse_date("9223372036854775807-01-01").is_none());
    }

    #[test]
    fn networks() {
        let (net, bits) = parse_cidr("203.0.113.0/24").unwrap();
        assert!(in_network("203.0.113.7".parse().unwrap(), net, bits));
        assert!(!in_network("203.0.114.7".parse().unwrap(), net, bits));
        let (net, bits) = parse_cidr("0.0.0.0/0").unwrap();
        assert!(in_network("8.8.8.8".parse().unwrap(), net, bits));
        let (net, bits) = parse_cidr("2001:db8::/32").unwrap();
        assert!(in_network("2001:db8::1".parse().unwrap(), net, bits));
        assert!(parse_cidr("10.0.0.0/33").is_none());
    }

    #[test]
    fn arn_components() {
        let p = wildcard::compile("arn:aws:s3:::bucket/*");
        assert!(arn_matches(&p, "arn:aws:s3:::bucket/a:b"));
        let p = wildcard::compile("arn:aws:iam::*:role/*");
        assert!(arn_matches(&p, "arn:aws:iam::111111111111:role/service-role/x"));
        // `*` does not cross a component boundary.
        let p = wildcard::compile("arn:*:role/x");
        assert!(!arn_matches(&p, "arn:aws:iam::111111111111:role/x"));
        assert!(!arn_matches(&p, "not-an-arn"));
    }
}
