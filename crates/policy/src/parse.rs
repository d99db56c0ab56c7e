//! Parsing and validating a policy document (IAM User Guide
//! `reference_policies_grammar`, and the errors S3 and IAM answer with).

use serde_json::{Map, Value};

use crate::condition::{ConditionBlock, ConditionOperator};
use crate::error::{PolicyError, PolicyErrorKind as Kind};
use crate::locate::{char_column, line_column, locate, Seg};
use crate::model::{ActionBlock, DocumentKind, Effect, Policy, Principal, PrincipalBlock, PrincipalType, ResourceBlock, Statement};
use crate::principal;
use crate::values::Values;
use crate::version::version_problem;

const NOT_JSON_OBJECT: &str = "Policies must be valid JSON and the first byte must be '{'";

/// A validation failure, with the path of the offending value; turned into a
/// line and column once, at the end.
struct Fail {
    kind: Kind,
    message: String,
    path: Vec<Seg>,
}

type Parsed<T> = Result<T, Fail>;

fn fail<T>(kind: Kind, message: impl Into<String>, path: &[Seg]) -> Parsed<T> {
    Err(Fail { kind, message: message.into(), path: path.to_vec() })
}

fn child(path: &[Seg], seg: Seg) -> Vec<Seg> {
    let mut out = path.to_vec();
    out.push(seg);
    out
}

fn key(k: &str) -> Seg {
    Seg::Key(k.to_string())
}

impl Policy {
    /// Parses and validates a document of the given kind. Never panics; every
    /// error carries AWS's wording and, where it can be found, line and column.
    pub fn parse(text: &str, kind: DocumentKind) -> Result<Policy, PolicyError> {
        let rest = text.trim_start_matches([' ', '\t', '\n', '\r']);
        if !rest.starts_with('{') {
            let position = (!rest.is_empty()).then(|| line_column(text, text.len() - rest.len()));
            return Err(PolicyError::new(Kind::NotAnObject, NOT_JSON_OBJECT).at(position));
        }
        let value: Value = serde_json::from_str(text).map_err(|e| json_error(text, &e))?;
        let Value::Object(doc) = value else {
            return Err(PolicyError::new(Kind::NotAnObject, NOT_JSON_OBJECT));
        };
        document(&doc, kind).map_err(|f| {
            let position = if f.path.is_empty() { None } else { locate(text, &f.path) };
            PolicyError::new(f.kind, f.message).at(position)
        })
    }
}

/// serde_json's syntax error, with its position converted to characters.
fn json_error(text: &str, e: &serde_json::Error) -> PolicyError {
    let full = e.to_string();
    // serde_json appends " at line L column C"; we report those separately.
    let reason = match full.rfind(" at line ") {
        Some(i) if e.line() > 0 => &full[..i],
        _ => full.as_str(),
    };
    let position = (e.line() > 0).then(|| (e.line(), char_column(text, e.line(), e.column())));
    PolicyError::new(Kind::InvalidJson, format!("Policies must be valid JSON: {reason}")).at(position)
}

fn document(doc: &Map<String, Value>, kind: DocumentKind) -> Parsed<Policy> {
    // Version first: a document copied from the guide with en dashes should be
    // reported for that, whatever else is wrong with it.
    let version = match doc.get("Version") {
        None => None,
        Some(value) => match (version_problem(value), value) {
            (Some(problem), _) => return fail(Kind::InvalidVersion, problem, &[key("Version")]),
            (None, Value::String(v)) => Some(v.clone()),
            (None, _) => None,
        },
    };
    if let Some(unknown) = doc.keys().find(|k| !matches!(k.as_str(), "Version" | "Id" | "Statement")) {
        return fail(Kind::UnknownElement, format!("Unknown field {unknown}"), &[key(unknown)]);
    }
    let id = match doc.get("Id") {
        None => None,
        Some(Value::String(id)) => Some(id.clone()),
        Some(_) => return fail(Kind::InvalidJson, "Id must be a string", &[key("Id")]),
    };
    let root = [key("Statement")];
    let statements = match doc.get("Statement") {
        None => return fail(Kind::MissingStatement, "Missing required field Statement", &[]),
        Some(Value::Object(s)) => vec![statement(s, kind, &root)?],
        Some(Value::Array(list)) if list.is_empty() => return fail(Kind::MissingStatement, "Missing required field Statement", &root),
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let path = child(&root, Seg::Index(i));
                match s {
                    Value::Object(s) => statement(s, kind, &path),
                    _ => fail(Kind::NotAnObject, "Each statement must be a JSON object", &path),
                }
            })
            .collect::<Parsed<Vec<_>>>()?,
        Some(_) => return fail(Kind::NotAnObject, "Statement must be an object or an array of objects", &root),
    };
    Ok(Policy { version, id, statements })
}

const STATEMENT_FIELDS: [&str; 9] =
    ["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"];

