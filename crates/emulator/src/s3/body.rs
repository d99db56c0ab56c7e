//! Request and response bodies between the wire and the blob store. With a store that keeps
//! files (`--data-dir`), uploads stream into a staged file and downloads stream out of one, so a
//! large object never sits in memory whole; with the in-memory store bodies are buffers.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use s3s::dto::StreamingBlob;
use s3s::{s3_error, S3Error, S3ErrorCode, S3Result};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use super::checksum::{Algorithm, BodyDigest};
use crate::state::{Blob, BlobStore};

/// S3's largest single PUT (User Guide `upload-objects`: "upload a single object of up to 5 GB").
pub const MAX_SINGLE_PUT: u64 = 5 * 1024 * 1024 * 1024;

/// An upload that made it into the store.
pub struct Stored {
    pub blob: Blob,
    pub md5: [u8; 16],
    /// The body's checksum in the algorithm asked for (base64).
    pub checksum: String,
}

/// The S3 error for a request body that could not be read.
pub(crate) fn read_error(e: &dyn std::fmt::Display) -> S3Error {
    // s3s checks the signed x-amz-content-sha256 and each aws-chunked chunk's signature while
    // the body streams in (sigv4-streaming: a chunk that does not verify is SignatureDoesNotMatch).
    let text = e.to_string();
    if text.contains("Sha256Mismatch") {
        crate::wire::sha256_mismatch()
    } else if text.contains("AwsChunkedStreamError: SignatureMismatch") {
        S3Error::with_message(
            S3ErrorCode::SignatureDoesNotMatch,
            "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        )
    } else if text.contains(crate::wire::BODY_IDLE) {
        S3Error::with_message(S3ErrorCode::RequestTimeout, crate::wire::REQUEST_TIMEOUT)
    } else if text.contains(LENGTH_MISMATCH) {
        S3Error::with_message(
            S3ErrorCode::IncompleteBody,
            "You did not provide the number of bytes specified by the Content-Length HTTP header.",
        )
    } else {
        S3Error::with_message(S3ErrorCode::IncompleteBody, format!("could not read the request body: {text}"))
    }
}

const LENGTH_MISMATCH: &str = "the body's length is not the declared length";

/// A body error seen through [`exact_length`] (read errors keep their text for [`read_error`]).
#[derive(Debug, thiserror::Error)]
enum Unread {
    #[error("{0}")]
    Read(String),
    #[error("{LENGTH_MISMATCH}")]
    Length,
}

/// Refuses a declared upload over `limit` (Content-Length, which for an aws-chunked body is its
/// x-amz-decoded-content-length) before any of the body is read.
pub fn check_declared_size(content_length: Option<i64>, limit: u64) -> S3Result<()> {
    if content_length.is_some_and(|len| u64::try_from(len).unwrap_or(0) > limit) {
        return Err(too_large());
    }
    Ok(())
}

/// The body, failing (IncompleteBody) as soon as it has more bytes than `declared` and at its end
/// if it has fewer: hyper holds a plain body to Content-Length, but an aws-chunked body's decoded
/// length (x-amz-decoded-content-length, which s3s makes the Content-Length) is not checked.
pub fn exact_length(body: Option<StreamingBlob>, declared: Option<i64>) -> Option<StreamingBlob> {
    let (body, declared) = (body?, declared.and_then(|d| u64::try_from(d).ok()));
    let Some(declared) = declared else { return Some(body) };
    let stream = futures::stream::unfold((body, 0u64, false), move |(mut body, seen, done)| async move {
        if done {
            return None;
        }
        match body.next().await {
            Some(Ok(chunk)) => {
                let seen = seen + chunk.len() as u64;
                if seen > declared {
                    return Some((Err(Unread::Length), (body, seen, true)));
                }
                Some((Ok(chunk), (body, seen, false)))
            }
            Some(Err(e)) => Some((Err(Unread::Read(e.to_string())), (body, seen, true))),
            None if seen != declared => Some((Err(Unread::Length), (body, seen, true))),
            None => None,
        }
    });
    Some(StreamingBlob::wrap(stream))
}

fn io_error(e: &std::io::Error) -> S3Error {
    tracing::error!("object bytes could not be stored: {e}");
    S3Error::with_message(S3ErrorCode::InternalError, "We encountered an internal error. Please try again.")
}

/// Takes a request body into `store`, refusing more than `limit` bytes with `EntityTooLarge`;
/// its MD5 and its `algorithm` checksum are computed on the way.
pub async fn store_body(store: Arc<dyn BlobStore>, body: Option<StreamingBlob>, limit: u64, algorithm: Algorithm) -> S3Result<Stored> {
    let Some(staged) = store.staging_path() else {
        let data = super::read_body(body).await?;
        if data.len() as u64 > limit {
            return Err(too_large());
        }
        let mut digest = BodyDigest::new(algorithm);
        digest.update(&data);
        let (md5, checksum) = digest.finish();
        return Ok(Stored { blob: store.put(data), md5, checksum });
    };
    match stream_to_file(&staged, body, limit, BodyDigest::new(algorithm)).await {
        Ok((len, (md5, checksum))) => {
            let blob = tokio::task::spawn_blocking(move || {
                let adopted = store.adopt(&staged, len);
                if adopted.is_err() {
                    let _ = std::fs::remove_file(&staged);
                }
                adopted
            })
            .await
            .map_err(|e| io_error(&std::io::Error::other(e)))?
            .map_err(|e| io_error(&e))?;
            Ok(Stored { blob, md5, checksum })
        }
        Err(e) => {
            let _ = tokio::fs::remove_file(&staged).await;
            Err(e)
        }
    }
}

fn too_large() -> S3Error {
    s3_error!(EntityTooLarge, "Your proposed upload exceeds the maximum allowed size")
}

async fn stream_to_file(
    path: &Path,
    body: Option<StreamingBlob>,
    limit: u64,
    mut hasher: BodyDigest,
) -> S3Result<(usize, ([u8; 16], String))> {
    let mut file = tokio::fs::File::create(path).await.map_err(|e| io_error(&e))?;
    let mut len = 0u64;
    if let Some(mut body) = body {
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| read_error(&e))?;
            len += chunk.len() as u64;
            if len > limit {
                return Err(too_large());
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await.map_err(|e| io_error(&e))?;
        }
    }
    file.sync_all().await.map_err(|e| io_error(&e))?;
    let len = usize::try_from(len).map_err(|_| too_large())?;
    Ok((len, hasher.finish()))
}

/// A response body streamed from `path`, bytes `start..end`.
pub fn file_body(path: PathBuf, start: u64, end: u64) -> StreamingBlob {
    const CHUNK: usize = 256 * 1024;
    let stream = futures::stream::unfold((None::<tokio::fs::File>, start), move |(file, at)| {
        let path = path.clone();
        async move {
            if at >= end {
                return None;
            }
            let mut file = match file {
                Some(f) => f,
                None => {
                    let opened = async {
                        let mut f = tokio::fs::File::open(&path).await?;
                        f.seek(std::io::SeekFrom::Start(at)).await?;
                        Ok::<_, std::io::Error>(f)
                    };
                    match opened.await {
                        Ok(f) => f,
                        Err(e) => return Some((Err(e), (None, end))),
                    }
                }
            };
            let want = usize::try_from((end - at).min(CHUNK as u64)).unwrap_or(CHUNK);
            let mut buf = vec![0u8; want];
            match file.read(&mut buf).await {
                Ok(0) => Some((Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof)), (None, end))),
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(Bytes::from(buf)), (Some(file), at + n as u64)))
                }
                Err(e) => Some((Err(e), (None, end))),
            }
        }
    });
    StreamingBlob::wrap(stream)
}
