//! The HTTP front door: one port for S3, IAM, STS and KMS, plus the `/_xrepl` admin endpoints.
//!
//! Requests are dispatched on the SigV4 credential scope's service: `iam`, `sts` and `kms` are
//! verified and answered here (Query and JSON protocols), as are S3 Control's jobs requests
//! (path `/v20180820/`, [`crate::s3control`]); everything else goes to `s3s`, which verifies S3
//! signatures itself and calls [`crate::s3::S3Api`].

mod admin;
pub mod admin_client;
pub mod conn;
mod control;
mod cors;
pub mod guard;
mod header_case;
mod query;
mod s3_errors;
mod signature;
pub mod sigv4;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper_util::rt::{TokioIo, TokioTimer};
use s3s::service::{S3Service, S3ServiceBuilder};
use s3s::{Body, HttpError};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::config::EmulatorConfig;
use crate::error::EmulatorError;
use crate::replication::ReplicationControl;
pub use crate::runtime::Shared;
use crate::state::AccountInfo;

pub use self::admin::is_loopback as is_loopback_host;
use self::conn::IdleBody;

/// A running emulator. Dropping it stops the listener and the replication worker.
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl Emulator {
    /// Binds (port 0 picks a free port), starts serving and the replication worker.
    pub async fn start(config: EmulatorConfig) -> Result<Self, EmulatorError> {
        for account in config.accounts.iter().chain(config.root_keys.iter().map(|k| &k.account_id)) {
            if !crate::config::is_account_id(account) {
                return Err(EmulatorError::Config(format!("account id {account:?} is not 12 digits")));
            }
        }
        let bind = format!("{}:{}", config.host, config.port);
        let listener = TcpListener::bind(&bind).await.map_err(|source| EmulatorError::Bind { addr: bind.clone(), source })?;
        let addr = listener.local_addr().map_err(|source| EmulatorError::Bind { addr: bind, source })?;
        let shared = Shared::open(config)?;
        let worker = crate::replication::spawn_worker(&shared);
        let rtc = crate::replication::spawn_rtc_watcher(&shared);
        let s3 = Arc::new(build_s3_service(&shared));
        let accept = tokio::spawn(accept_loop(listener, Arc::clone(&shared), s3));
        Ok(Self { addr, shared, tasks: vec![worker, rtc, accept] })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` — give it to SDKs as the endpoint URL (path-style for S3).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn region(&self) -> &str {
        &self.shared.config.region
    }

    pub fn account(&self, id: &str) -> Option<AccountInfo> {
        self.shared.world().account_info(id)
    }

    /// Creates an account (idempotent) and returns its keys and canonical id.
    pub fn add_account(&self, id: &str) -> Result<AccountInfo, EmulatorError> {
        if !crate::config::is_account_id(id) {
            return Err(EmulatorError::Config(format!("account id {id:?} is not 12 digits")));
        }
        let mut world = self.shared.world();
        world.ensure_account(id);
        world.account_info(id).ok_or_else(|| EmulatorError::Config(format!("account {id} vanished")))
    }

    pub fn accounts(&self) -> Vec<AccountInfo> {
        let world = self.shared.world();
        world.accounts.keys().filter_map(|id| world.account_info(id)).collect()
    }

    pub fn replication(&self) -> &ReplicationControl {
        &self.shared.replication
    }

    /// Empties the emulator between tests without a restart: everything (back to the configured
    /// accounts), or one account's buckets, IAM entities, KMS keys and non-root keys.
    pub fn reset(&self, account: Option<&str>) -> Result<(), EmulatorError> {
        Ok(self.shared.reset(account)?)
    }

    /// How long a RestoreObject of an archived object takes before the copy can be read
    /// (0, the default, restores at once).
    pub fn set_restore_latency(&self, latency: std::time::Duration) {
        self.shared.world().restore_latency = latency;
    }

    /// Runs every bucket's lifecycle rules once, as if `offset` had passed (S3 runs them daily):
    /// expirations, transitions, noncurrent-version rules and incomplete-upload aborts.
    pub fn run_lifecycle(&self, offset: std::time::Duration) -> Result<crate::s3::lifecycle::LifecycleReport, EmulatorError> {
        let offset = time::Duration::try_from(offset).map_err(|e| EmulatorError::Config(format!("lifecycle offset: {e}")))?;
        Ok(crate::s3::lifecycle::run_and_commit(&self.shared, offset)?)
    }

    /// Waits until no replication work is runnable (parked work for unavailable buckets excepted).
    pub async fn drain(&self) {
        self.shared.replication.drain().await;
    }

    /// Serves until the process receives Ctrl-C / SIGTERM, or (with
    /// [`EmulatorConfig::exit_when_lease_expires`]) until a taken lease runs out.
    pub async fn run_until_signal(self) {
        let shared = Arc::clone(&self.shared);
        tokio::select! {
            () = Self::signalled() => {}
            () = Self::lease_expired(shared) => tracing::info!("the lease was not renewed in time: exiting"),
        }
    }

    /// Returns once a lease was taken and ran out; never when the configuration does not ask.
    async fn lease_expired(shared: Arc<Shared>) {
        if !shared.config.exit_when_lease_expires {
            return std::future::pending().await;
        }
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(250));
        loop {
            tick.tick().await;
            if shared.lease.expired() {
                return;
            }
        }
    }

    async fn signalled() {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = ctrl_c.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        if let Some(persist) = &self.shared.persist {
            persist.close();
        }
    }
}

fn build_s3_service(shared: &Arc<Shared>) -> S3Service {
    let mut builder = S3ServiceBuilder::new(crate::s3::S3Api::new(Arc::clone(shared)));
    builder.set_auth(crate::s3::WorldAuth::new(Arc::clone(shared)));
    builder.set_access(crate::s3::AuthorizeInHandlers);
    builder.build()
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, s3: Arc<S3Service>) {
    let limits = shared.config.limits;
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let gate = Arc::new(conn::Gate::new(limits.max_pending_connections));
    let first_header = limits.first_header_timeout.min(limits.header_read_timeout);
    let spelling = Arc::new(header_case::aws_spelling().await);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout).keep_alive(true);
    loop {
        // Never waits for a slot: a connection that sends its request at once must not queue
        // behind connections that dribble their headers (the gate closes the oldest of those).
        let stream = conn::next_connection(&listener).await;
        let waiter = Arc::new(conn::Waiter::default());
        gate.waiting(&waiter);
        let started = Arc::new(AtomicBool::new(false));
        let (shared, s3, http, gate, slots, spelling) =
            (Arc::clone(&shared), Arc::clone(&s3), http.clone(), Arc::clone(&gate), Arc::clone(&slots), Arc::clone(&spelling));
        tokio::spawn(async move {
            let (in_service, gate_in_service, started_in_service) = (Arc::clone(&waiter), Arc::clone(&gate), Arc::clone(&started));
            let service = hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                started_in_service.store(true, Ordering::Release);
                gate_in_service.serving(&in_service);
                let (shared, s3, gate, waiter, slots, spelling) = (
                    Arc::clone(&shared),
                    Arc::clone(&s3),
                    Arc::clone(&gate_in_service),
                    Arc::clone(&in_service),
                    Arc::clone(&slots),
                    Arc::clone(&spelling),
                );
                let expects_continue =
                    req.headers().get(http::header::EXPECT).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
                let req = req.map(|body| IdleBody::new(body, limits.body_idle_timeout));
                let read = req.body().read_state();
                async move {
                    // A request slot, held until the response is sent (the semaphore is never closed).
                    let slot = slots.acquire_owned().await.ok();
                    let mut response = dispatch(shared, s3, req).await?;
                    response.extensions_mut().extend((*spelling).clone());
                    // Answered before the body was read (an early 403/404 to `Expect:
                    // 100-continue`): hyper will not reuse the connection, so say so, or a
                    // client that reuses it sends its next request into a closed socket.
                    if expects_continue && !read.finished() {
                        response.headers_mut().insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
                    }
                    Ok::<_, HttpError>(response.map(|body| conn::Tracked::new(body, gate, waiter, slot)))
                }
            });
            {
                let connection = http.serve_connection(TokioIo::new(stream), service);
                tokio::pin!(connection);
                let first_request = async {
                    tokio::time::sleep(first_header).await;
                    if started.load(Ordering::Acquire) {
                        std::future::pending::<()>().await;
                    }
                };
                // Dropping the connection closes it: evicted by the gate, or no first request in time.
                tokio::select! {
                    _ = &mut connection => {}
                    () = waiter.evicted() => {}
                    () = first_request => {}
                }
            }
            gate.serving(&waiter);
        });
    }
}

