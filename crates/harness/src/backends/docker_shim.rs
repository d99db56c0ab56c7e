//! Lets testcontainers 0.27 talk to Docker engines older than the API it pins.
//!
//! testcontainers 0.27.3 builds its bollard client with bollard's `API_DEFAULT_VERSION` (1.52,
//! Docker 29) and never negotiates, so an older engine answers every call with "client version
//! 1.52 is too new. Maximum supported API version is 1.41" (Docker 20.10, Debian 12's). The shim
//! is a local HTTP proxy that strips the `/v1.NN` prefix, so the engine answers in its own API
//! version, and forwards to the engine's unix socket. The calls testcontainers makes (image
//! inspect, container create/start/inspect/logs/remove) have the same shape in both versions.
//!
//! It serves 127.0.0.1 only and lives on its own thread and runtime for the whole process, because
//! testcontainers caches its Docker client across tests (each with its own runtime).

use std::path::PathBuf;
use std::sync::OnceLock;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// Where the shim listens, `tcp://127.0.0.1:PORT`, or why it could not start.
static SHIM: OnceLock<Result<String, String>> = OnceLock::new();

/// The engine socket a shim forwards to: `DOCKER_HOST` when it is `unix://`, else the default.
fn upstream_socket() -> Result<PathBuf, String> {
    match std::env::var("DOCKER_HOST") {
        Err(_) => Ok(PathBuf::from("/var/run/docker.sock")),
        Ok(host) => match host.strip_prefix("unix://") {
            Some(path) => Ok(PathBuf::from(path)),
            None => Err(format!("DOCKER_HOST={host} is not a unix socket, and this engine needs the API-version shim")),
        },
    }
}

/// Starts the shim once per process and points testcontainers at it (via `DOCKER_HOST`, which
/// its client reads when it is created). Returns the shim's address.
pub fn ensure() -> Result<String, String> {
    SHIM.get_or_init(|| {
        let upstream = upstream_socket()?;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot bind the Docker API shim: {e}"))?;
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        std::thread::Builder::new()
            .name("xrepl-docker-shim".to_owned())
            .spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
                rt.block_on(serve(listener, upstream));
            })
            .map_err(|e| format!("cannot start the Docker API shim thread: {e}"))?;
        let host = format!("tcp://{addr}");
        // testcontainers has no other way to be told where Docker is. Set once, before the first
        // container, under the OnceLock; Rust's env functions are internally synchronised.
        std::env::set_var("DOCKER_HOST", &host);
        Ok(host)
    })
    .clone()
}

async fn serve(listener: std::net::TcpListener, upstream: PathBuf) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let upstream = upstream.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| forward(req, upstream.clone()));
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

type ShimBody = http_body_util::combinators::BoxBody<bytes::Bytes, hyper::Error>;

async fn forward(mut req: Request<Incoming>, upstream: PathBuf) -> Result<Response<ShimBody>, std::io::Error> {
    let stripped = strip_version(req.uri().path_and_query().map_or("/", |p| p.as_str()));
    *req.uri_mut() = stripped.parse().map_err(std::io::Error::other)?;
    let stream = tokio::net::UnixStream::connect(&upstream).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(std::io::Error::other)?;
    tokio::spawn(conn);
    let response = sender.send_request(req).await.map_err(std::io::Error::other)?;
    Ok(response.map(BodyExt::boxed))
}

/// `/v1.52/containers/json?all=1` → `/containers/json?all=1`.
fn strip_version(path_and_query: &str) -> String {
    if let Some(rest) = path_and_query.strip_prefix("/v") {
        if let Some(slash) = rest.find('/') {
            if rest[..slash].chars().all(|c| c.is_ascii_digit() || c == '.') && slash > 0 {
                return rest[slash..].to_owned();
            }
        }
    }
    path_and_query.to_owned()
}

#[cfg(test)]
mod tests {
    use super::strip_version;

    #[test]
    fn strips_only_a_version_prefix() {
        assert_eq!(strip_version("/v1.52/containers/json?all=1"), "/containers/json?all=1");
        assert_eq!(strip_version("/version"), "/version");
        assert_eq!(strip_version("/volumes/x"), "/volumes/x");
        assert_eq!(strip_version("/_ping"), "/_ping");
    }
}
