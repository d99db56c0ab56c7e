//! The S3 Control errors the jobs API answers with. A leaf of `s3control`, so the request parser
//! (`request`) and the handlers (`mod.rs`) share them without using each other.

use crate::error::ServiceError;

pub fn bad_request(message: impl Into<String>) -> ServiceError {
    ServiceError::bad_request("BadRequestException", message)
}

pub(super) fn not_found(id: &str) -> ServiceError {
    ServiceError::new(404, "NotFoundException", format!("The specified job {id} does not exist"))
}

pub(super) fn access_denied() -> ServiceError {
    ServiceError::access_denied("Access Denied")
}
