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

/// An S3 client of account 111111111111, path style.
async fn s3_client(emu: &Emulator) -> aws_sdk_s3::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(emu.endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new("111111111111", "test", None, None, "test"))
        .load()
        .await;
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build())
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
    let s3 = s3_client(&emu).await;
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

/// One request on a fresh connection with `Connection: close`; the whole raw answer.
async fn raw_exchange(emu: &Emulator, request: &str) -> String {
    let mut stream = TcpStream::connect(emu.addr()).await.expect("connects");
    stream.write_all(request.as_bytes()).await.expect("sent");
    let mut answer = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut answer)).await.expect("answer");
    answer
}

/// aws-semantics §95 (test_s3_cors.snapshot.json, `TestS3Cors::test_cors_match_origins`,
/// `test_cors_http_options_no_config`, `test_cors_match_headers`): preflights and actual requests
/// answered as recorded, header names spelled as S3 spells them.
#[tokio::test]
async fn cors_preflights_and_actual_requests_answer_as_recorded() {
    use aws_sdk_s3::types::{CorsConfiguration, CorsRule};
    let emu = Emulator::start(EmulatorConfig::with_accounts(&["111111111111"])).await.expect("emulator starts");
    let s3 = s3_client(&emu).await;
    s3.create_bucket().bucket("cors-bucket").send().await.expect("bucket created");
    let preflight = |origin: &str, method: &str, headers: &str| {
        let mut request = String::from("OPTIONS /cors-bucket/key HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
        for (name, value) in [("Origin", origin), ("Access-Control-Request-Method", method), ("Access-Control-Request-Headers", headers)] {
            if !value.is_empty() {
                request.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        request + "\r\n"
    };

    let answer = raw_exchange(&emu, &preflight("", "", "")).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.contains("<Code>BadRequest</Code><Message>Insufficient information. Origin request header needed.</Message>"),
        "{answer}"
    );
    assert!(answer.contains("\r\nConnection: close\r\n") && answer.contains("\r\nTransfer-Encoding: chunked\r\n"), "{answer}");
    let answer = raw_exchange(&emu, &preflight("whatever", "PUT", "")).await;
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert!(
        answer.contains(
            "<Message>CORSResponse: CORS is not enabled for this bucket.</Message><Method>PUT</Method><ResourceType>BUCKET</ResourceType>"
        ),
        "{answer}"
    );

    let rule = CorsRule::builder()
        .allowed_origins("https://localhost:4200")
        .allowed_methods("GET")
        .allowed_methods("PUT")
        .allowed_headers("x-AMZ-expected-bucket-owner")
        .max_age_seconds(3000)
        .build()
        .expect("rule");
    let cors = CorsConfiguration::builder().cors_rules(rule).build().expect("configuration");
    s3.put_bucket_cors().bucket("cors-bucket").cors_configuration(cors).send().await.expect("cors set");

    let answer = raw_exchange(&emu, &preflight("https://localhost:4200", "PUT", "X-Amz-Expected-Bucket-Owner")).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    for line in [
        "Access-Control-Allow-Origin: https://localhost:4200",
        "Access-Control-Allow-Methods: GET, PUT",
        "Access-Control-Allow-Credentials: true",
        "Access-Control-Allow-Headers: x-amz-expected-bucket-owner",
        "Access-Control-Max-Age: 3000",
        "Vary: Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
        "Content-Length: 0",
        "server: AmazonS3",
    ] {
        assert!(answer.contains(&format!("\r\n{line}\r\n")), "{line} missing from {answer}");
    }
    // A wrong scheme is another origin; a header the rule does not name refuses the preflight.
    for refused in [preflight("http://localhost:4200", "PUT", ""), preflight("https://localhost:4200", "GET", "x-amz-request-payer")] {
        let answer = raw_exchange(&emu, &refused).await;
        assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
        assert!(answer.contains("<Code>AccessForbidden</Code><Message>CORSResponse: This CORS request is not allowed."), "{answer}");
        assert!(answer.contains("<ResourceType>OBJECT</ResourceType>"), "{answer}");
    }

    // An actual (here: refused, anonymous) request from an allowed origin still gets the rule's headers.
    let get = "GET /cors-bucket/key HTTP/1.1\r\nHost: localhost\r\nOrigin: https://localhost:4200\r\nConnection: close\r\n\r\n";
    let answer = raw_exchange(&emu, get).await;
    assert!(answer.contains("\r\nAccess-Control-Allow-Origin: https://localhost:4200\r\n"), "{answer}");
    assert!(!answer.contains("Access-Control-Allow-Headers"), "{answer}");
    let other = "GET /cors-bucket/key HTTP/1.1\r\nHost: localhost\r\nOrigin: https://elsewhere\r\nConnection: close\r\n\r\n";
    assert!(!raw_exchange(&emu, other).await.contains("Access-Control"), "no rule matches: no CORS headers");
}
