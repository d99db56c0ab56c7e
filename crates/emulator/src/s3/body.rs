//! Request and response bodies between the wire and the blob store. With a store that keeps
//! files (`--data-dir`), uploads stream into a staged file and downloads stream out of one, so a
//! large object never sits in memory whole; with the in-memory store bodies are buffers.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use s3s::dto::StreamingBlob;
use s3s::{s3_error, S3Error, S3ErrorCode, S3Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::checksum::{BodyDigest, Digests};
use crate::state::files::crc64_digest;
use crate::state::{Blob, BlobStore};

/// S3's largest single PUT (User Guide `upload-objects`: "upload a single object of up to 5 GB").
pub const MAX_SINGLE_PUT: u64 = 5 * 1024 * 1024 * 1024;

/// An upload that made it into the store.
pub struct Stored {
    pub blob: Blob,
    pub md5: [u8; 16],
    /// The body's checksum in the algorithm asked for (base64).
    pub checksum: String,
    /// The checksum in the other algorithm the digest was also [`BodyDigest::checking`].
    pub checked: Option<String>,
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
/// its digests (`digest`: MD5 and checksums) are computed on the way.
pub async fn store_body(store: Arc<dyn BlobStore>, body: Option<StreamingBlob>, limit: u64, digest: BodyDigest) -> S3Result<Stored> {
    let Some(staged) = store.staging_path() else {
        let data = super::body::read_body(body).await?;
        if data.len() as u64 > limit {
            return Err(too_large());
        }
        let mut digest = digest;
        digest.update(&data);
        let Digests { md5, checksum, checked } = digest.finish();
        return Ok(Stored { blob: store.put(data), md5, checksum, checked });
    };
    match stream_to_file(&staged, body, limit, digest).await {
        Ok((len, crc64, Digests { md5, checksum, checked })) => {
            let blob = tokio::task::spawn_blocking(move || {
                let adopted = store.adopt(&staged, len, crc64);
                if adopted.is_err() {
                    let _ = std::fs::remove_file(&staged);
                }
                adopted
            })
            .await
            .map_err(|e| io_error(&std::io::Error::other(e)))?
            .map_err(|e| io_error(&e))?;
            Ok(Stored { blob, md5, checksum, checked })
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

async fn stream_to_file(path: &Path, body: Option<StreamingBlob>, limit: u64, mut hasher: BodyDigest) -> S3Result<(usize, u64, Digests)> {
    let mut file = tokio::fs::File::create(path).await.map_err(|e| io_error(&e))?;
    let mut len = 0u64;
    // The blob's own checksum, kept to detect damage at rest (whatever the client asked for).
    let mut crc64 = crc64_digest();
    if let Some(mut body) = body {
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| read_error(&e))?;
            len += chunk.len() as u64;
            if len > limit {
                return Err(too_large());
            }
            hasher.update(&chunk);
            crc64.update(&chunk);
            file.write_all(&chunk).await.map_err(|e| io_error(&e))?;
        }
    }
    file.sync_all().await.map_err(|e| io_error(&e))?;
    let len = usize::try_from(len).map_err(|_| too_large())?;
    Ok((len, crc64.finalize(), hasher.finish()))
}

/// Objects up to this size are read whole and checked before the first byte is sent, so damage
/// is answered 500 InternalError; larger ones are checked while they stream (docs/decisions.md,
/// "Integrity at rest").
pub const CHECKED_BEFORE_SENDING: u64 = 16 * 1024 * 1024;

/// An object's bytes in a file, to be served checked: bytes `start..end` of the blob.
pub struct FileRead {
    pub file: std::fs::File,
    pub path: PathBuf,
    pub blob: Blob,
    pub start: u64,
    pub end: u64,
    /// The object, for the log: `bucket/key (version)`.
    pub object: String,
}

fn damaged_object(read: &FileRead, why: &str) -> S3Error {
    tracing::error!("object {} is damaged at rest: its file {} {why}; it is not served", read.object, read.path.display());
    S3Error::with_message(S3ErrorCode::InternalError, "We encountered an internal error. Please try again.")
}

/// The body of a GET from a file, never wrong bytes answered as complete: an object up to
/// [`CHECKED_BEFORE_SENDING`] is read and checked first (damage: 500, nothing sent); a larger one
/// is read whole while it streams (for a range too) and the last chunk is held back until the
/// whole file has been checked, so damage ends the transfer short of its Content-Length.
pub async fn checked_file_body(read: FileRead) -> S3Result<StreamingBlob> {
    let expected = read.blob.len() as u64;
    if expected <= CHECKED_BEFORE_SENDING {
        let mut file =
            tokio::fs::File::from_std(read.file.try_clone().map_err(|e| damaged_object(&read, &format!("cannot be read: {e}")))?);
        let mut bytes = Vec::with_capacity(read.blob.len());
        // One byte more than written shows a file that grew.
        (&mut file).take(expected + 1).read_to_end(&mut bytes).await.map_err(|e| damaged_object(&read, &format!("cannot be read: {e}")))?;
        crate::state::files::check(&read.blob, &bytes).map_err(|why| damaged_object(&read, &format!("holds {why}")))?;
        let (start, end) = (usize::try_from(read.start).unwrap_or(0), usize::try_from(read.end).unwrap_or(0).min(bytes.len()));
        return Ok(StreamingBlob::from(s3s::Body::from(Bytes::from(bytes).slice(start.min(end)..end))));
    }
    let state = Checking {
        file: tokio::fs::File::from_std(read.file.try_clone().map_err(|e| damaged_object(&read, &format!("cannot be read: {e}")))?),
        at: 0,
        digest: crc64_digest(),
        held: None,
        done: false,
        read,
    };
    Ok(StreamingBlob::wrap(futures::stream::unfold(state, Checking::next)))
}

/// A large file being streamed and checked: see [`checked_file_body`].
struct Checking {
    file: tokio::fs::File,
    read: FileRead,
    at: u64,
    digest: crc_fast::Digest,
    /// The latest chunk of the range, sent only once the next one (or the whole check) is done.
    held: Option<Bytes>,
    done: bool,
}

impl Checking {
    async fn next(mut self) -> Option<(Result<Bytes, std::io::Error>, Self)> {
        const CHUNK: usize = 256 * 1024;
        let len = self.read.blob.len() as u64;
        loop {
            if self.done {
                return None;
            }
            if self.at >= len {
                self.done = true;
                let mut extra = [0u8; 1];
                let grew = matches!(self.file.read(&mut extra).await, Ok(n) if n > 0);
                let found = self.digest.finalize();
                let why = if grew {
                    Some(format!("holds more than the {len} bytes written"))
                } else {
                    self.read
                        .blob
                        .crc64()
                        .filter(|expected| *expected != found)
                        .map(|expected| format!("holds bytes whose CRC64NVME is {found:016x} where {expected:016x} was written"))
                };
                if let Some(why) = why {
                    let _ = damaged_object(&self.read, &why);
                    return Some((Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "the object is damaged at rest")), self));
                }
                return self.held.take().map(|chunk| (Ok(chunk), self));
            }
            let want = usize::try_from((len - self.at).min(CHUNK as u64)).unwrap_or(CHUNK);
            let mut buf = vec![0u8; want];
            let n = match self.file.read(&mut buf).await {
                Ok(0) => {
                    self.done = true;
                    let why = format!("holds {} bytes where {len} were written", self.at);
                    let _ = damaged_object(&self.read, &why);
                    return Some((Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "the object is damaged at rest")), self));
                }
                Ok(n) => n,
                Err(e) => {
                    self.done = true;
                    let _ = damaged_object(&self.read, &format!("cannot be read: {e}"));
                    return Some((Err(e), self));
                }
            };
            buf.truncate(n);
            self.digest.update(&buf);
            let chunk_start = self.at;
            self.at += n as u64;
            let (lo, hi) = (chunk_start.max(self.read.start), self.at.min(self.read.end));
            if lo < hi {
                let piece =
                    Bytes::from(buf).slice(usize::try_from(lo - chunk_start).unwrap_or(0)..usize::try_from(hi - chunk_start).unwrap_or(0));
                if let Some(previous) = self.held.replace(piece) {
                    return Some((Ok(previous), self));
                }
            }
        }
    }
}

/// Collects a request body into one buffer of exactly its size (kept whole in memory).
pub(crate) async fn read_body(body: Option<StreamingBlob>) -> S3Result<Bytes> {
    let Some(body) = body else { return Ok(Bytes::new()) };
    let chunks: Vec<Bytes> = body.try_collect().await.map_err(|e| read_error(&e))?;
    // Always one exact-size copy: a single chunk is a slice of hyper's 8 KiB read buffer, and
    // keeping it would pin that whole buffer for the object's lifetime (measured: 8 KiB per
    // small object). From here on the bytes are shared, never copied again.
    let mut all = Vec::with_capacity(chunks.iter().map(Bytes::len).sum());
    for c in chunks {
        all.extend_from_slice(&c);
    }
    Ok(Bytes::from(all))
}