fn statement(s: &Map<String, Value>, kind: DocumentKind, path: &[Seg]) -> Parsed<Statement> {
    let at = |k: &str| child(path, key(k));
    if let Some(unknown) = s.keys().find(|k| !STATEMENT_FIELDS.contains(&k.as_str())) {
        return fail(Kind::UnknownElement, format!("Unknown field {unknown}"), &at(unknown));
    }

    let sid = match s.get("Sid") {
        None => None,
        Some(Value::String(sid)) => Some(sid.clone()),
        Some(_) => return fail(Kind::InvalidJson, "Sid must be a string", &at("Sid")),
    };

    // Effect is case-sensitive: "allow" is rejected.
    let effect = match s.get("Effect") {
        None => return fail(Kind::MissingEffect, "Missing required field Effect", path),
        Some(Value::String(e)) if e == "Allow" => Effect::Allow,
        Some(Value::String(e)) if e == "Deny" => Effect::Deny,
        Some(Value::String(e)) => return fail(Kind::InvalidEffect, format!("Invalid effect: {e}"), &at("Effect")),
        Some(other) => return fail(Kind::InvalidEffect, format!("Invalid effect: {other}"), &at("Effect")),
    };

    let principal = principal_block(s, kind, path)?;
    let action = action_block(s, kind, path)?;
    let resource = resource_block(s, kind, path)?;
    let conditions = match s.get("Condition") {
        None => Vec::new(),
        Some(c) => conditions(c, &at("Condition"))?,
    };
    Ok(Statement { sid, effect, principal, action, resource, conditions })
}

/// Why a "string or array of strings" value was not one.
enum ListProblem {
    Empty,
    NotAString(Vec<Seg>),
}

fn string_list(value: &Value, path: &[Seg]) -> Result<Values, ListProblem> {
    match value {
        Value::String(s) => Ok(Values::one(s.clone())),
        Value::Array(items) if items.is_empty() => Err(ListProblem::Empty),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s.clone()),
                _ => Err(ListProblem::NotAString(child(path, Seg::Index(i)))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|items| Values { items, array: true }),
        _ => Err(ListProblem::NotAString(path.to_vec())),
    }
}

/// Picks whichever of `name` / `Not{name}` is present; both is an error.
fn one_of<'a>(s: &'a Map<String, Value>, name: &str, path: &[Seg], kind: Kind) -> Parsed<Option<(bool, &'a Value, Vec<Seg>)>> {
    let not_name = format!("Not{name}");
    match (s.get(name), s.get(&not_name)) {
        (Some(_), Some(_)) => fail(kind, format!("A statement cannot have both {name} and {not_name}"), &child(path, key(&not_name))),
        (Some(v), None) => Ok(Some((false, v, child(path, key(name))))),
        (None, Some(v)) => Ok(Some((true, v, child(path, key(&not_name))))),
        (None, None) => Ok(None),
    }
}

fn principal_block(s: &Map<String, Value>, kind: DocumentKind, path: &[Seg]) -> Parsed<Option<PrincipalBlock>> {
    let found = one_of(s, "Principal", path, Kind::InvalidPrincipal)?;
    match (kind, found) {
        (DocumentKind::Identity, None) => Ok(None),
        (DocumentKind::Identity, Some((_, _, at))) => {
            fail(Kind::PrincipalNotAllowed, "Policy document should not specify a principal.", &at)
        }
        (_, None) => fail(Kind::MissingPrincipal, "Missing required field Principal", path),
        (_, Some((negated, value, at))) => {
            let p = parse_principal(value, &at)?;
            Ok(Some(if negated { PrincipalBlock::NotPrincipal(p) } else { PrincipalBlock::Principal(p) }))
        }
    }
}

fn invalid_principal<T>(detail: String, path: &[Seg]) -> Parsed<T> {
    fail(Kind::InvalidPrincipal, format!("Invalid principal in policy: {detail}"), path)
}

fn parse_principal(value: &Value, path: &[Seg]) -> Parsed<Principal> {
    let map = match value {
        Value::String(s) if s == "*" => return Ok(Principal::Any),
        Value::Object(map) if !map.is_empty() => map,
        other => return invalid_principal(other.to_string(), path),
    };
    let mut entries = Vec::with_capacity(map.len());
    for (name, v) in map {
        let at = child(path, key(name));
        let Some(kind) = PrincipalType::from_key(name) else {
            return invalid_principal(format!("{name:?}"), &at);
        };
        let values = match string_list(v, &at) {
            Ok(values) => values,
            Err(ListProblem::Empty) => return invalid_principal(format!("{name:?}:[]"), &at),
            Err(ListProblem::NotAString(at)) => return invalid_principal(format!("{name:?}:{v}"), &at),
        };
        for (i, item) in values.items.iter().enumerate() {
            if !principal::is_valid(kind, item) {
                let at = if values.array { child(&at, Seg::Index(i)) } else { at.clone() };
                return invalid_principal(format!("{name:?}:{item:?}"), &at);
            }
        }
        entries.push((kind, values));
    }
    Ok(Principal::Map(entries))
}

/// `*`, or `service:Action` where the action part may use wildcards.
fn valid_action(action: &str) -> bool {
    if action == "*" {
        return true;
    }
    let Some((service, name)) = action.split_once(':') else {
        return false;
    };
    !service.is_empty()
        && service.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'*' || b == b'?')
}

