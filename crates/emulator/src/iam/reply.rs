//! What IAM answers with: list truncation, dates, URL-encoded documents, tag lists, and the
//! errors the actions share. A leaf of `iam`.

use time::OffsetDateTime;

use crate::error::ServiceError;
use crate::xml::XmlBuf;

/// `<IsTruncated>` and, when truncated, `<Marker>`.
pub(crate) fn truncation(buf: &mut XmlBuf, next: Option<&str>) {
    buf.elem("IsTruncated", if next.is_some() { "true" } else { "false" });
    buf.opt("Marker", next);
}

pub(crate) fn date(t: OffsetDateTime) -> String {
    crate::state::iso8601(t)
}

/// Policy documents are returned URL-encoded, as IAM does (RFC 3986 unreserved kept).
pub(crate) fn url_encode(text: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    percent_encoding::utf8_percent_encode(text, SET).to_string()
}

pub(crate) fn tags_xml(buf: &mut XmlBuf, tags: &[(String, String)]) {
    buf.open("Tags");
    for (k, v) in tags {
        buf.open("member").elem("Key", k).elem("Value", v).close("member");
    }
    buf.close("Tags");
}

pub(crate) fn no_such_entity(kind: &str, name: &str) -> ServiceError {
    ServiceError::no_such_entity(format!("The {kind} with name {name} cannot be found."))
}

pub(crate) fn already_exists(kind: &str, name: &str) -> ServiceError {
    ServiceError::new(409, "EntityAlreadyExists", format!("{kind} with name {name} already exists."))
}

pub(crate) fn delete_conflict(message: &str) -> ServiceError {
    ServiceError::new(409, "DeleteConflict", message)
}

pub(crate) fn limit_exceeded(message: impl Into<String>) -> ServiceError {
    ServiceError::new(409, "LimitExceeded", message)
}
