//! Connection limits: a cap on requests served at once, a [`Gate`] that closes the oldest of the
//! connections still sending headers when too many wait (slowloris), an accept loop that never
//! waits for a slot and backs off on errors (EMFILE must not spin a core), and a request body
//! that fails when the client stops sending. The header-read timeout (which also closes
//! connections idle between requests) is hyper's; a new connection's first request has
//! [`ServerLimits::first_header_timeout`].

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
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

/// Connections that are not inside a request (still sending their headers, or idle between
/// requests), oldest first. Past `max_pending` the oldest is closed, so a flood of connections
/// that send their headers slowly (slowloris) cannot keep clients that send whole requests out:
/// the accept loop never waits, and a client whose request arrives at once is past its headers
/// (and off this list) long before it becomes the oldest.
pub struct Gate {
    pending: Mutex<BTreeMap<u64, Arc<Waiter>>>,
    next: AtomicU64,
    max_pending: usize,
}

/// One connection's place in the [`Gate`].
#[derive(Default)]
pub struct Waiter {
    /// Its key in the pending list; 0 while it is inside a request (or gone).
    key: AtomicU64,
    /// Notified when the gate closes this connection to make room.
    evicted: tokio::sync::Notify,
}

impl Waiter {
    /// Resolves when the gate has closed this connection.
    pub async fn evicted(&self) {
        self.evicted.notified().await;
    }
}

impl Gate {
    pub fn new(max_pending: usize) -> Self {
        Self { pending: Mutex::new(BTreeMap::new()), next: AtomicU64::new(1), max_pending: max_pending.max(1) }
    }

    fn list(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<Waiter>>> {
        self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The connection waits for a request's headers: it joins the list (the newest), and the
    /// oldest waiters over the cap are closed.
    pub fn waiting(&self, waiter: &Arc<Waiter>) {
        let mut list = self.list();
        let key = self.next.fetch_add(1, Ordering::Relaxed);
        let old = waiter.key.swap(key, Ordering::AcqRel);
        if old != 0 {
            list.remove(&old);
        }
        list.insert(key, Arc::clone(waiter));
        while list.len() > self.max_pending {
            let Some((_, oldest)) = list.pop_first() else { break };
            oldest.key.store(0, Ordering::Release);
            oldest.evicted.notify_one();
        }
    }

    /// The connection's request headers arrived (or it closed): it leaves the list.
    pub fn serving(&self, waiter: &Waiter) {
        let key = waiter.key.swap(0, Ordering::AcqRel);
        if key != 0 {
            self.list().remove(&key);
        }
    }

    /// Connections on the list now.
    pub fn pending(&self) -> usize {
        self.list().len()
    }
}

/// A response body that puts its connection back on the [`Gate`]'s list (and frees its request
/// slot) once it has been sent or dropped.
pub struct Tracked<B> {
    inner: B,
    release: Option<(Arc<Gate>, Arc<Waiter>, Option<tokio::sync::OwnedSemaphorePermit>)>,
}

impl<B> Tracked<B> {
    pub fn new(inner: B, gate: Arc<Gate>, waiter: Arc<Waiter>, slot: Option<tokio::sync::OwnedSemaphorePermit>) -> Self {
        Self { inner, release: Some((gate, waiter, slot)) }
    }
}

impl<B> Drop for Tracked<B> {
    fn drop(&mut self) {
        if let Some((gate, waiter, slot)) = self.release.take() {
            drop(slot);
            gate.waiting(&waiter);
        }
    }
}

impl<B: Body + Unpin> Body for Tracked<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
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

    #[test]
    fn the_gate_closes_the_oldest_waiting_connection() {
        let gate = Gate::new(2);
        let (a, b, c) = (Arc::new(Waiter::default()), Arc::new(Waiter::default()), Arc::new(Waiter::default()));
        gate.waiting(&a);
        gate.waiting(&b);
        gate.serving(&a); // a's headers arrived: it no longer counts
        gate.waiting(&c);
        assert_eq!(gate.pending(), 2);
        gate.waiting(&a); // a is idle again, the newest: b (the oldest) is closed
        assert_eq!(gate.pending(), 2);
        assert_eq!(b.key.load(Ordering::Acquire), 0, "b was closed");
        assert_ne!(c.key.load(Ordering::Acquire), 0);
        gate.serving(&b); // closing a closed connection is harmless
        assert_eq!(gate.pending(), 2);
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