fn action_block(s: &Map<String, Value>, kind: DocumentKind, path: &[Seg]) -> Parsed<ActionBlock> {
    let Some((negated, value, at)) = one_of(s, "Action", path, Kind::InvalidAction)? else {
        return fail(Kind::MissingAction, "Missing required field Action", path);
    };
    let values = match string_list(value, &at) {
        Ok(values) => values,
        Err(ListProblem::Empty) => return fail(Kind::MissingAction, "Missing required field Action", &at),
        Err(ListProblem::NotAString(at)) => return fail(Kind::InvalidAction, "Policy has invalid action: not a string", &at),
    };
    for (i, action) in values.items.iter().enumerate() {
        let item_at = || {
            if values.array {
                child(&at, Seg::Index(i))
            } else {
                at.clone()
            }
        };
        if !valid_action(action) {
            return fail(Kind::InvalidAction, format!("Policy has invalid action: {action:?}"), &item_at());
        }
        // A trust policy governs assuming the role, nothing else.
        let sts = action == "*" || action.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("sts:"));
        if kind == DocumentKind::Trust && !sts {
            return fail(
                Kind::InvalidAction,
                format!("Policy has invalid action: {action:?} (a trust policy can only name sts actions)"),
                &item_at(),
            );
        }
    }
    Ok(if negated { ActionBlock::NotAction(values) } else { ActionBlock::Action(values) })
}

fn resource_block(s: &Map<String, Value>, kind: DocumentKind, path: &[Seg]) -> Parsed<Option<ResourceBlock>> {
    let found = one_of(s, "Resource", path, Kind::InvalidResource)?;
    let (negated, value, at) = match (kind, found) {
        (DocumentKind::Trust, None) => return Ok(None),
        // IAM: "Has prohibited field Resource" in a trust policy.
        (DocumentKind::Trust, Some((negated, _, at))) => {
            let name = if negated { "NotResource" } else { "Resource" };
            return fail(Kind::InvalidResource, format!("Has prohibited field {name}"), &at);
        }
        (_, None) => return fail(Kind::MissingResource, "Missing required field Resource", path),
        (_, Some(found)) => found,
    };
    let values = match string_list(value, &at) {
        Ok(values) => values,
        Err(ListProblem::Empty) => return fail(Kind::MissingResource, "Missing required field Resource", &at),
        Err(ListProblem::NotAString(at)) => return fail(Kind::InvalidResource, "Policy has invalid resource: not a string", &at),
    };
    for (i, resource) in values.items.iter().enumerate() {
        // "*" or an ARN; S3 checks further that it names the policy's bucket (the emulator's job).
        let valid = resource == "*" || (resource.len() > 4 && resource.starts_with("arn:"));
        if !valid {
            let at = if values.array { child(&at, Seg::Index(i)) } else { at.clone() };
            return fail(Kind::InvalidResource, format!("Policy has invalid resource: {resource:?}"), &at);
        }
    }
    Ok(Some(if negated { ResourceBlock::NotResource(values) } else { ResourceBlock::Resource(values) }))
}

fn invalid_condition<T>(detail: impl std::fmt::Display, path: &[Seg]) -> Parsed<T> {
    fail(Kind::InvalidCondition, format!("Policy has an invalid condition: {detail}"), path)
}

/// A condition value as text. IAM accepts JSON booleans and numbers here
/// (`"aws:SecureTransport": false`).
fn condition_value(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn conditions(value: &Value, path: &[Seg]) -> Parsed<Vec<ConditionBlock>> {
    let Value::Object(blocks) = value else {
        return invalid_condition("Condition must be an object", path);
    };
    let mut out = Vec::with_capacity(blocks.len());
    for (name, block) in blocks {
        let at = child(path, key(name));
        let Some(operator) = ConditionOperator::parse(name) else {
            return invalid_condition(format!("unknown operator {name:?}"), &at);
        };
        let Value::Object(keys) = block else {
            return invalid_condition(format!("{name} must map condition keys to values"), &at);
        };
        let mut entries = Vec::with_capacity(keys.len());
        for (condition_key, v) in keys {
            let key_at = child(&at, key(condition_key));
            if condition_key.is_empty() {
                return invalid_condition("empty condition key", &key_at);
            }
            let values = match v {
                Value::Array(items) => {
                    let items = items.iter().map(condition_value).collect::<Option<Vec<_>>>();
                    let Some(items) = items else {
                        return invalid_condition(format!("bad value for {condition_key}"), &key_at);
                    };
                    Values { items, array: true }
                }
                single => match condition_value(single) {
                    Some(item) => Values::one(item),
                    None => return invalid_condition(format!("bad value for {condition_key}"), &key_at),
                },
            };
            for item in &values.items {
                if let Err(problem) = operator.check_value(item) {
                    return invalid_condition(problem, &key_at);
                }
            }
            entries.push((condition_key.clone(), values));
        }
        out.push(ConditionBlock { operator, entries });
    }
    Ok(out)
}