/// Largest body accepted by the Query/JSON services (IAM's largest document is far smaller).
const QUERY_BODY_LIMIT: usize = 1024 * 1024;

async fn dispatch(shared: Arc<Shared>, s3: Arc<S3Service>, req: http::Request<IdleBody>) -> Result<http::Response<Body>, HttpError> {
    let reads_only = matches!(*req.method(), http::Method::GET | http::Method::HEAD);
    let response = route(Arc::clone(&shared), s3, req).await?;
    if reads_only || shared.persist.is_none() {
        return Ok(response);
    }
    // Durable mode: what this request changed is committed (fsync) before it is acknowledged.
    let committed = tokio::task::spawn_blocking(move || shared.checkpoint(&[])).await;
    match committed {
        Ok(Ok(())) => Ok(response),
        Ok(Err(e)) => {
            tracing::error!("the change could not be made durable: {e}");
            Ok(s3_errors::internal_error())
        }
        Err(e) => {
            tracing::error!("the checkpoint task failed: {e}");
            Ok(s3_errors::internal_error())
        }
    }
}

async fn route(shared: Arc<Shared>, s3: Arc<S3Service>, req: http::Request<IdleBody>) -> Result<http::Response<Body>, HttpError> {
    if req.uri().path().starts_with("/_xrepl/") {
        let (parts, body) = req.into_parts();
        let body = collect(body).await.unwrap_or_default();
        return Ok(admin::handle(&shared, &parts, &body).await);
    }
    // S3 Control (Batch Operations jobs) signs for `s3` too: its path tells it apart.
    if let Some(account) = control::control_account(&req) {
        let (parts, body) = req.into_parts();
        return Ok(match collect(body).await {
            Ok(body) => control::handle(&shared, &parts, &body, &account),
            Err(_) => control::too_large(),
        });
    }
    let service = sigv4::credential_service(req.headers(), req.uri().query());
    let query_service = match service.as_deref() {
        Some(s @ ("iam" | "sts" | "kms")) => Some(s.to_owned()),
        Some(_) => None,
        None => query::unsigned_service(&req),
    };
    if let Some(service) = query_service {
        let (parts, body) = req.into_parts();
        let response = match collect(body).await {
            Ok(body) => query::handle(&shared, &service, &parts, &body),
            Err(Unread::TooLarge) => query::too_large(&service),
            Err(Unread::Idle) => query::timed_out(&service),
        };
        return Ok(response);
    }
    serve_s3(&shared, &s3, req).await
}

