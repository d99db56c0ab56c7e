//! The HTTP front door over a raw socket.
//!
//! `Expect: 100-continue` answered early: the connection must either stay usable or be announced
//! closed (`Connection: close`), never closed silently under a client that will reuse it (RFC 9110
//! 10.1.1: a server that answers before reading the body "SHOULD indicate in that response whether
//! it intends to close the connection"). And a SigV4 scope with an empty region gets S3's answer.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use xrepl_emulator::{Emulator, EmulatorConfig};

/// Reads one response (status line, headers, Content-Length body); None if the peer closed first.
async fn read_response(stream: &mut TcpStream) -> Option<(u16, Vec<(String, String)>)> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut byte)).await {
            Ok(Ok(1)) => buf.push(byte[0]),
            _ => return None,
        }
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned())).collect();
    let length: usize = headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0u8; length];
    tokio::time::timeout(Duration::from_secs(10), stream.read_exact(&mut body)).await.ok()?.ok()?;
    Some((status, headers))
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Sends a PUT with `Expect: 100-continue` and no body yet; returns the early answer.
async fn early_answer(stream: &mut TcpStream, path: &str) -> (u16, Vec<(String, String)>) {
    let request = format!("PUT {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("request sent");
    let (status, headers) = read_response(stream).await.expect("an answer to the PUT");
    assert_ne!(status, 100, "no body will come: the server must answer with a final status");
    (status, headers)
}

/// After the early answer, the connection is either announced closed (and then closed) or still
/// serves the next request.
async fn connection_is_honest(stream: &mut TcpStream, headers: &[(String, String)]) {
    if header(headers, "connection").is_some_and(|v| v.eq_ignore_ascii_case("close")) {
        let mut rest = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut rest)).await.expect("the server closes");
        assert!(matches!(read, Ok(0) | Err(_)), "announced close, but the connection stays open");
        return;
    }
    let next = "GET /_xrepl/health HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let sent = stream.write_all(next.as_bytes()).await;
    let answer = match sent {
        Ok(()) => read_response(stream).await,
        Err(_) => None,
    };
    let (status, _) = answer.expect("the connection was closed without `Connection: close` after an early answer");
    assert_eq!(status, 200);
}

#[tokio::test]
async fn early_404_to_expect_continue_is_announced_or_keeps_the_connection() {
    let emu = Emulator::start(EmulatorConfig::with_accounts(&["111111111111"])).await.expect("emulator starts");
    let mut stream = TcpStream::connect(emu.addr()).await.expect("connects");
    // No such bucket (anonymous): S3 answers before it wants the body.
    let (status, headers) = early_answer(&mut stream, "/no-such-bucket-here/key").await;
    assert!(status == 404 || status == 403, "status {status}");
    connection_is_honest(&mut stream, &headers).await;
}

#[tokio::test]
async fn early_403_to_expect_continue_is_announced_or_keeps_the_connection() {
    let emu = Emulator::start(EmulatorConfig::with_accounts(&["111111111111"])).await.expect("emulator starts");
    let s3 = {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(emu.endpoint())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_credential_types::Credentials::new("111111111111", "test", None, None, "test"))
            .load()
            .await;
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build())
    };
    s3.create_bucket().bucket("private-bucket").send().await.expect("bucket created");
    let mut stream = TcpStream::connect(emu.addr()).await.expect("connects");
    // An anonymous PUT into a private bucket: refused before the body is read.
    let (status, headers) = early_answer(&mut stream, "/private-bucket/key").await;
    assert_eq!(status, 403);
    connection_is_honest(&mut stream, &headers).await;
}

#[tokio::test]
async fn expect_continue_with_the_body_sent_keeps_the_connection() {
    let emu = Emulator::start(EmulatorConfig::with_accounts(&["111111111111"])).await.expect("emulator starts");
    let mut stream = TcpStream::connect(emu.addr()).await.expect("connects");
    // The admin endpoint reads the body: 100 Continue, then the answer, and the connection stays.
    let request = "PUT /_xrepl/oidc/jwks?issuer=https://idp.example HTTP/1.1\r\nHost: localhost\r\nx-xrepl-admin: 1\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n";
    stream.write_all(request.as_bytes()).await.expect("request sent");
    let (status, _) = read_response(&mut stream).await.expect("100 Continue");
    assert_eq!(status, 100);
    stream.write_all(b"{\"keys\":[]}").await.expect("body sent");
    let (status, headers) = read_response(&mut stream).await.expect("final answer");
    assert_eq!(status, 200);
    assert!(header(&headers, "connection").is_none_or(|v| !v.eq_ignore_ascii_case("close")), "{headers:?}");
    connection_is_honest(&mut stream, &headers).await;
}

#[tokio::test]
async fn an_empty_region_in_the_credential_scope_gets_s3s_message() {
    let emu = Emulator::start(EmulatorConfig::with_accounts(&["111111111111"])).await.expect("emulator starts");
    let mut stream = TcpStream::connect(emu.addr()).await.expect("connects");
    // What boto3 sends when a client is made with region_name='' (the signature is never reached).
    let request = "PUT /some-bucket HTTP/1.1\r\nHost: localhost\r\nx-amz-date: 20261201T120000Z\r\n\
        x-amz-content-sha256: UNSIGNED-PAYLOAD\r\n\
        Authorization: AWS4-HMAC-SHA256 Credential=111111111111/20261201//s3/aws4_request, \
        SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=00\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    stream.write_all(request.as_bytes()).await.expect("sent");
    let mut answer = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut answer)).await.expect("answer");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("<Code>AuthorizationHeaderMalformed</Code>"), "{answer}");
    assert!(answer.contains("The authorization header is malformed; a non-empty region must be provided in the credential."), "{answer}");
}
