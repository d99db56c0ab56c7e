//! A lease on the emulator's life: a test process that started the emulator in a container
//! renews it every few seconds (`POST /_xrepl/lease?ttl_s=N`); an emulator started with
//! `--exit-when-lease-expires` exits once a lease was taken and not renewed in time. A test process
//! that ends — however it ends — stops renewing, so its container (started with auto-remove) goes
//! away with it, as testcontainers' Ryuk does for other languages.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The longest a single renewal may last.
pub const MAX_TTL: Duration = Duration::from_secs(3600);

/// When the current lease runs out (None until the first renewal).
#[derive(Debug, Default)]
pub struct Lease {
    expires: Mutex<Option<Instant>>,
}

impl Lease {
    /// Extends the lease to `ttl` from now.
    pub fn renew(&self, ttl: Duration) {
        let until = Instant::now() + ttl.min(MAX_TTL);
        if let Ok(mut expires) = self.expires.lock() {
            *expires = Some(until);
        }
    }

    /// A lease was taken and has run out.
    pub fn expired(&self) -> bool {
        self.expires.lock().ok().and_then(|e| *e).is_some_and(|until| Instant::now() >= until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_expires_only_after_it_was_taken_and_ran_out() {
        let lease = Lease::default();
        assert!(!lease.expired(), "never taken: the emulator runs until stopped");
        lease.renew(Duration::from_secs(60));
        assert!(!lease.expired());
        lease.renew(Duration::ZERO);
        assert!(lease.expired());
    }
}
