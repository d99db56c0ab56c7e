//! Response header names spelled as S3 spells them (`ETag`, `Content-Length`, `x-amz-request-id`).
//!
//! HTTP header names are case-insensitive and hyper writes them in lower case, which every SDK
//! accepts. Browsers' CORS checks and clients that compare raw header names do not always, and the
//! recordings of S3's answers keep its spelling. hyper writes a response's names in the spelling
//! its `HeaderCaseMap` extension records, a type it only makes when it parses a request with
//! `preserve_header_case`. So the map is made once, by letting hyper parse a request whose headers
//! are spelled the way S3 answers, and every response carries a copy of it.

use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Names S3 sends capitalized; every other name (`x-amz-*`, `date`, `server`, …) stays lower case.
const AWS_SPELLING: &[&str] = &[
    "Access-Control-Allow-Credentials",
    "Access-Control-Allow-Headers",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Origin",
    "Access-Control-Expose-Headers",
    "Access-Control-Max-Age",
    "Cache-Control",
    "Connection",
    "Content-Disposition",
    "Content-Encoding",
    "Content-Language",
    "Content-Length",
    "Content-Range",
    "Content-Type",
    "ETag",
    "Expires",
    "Last-Modified",
    "Location",
    "Transfer-Encoding",
    "Vary",
];

/// The extensions that make hyper spell a response's header names as S3 does, or empty ones (lower
/// case names) if hyper did not produce them.
pub async fn aws_spelling() -> http::Extensions {
    let (mut client, server) = tokio::io::duplex(16 * 1024);
    let (sender, received) = tokio::sync::oneshot::channel();
    let sender = std::sync::Mutex::new(Some(sender));
    let service = hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
        if let Some(sender) = sender.lock().ok().and_then(|mut s| s.take()) {
            let _ = sender.send(req.extensions().clone());
        }
        async { Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Empty::<bytes::Bytes>::new())) }
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.preserve_header_case(true).keep_alive(false);
    let connection = tokio::spawn(http.serve_connection(TokioIo::new(server), service));
    // Every name once. Content-Length comes before Transfer-Encoding: hyper then drops the length
    // (the body is chunked, and empty) but still records how both were spelled.
    let mut request = String::from("GET / HTTP/1.1\r\nhost: spelling\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n");
    for name in AWS_SPELLING.iter().filter(|n| !matches!(**n, "Content-Length" | "Transfer-Encoding" | "Connection")) {
        request.push_str(&format!("{name}: x\r\n"));
    }
    request.push_str("Connection: close\r\n\r\n0\r\n\r\n");
    let spelled = async {
        client.write_all(request.as_bytes()).await.ok()?;
        let extensions = received.await.ok()?;
        let mut sink = Vec::new();
        let _ = client.read_to_end(&mut sink).await;
        Some(extensions)
    };
    let extensions = tokio::time::timeout(std::time::Duration::from_secs(5), spelled).await.ok().flatten();
    connection.abort();
    extensions.unwrap_or_default()
}