/// An S3 request: the front door's checks (`guard`), then `s3s`, then the answer made AWS's shape.
async fn serve_s3(shared: &Shared, s3: &S3Service, req: http::Request<IdleBody>) -> Result<http::Response<Body>, HttpError> {
    if req.method() == http::Method::OPTIONS {
        let (parts, _) = req.into_parts();
        return Ok(cors::preflight(shared, &parts));
    }
    let mut asked = Asked {
        method: req.method().clone(),
        service_root: req.method() == http::Method::GET && req.uri().path() == "/",
        attributes: req.method() == http::Method::GET && req.uri().query().is_some_and(|q| q.split('&').any(|p| p == "attributes")),
        unsigned: guard::unsigned_amz_headers(req.headers(), req.uri().query()),
        signed: signature::SignedParts::of(&req),
        bucket: cors::bucket_and_key(req.uri().path()).0,
    };
    if let Some(refused) = guard::precheck(&req) {
        return Ok(as_aws_answers(refused, &mut asked));
    }
    // A browser's request (it names its `Origin`) gets the bucket's CORS headers on its answer.
    let cors_request = req.headers().contains_key(http::header::ORIGIN).then(|| (req.uri().path().to_owned(), req.headers().clone()));
    // A presigned URL cannot have signed a header added after it was made: S3 names such headers
    // before it checks the signature (as recorded: `test_put_url_metadata_with_sig_s3v4` →
    // `wrong-meta-headers`); a header-signed request gets SignatureDoesNotMatch first.
    if asked.unsigned.is_some() && req.uri().query().is_some_and(|q| q.contains("X-Amz-Signature=")) {
        let refused = guard::error_response(http::StatusCode::FORBIDDEN, "AccessDenied", guard::HEADERS_NOT_SIGNED);
        return Ok(as_aws_answers(refused, &mut asked));
    }
    let mut req = req;
    if let Some(refusal) = guard::header_refusal(&req) {
        req.extensions_mut().insert(refusal);
    }
    let req = match guard::mark(req).await {
        Ok(req) => req,
        Err(refused) => return Ok(as_aws_answers(refused, &mut asked)),
    };
    let response = s3.call(req).await?;
    let mut response = as_aws_answers(response, &mut asked);
    if let Some((path, headers)) = cors_request {
        cors::on_answer(shared, &path, &asked.method, &headers, &mut response);
    }
    Ok(response)
}

