//! The Version element, and pointing at what is wrong with it.
//!
//! The cross-account guide writes `"Version": "2012–10–17"` with EN DASHES; IAM and
//! S3 reject it, and users cannot see the difference. So the message names the
//! look-alike character and where it is.

use serde_json::Value;

use crate::error::{PolicyError, PolicyErrorKind};
use crate::locate::{line_column, locate_offset, Seg};
use crate::model::VALID_VERSIONS;

/// Characters that look like something valid in a version string.
/// (code point, name, what it imitates)
const LOOK_ALIKES: &[(char, &str, &str)] = &[
    ('\u{2010}', "HYPHEN", "-"),
    ('\u{2011}', "NON-BREAKING HYPHEN", "-"),
    ('\u{2012}', "FIGURE DASH", "-"),
    ('\u{2013}', "EN DASH", "-"),
    ('\u{2014}', "EM DASH", "-"),
    ('\u{2015}', "HORIZONTAL BAR", "-"),
    ('\u{2212}', "MINUS SIGN", "-"),
    ('\u{FE58}', "SMALL EM DASH", "-"),
    ('\u{FE63}', "SMALL HYPHEN-MINUS", "-"),
    ('\u{FF0D}', "FULLWIDTH HYPHEN-MINUS", "-"),
    ('\u{00AD}', "SOFT HYPHEN", "-"),
    ('\u{00A0}', "NO-BREAK SPACE", "nothing"),
    ('\u{200B}', "ZERO WIDTH SPACE", "nothing"),
    ('\u{FEFF}', "ZERO WIDTH NO-BREAK SPACE", "nothing"),
    ('\u{FF10}', "FULLWIDTH DIGIT ZERO", "0"),
    ('\u{FF11}', "FULLWIDTH DIGIT ONE", "1"),
    ('\u{FF12}', "FULLWIDTH DIGIT TWO", "2"),
    ('\u{FF17}', "FULLWIDTH DIGIT SEVEN", "7"),
    ('\u{FF18}', "FULLWIDTH DIGIT EIGHT", "8"),
    ('\u{2070}', "SUPERSCRIPT ZERO", "0"),
    ('\u{00B9}', "SUPERSCRIPT ONE", "1"),
    ('\u{00B2}', "SUPERSCRIPT TWO", "2"),
    ('\u{0660}', "ARABIC-INDIC DIGIT ZERO", "0"),
    ('\u{0661}', "ARABIC-INDIC DIGIT ONE", "1"),
    ('\u{0662}', "ARABIC-INDIC DIGIT TWO", "2"),
];

/// What is wrong with a Version value, or `None` if it is valid.
pub(crate) fn version_problem(value: &Value) -> Option<String> {
    let Value::String(version) = value else {
        return Some(format!("\"Version\" must be a string, one of {VALID_VERSIONS:?}; found {value}"));
    };
    if VALID_VERSIONS.contains(&version.as_str()) {
        return None;
    }
    let mut message = format!("\"Version\" is \"{version}\"");
    if let Some((position, c)) = version.chars().enumerate().find(|(_, c)| !c.is_ascii()) {
        let code = format!("U+{:04X}", u32::from(c));
        match LOOK_ALIKES.iter().find(|(l, _, _)| *l == c) {
            Some((_, name, "nothing")) => {
                message.push_str(&format!(": character {} is {code} {name}, which should not be there", position + 1))
            }
            Some((_, name, imitates)) => message.push_str(&format!(": character {} is {code} {name}, not \"{imitates}\"", position + 1)),
            None => message.push_str(&format!(": character {} is {code}, which is not ASCII", position + 1)),
        }
    } else if VALID_VERSIONS.contains(&version.trim()) {
        message.push_str(": remove the surrounding whitespace");
    } else {
        message.push_str(&format!("; it must be one of \"{}\" or \"{}\"", VALID_VERSIONS[0], VALID_VERSIONS[1]));
    }
    Some(message)
}

/// Finds a bad top-level `"Version"` value and points at it: 1-based line and
/// column (in characters) of the value's opening quote, and for look-alike
/// characters which one it is, e.g.
/// `"Version" is "2012–10–17": character 5 is U+2013 EN DASH, not "-"`.
///
/// Works on any text: returns `None` when the Version is valid, absent, or cannot
/// be read (the rest of the document may be broken).
pub fn find_version_problem(text: &str) -> Option<PolicyError> {
    let path = [Seg::Key("Version".to_string())];
    let offset = locate_offset(text, &path)?;
    let value = serde_json::Deserializer::from_str(text.get(offset..)?).into_iter::<Value>().next()?.ok()?;
    let message = version_problem(&value)?;
    let position = line_column(text, offset);
    Some(PolicyError::new(PolicyErrorKind::InvalidVersion, message).at(Some(position)))
}
