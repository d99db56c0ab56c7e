//! What the HTTP front door (`server`) and the S3 handlers agree on about the wire: the findings
//! the front door leaves in a request for the handlers to raise, and the errors for a body that
//! does not match its signed hash or stops arriving. Kept below both, so neither imports the other.

use http::StatusCode;
use s3s::{S3Error, S3ErrorCode};

pub const MALFORMED_XML: &str = "The XML you provided was not well-formed or did not validate against our published schema";

/// S3's message when `x-amz-*` headers were not signed (the front door adds the
/// `HeadersNotSigned` element naming them).
pub const HEADERS_NOT_SIGNED: &str = "There were headers present in the request which were not signed";

/// What the access check must refuse (stored in the request's extensions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    UnknownXmlElement,
    ContentSha256Mismatch,
    PolicyNotUtf8,
    /// `x-amz-*` headers outside SignedHeaders (403 AccessDenied).
    HeadersNotSigned,
    /// DeleteObjects without `Content-MD5` or an `x-amz-checksum-*` header.
    MissingContentMd5,
}

impl Refusal {
    pub fn to_s3_error(self) -> S3Error {
        match self {
            Self::HeadersNotSigned => S3Error::with_message(S3ErrorCode::AccessDenied, HEADERS_NOT_SIGNED),
            Self::MissingContentMd5 => {
                S3Error::with_message(S3ErrorCode::InvalidRequest, "Missing required header for this request: Content-MD5")
            }
            Self::UnknownXmlElement => S3Error::with_message(S3ErrorCode::MalformedXML, MALFORMED_XML),
            Self::ContentSha256Mismatch => sha256_mismatch(),
            Self::PolicyNotUtf8 => {
                S3Error::with_message(S3ErrorCode::MalformedPolicy, "Policies must be valid JSON and the first byte must be '{'")
            }
        }
    }
}

/// `XAmzContentSHA256Mismatch` (400), which `s3s` has no code for.
pub fn sha256_mismatch() -> S3Error {
    let mut err = S3Error::with_message(
        S3ErrorCode::Custom("XAmzContentSHA256Mismatch".into()),
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
    err.set_status_code(StatusCode::BAD_REQUEST);
    err
}

pub const REQUEST_TIMEOUT: &str = "Your socket connection to the server was not read from or written to within the timeout period.";

/// The start of the front door's idle-body error's message (s3s passes body errors on as text).
pub const BODY_IDLE: &str = "the client sent no request body bytes for";