/// What the answer to an S3 request depends on, taken from the request before `s3s` consumes it.
struct Asked {
    method: http::Method,
    /// ListBuckets (`GET /`).
    service_root: bool,
    /// GetObjectAttributes.
    attributes: bool,
    /// The `x-amz-*` headers the signature does not cover.
    unsigned: Option<Vec<String>>,
    /// The signed parts, to explain a `SignatureDoesNotMatch`.
    signed: Option<signature::SignedParts>,
    /// The bucket a path-style request names (empty for the service).
    bucket: String,
}

/// What `s3s` cannot say itself: the status a handler chose, ListBuckets' bucket ARNs,
/// GetObjectAttributes' unquoted ETag, and AWS's error body elements and request ids.
fn as_aws_answers(mut response: http::Response<Body>, asked: &mut Asked) -> http::Response<Body> {
    if let Some(status) = response.extensions_mut().remove::<crate::s3::api::StatusOverride>() {
        *response.status_mut() = status.0;
    }
    if asked.service_root && response.status().is_success() {
        if let Some(fixed) = response.body().bytes().and_then(|b| s3_errors::with_bucket_arns(&b)) {
            response.headers_mut().insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(fixed.len()));
            *response.body_mut() = Body::from(fixed);
        }
    }
    if asked.attributes && response.status().is_success() {
        // GetObjectAttributes returns the ETag unquoted (API_GetObjectAttributes); s3s quotes every ETag.
        if let Some(fixed) = response.body().bytes().map(|b| s3_errors::unquote_etag(&b)) {
            response.headers_mut().insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(fixed.len()));
            *response.body_mut() = Body::from(fixed);
        }
    }
    let request_id = s3_errors::new_request_id();
    let host_id = s3_errors::new_host_id();
    if response.status().is_client_error() || response.status().is_server_error() {
        let mut elements = s3_errors::take_elements(response.headers_mut());
        if response.status() == http::StatusCode::METHOD_NOT_ALLOWED && response.headers().contains_key("x-amz-delete-marker") {
            // As recorded (`test_delete_object_versioned` → `get-delete-marker`).
            elements.push(("Method".to_owned(), asked.method.to_string()));
            elements.push(("ResourceType".to_owned(), "DeleteMarker".to_owned()));
        }
        if let Some(body) = response.body().bytes().filter(|b| !b.is_empty()) {
            let fixed = s3_errors::with_aws_message(&body).unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
            if fixed.contains("<Code>InvalidBucketName</Code>") && !elements.iter().any(|(name, _)| name == "BucketName") {
                // `s3s` refuses the name before a handler sees it; S3 repeats it (`test_s3_uppercase_bucket_name`).
                elements.push(("BucketName".to_owned(), asked.bucket.clone()));
            }
            if fixed.contains("<Code>SignatureDoesNotMatch</Code>") {
                elements.extend(asked.signed.take().map(|s| s.mismatch_elements()).unwrap_or_default());
            }
            let fixed = s3_errors::with_elements(&fixed, &elements);
            let mut fixed = s3_errors::with_element(&s3_errors::with_request_id(&fixed, &request_id), "HostId", &host_id);
            // S3 names the unsigned headers (lower case, ", " between them).
            if let Some(names) = asked.unsigned.take().filter(|_| fixed.contains(guard::HEADERS_NOT_SIGNED)) {
                fixed = s3_errors::with_element(&fixed, "HeadersNotSigned", &names.join(", "));
            }
            if !response.headers().contains_key(http::header::CONTENT_TYPE) {
                response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/xml"));
            }
            response.headers_mut().insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(fixed.len()));
            *response.body_mut() = Body::from(fixed);
        }
    }
    if let Ok(value) = http::HeaderValue::from_str(&request_id) {
        response.headers_mut().entry("x-amz-request-id").or_insert(value);
    }
    if let Ok(value) = http::HeaderValue::from_str(&host_id) {
        response.headers_mut().entry("x-amz-id-2").or_insert(value);
    }
    response.headers_mut().entry(http::header::SERVER).or_insert(http::HeaderValue::from_static("AmazonS3"));
    s3_errors::as_aws_xml(&mut response);
    response
}

/// Why a body could not be read whole.
enum Unread {
    TooLarge,
    /// The client stopped sending ([`conn::BodyIdle`]).
    Idle,
}

async fn collect(body: IdleBody) -> Result<Bytes, Unread> {
    match Limited::new(body, QUERY_BODY_LIMIT).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<conn::BodyIdle>() => Err(Unread::Idle),
        Err(_) => Err(Unread::TooLarge),
    }
}
