//! Connection limits: a cap on concurrent connections, an accept loop that backs off on errors
//! (EMFILE must not spin a core), and a request body that fails when the client stops sending.
//! The header-read timeout (which also closes connections idle between requests) is hyper's.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};

pub use crate::config::ServerLimits;
pub use crate::wire::BODY_IDLE;

/// Something connections come from (a `TcpListener`; a failing stand-in in tests).
pub trait Acceptor {
    type Conn;
    fn accept(&self) -> impl Future<Output = std::io::Result<Self::Conn>> + Send;
}

impl Acceptor for tokio::net::TcpListener {
    type Conn = tokio::net::TcpStream;
    async fn accept(&self) -> std::io::Result<tokio::net::TcpStream> {
        tokio::net::TcpListener::accept(self).await.map(|(stream, _)| stream)
    }
}

const BACKOFF_MIN: Duration = Duration::from_millis(5);
const BACKOFF_MAX: Duration = Duration::from_secs(1);

/// The next connection; accept errors (EMFILE, ENFILE, ENOBUFS, ...) are logged and retried
/// after a pause that doubles up to a second, so running out of descriptors does not spin.
pub async fn next_connection<A: Acceptor + Sync>(acceptor: &A) -> A::Conn {
    let mut backoff = BACKOFF_MIN;
    loop {
        match acceptor.accept().await {
            Ok(conn) => return conn,
            Err(err) => {
                tracing::warn!("accepting a connection failed ({err}); retrying in {} ms", backoff.as_millis());
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
}

/// The request body went `body_idle_timeout` without a byte.
#[derive(Debug, thiserror::Error)]
#[error("the client sent no request body bytes for {0:?}")]
pub struct BodyIdle(pub Duration);

/// A request body that fails with [`BodyIdle`] when the client stops sending, and tells (through
/// [`BodyRead`]) whether it was read to its end.
pub struct IdleBody {
    inner: Incoming,
    idle: Duration,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    finished: Arc<AtomicBool>,
}

/// Whether a request body was read to its end (shared with the [`IdleBody`], which the service
/// consumes).
#[derive(Clone, Debug)]
pub struct BodyRead(Arc<AtomicBool>);

impl BodyRead {
    pub fn finished(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

impl IdleBody {
    pub fn new(inner: Incoming, idle: Duration) -> Self {
        let finished = Arc::new(AtomicBool::new(inner.is_end_stream()));
        Self { inner, idle, timer: None, finished }
    }

    pub fn read_state(&self) -> BodyRead {
        BodyRead(Arc::clone(&self.finished))
    }
}

impl Body for IdleBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.timer = None;
                if frame.is_none() || this.inner.is_end_stream() {
                    this.finished.store(true, Ordering::Release);
                }
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => {
                let idle = this.idle;
                let timer = this.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        this.timer = None;
                        Poll::Ready(Some(Err(Box::new(BodyIdle(idle)))))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Always out of file descriptors.
    struct Exhausted(AtomicUsize);

    impl Acceptor for Exhausted {
        type Conn = ();
        async fn accept(&self) -> std::io::Result<()> {
            self.0.fetch_add(1, Ordering::Relaxed);
            Err(std::io::Error::from_raw_os_error(24)) // EMFILE
        }
    }

    #[tokio::test]
    async fn accept_errors_back_off_instead_of_spinning() {
        let acceptor = Exhausted(AtomicUsize::new(0));
        let waited = tokio::time::timeout(Duration::from_millis(400), next_connection(&acceptor)).await;
        assert!(waited.is_err(), "no connection ever comes");
        let attempts = acceptor.0.load(Ordering::Relaxed);
        // 5 + 10 + 20 + 40 + 80 + 160 ms: about 7 attempts in 400 ms, not millions.
        assert!((2..=10).contains(&attempts), "{attempts} accept attempts in 400 ms");
    }
}
