//! A minimal HTTP/1.1 client for the `/_xrepl` admin endpoints of a served emulator (used by the
//! CLI's health check and by harness backends that run the emulator in a container). It speaks
//! only to `http://host:port` URLs. Every request carries `x-xrepl-admin: 1`, which the emulator
//! requires on admin calls that change state.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("endpoint {0} is not an http://host:port URL")]
    BadEndpoint(String),
    #[error("cannot reach {endpoint}: {source}")]
    Io { endpoint: String, source: std::io::Error },
    #[error("no answer from {0} in time")]
    Timeout(String),
    #[error("malformed HTTP response from {0}")]
    Malformed(String),
}

/// Sends `method path` to the emulator at `endpoint`; returns status and body.
pub async fn request(endpoint: &str, method: &str, path: &str, timeout: Duration) -> Result<(u16, String), AdminError> {
    let host = endpoint
        .strip_prefix("http://")
        .map(|h| h.trim_end_matches('/'))
        .filter(|h| !h.is_empty() && !h.contains('/'))
        .ok_or_else(|| AdminError::BadEndpoint(endpoint.to_owned()))?;
    let io = |source| AdminError::Io { endpoint: endpoint.to_owned(), source };
    let exchange = async {
        let mut stream = TcpStream::connect(host).await.map_err(io)?;
        let request =
            format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nx-xrepl-admin: 1\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.map_err(io)?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.map_err(io)?;
        Ok::<_, AdminError>(raw)
    };
    let raw = tokio::time::timeout(timeout, exchange).await.map_err(|_| AdminError::Timeout(endpoint.to_owned()))??;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| AdminError::Malformed(endpoint.to_owned()))?;
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| AdminError::Malformed(endpoint.to_owned()))?;
    // Our admin responses are small and sent whole; chunked encoding only wraps the JSON.
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body) } else { body.to_owned() };
    Ok((status, body))
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { break };
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}
