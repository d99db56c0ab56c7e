//! Emulator configuration: which accounts exist, their keys, where to listen.

/// A pair of long-term keys for an account's root user.
#[derive(Debug, Clone)]
pub struct RootKey {
    pub account_id: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Accounts created at start. More appear on first use of a 12-digit access key id
    /// (LocalStack convention), so existing scripts work unchanged.
    pub accounts: Vec<String>,
    /// Explicit root key pairs. An account given one has no LocalStack-style `<account id>` /
    /// `secret` key: the explicit keys replace it, so an operator can lock an account down.
    pub root_keys: Vec<RootKey>,
    /// The secret for LocalStack-style keys (access key id = 12-digit account id).
    pub default_secret: String,
    pub host: String,
    /// 0 picks a free port.
    pub port: u16,
    pub region: String,
    /// Accounts that live in another emulator (one emulator per account, replicated by a
    /// bridge): policies may name their roles and users, which this emulator cannot look up.
    pub remote_accounts: Vec<String>,
    /// Where object bytes are kept; None = in memory.
    pub blob_store: Option<std::sync::Arc<dyn crate::state::BlobStore>>,
    /// Evaluate clients' plain-HTTP requests as if they came over TLS (`aws:SecureTransport` =
    /// true), so bucket policies that deny non-TLS requests, copied from production, let the
    /// tests' clients through. Off by default: the real transport (plain HTTP) is evaluated.
    /// S3's own replication requests always count as TLS.
    pub assume_tls: bool,
    /// Keep state in this directory (metadata in `state.redb`, object bytes under `blobs/`) so it
    /// survives restarts and crashes; None keeps everything in memory.
    pub data_dir: Option<std::path::PathBuf>,
    /// Timeouts and the connection cap of the HTTP front door.
    pub limits: ServerLimits,
    /// `xrepl serve` exits once a lease was taken (`POST /_xrepl/lease`) and not renewed in
    /// time: a container started for a test process goes away when that process ends.
    pub exit_when_lease_expires: bool,
    /// Host names the admin endpoints (`/_xrepl/...`) answer besides loopback names and
    /// addresses (`localhost`, 127.0.0.0/8, `[::1]`); `xrepl serve --allow-host`. Other `Host`
    /// headers get 403, so a web page cannot reach them through DNS rebinding.
    pub allow_hosts: Vec<String>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            accounts: Vec::new(),
            root_keys: Vec::new(),
            default_secret: "test".to_owned(),
            host: "127.0.0.1".to_owned(),
            port: 0,
            region: "us-east-1".to_owned(),
            remote_accounts: Vec::new(),
            blob_store: None,
            assume_tls: false,
            data_dir: None,
            limits: ServerLimits::default(),
            exit_when_lease_expires: false,
            allow_hosts: Vec::new(),
        }
    }
}

impl EmulatorConfig {
    #[must_use]
    pub fn with_accounts(accounts: &[&str]) -> Self {
        Self { accounts: accounts.iter().map(|a| (*a).to_owned()).collect(), ..Self::default() }
    }

    /// An account served by another emulator (see [`EmulatorConfig::remote_accounts`]).
    #[must_use]
    pub fn remote_account(mut self, account_id: impl Into<String>) -> Self {
        self.remote_accounts.push(account_id.into());
        self
    }

    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    #[must_use]
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }

    /// Keeps object bytes in `store` instead of memory.
    #[must_use]
    pub fn blob_store(mut self, store: std::sync::Arc<dyn crate::state::BlobStore>) -> Self {
        self.blob_store = Some(store);
        self
    }

    /// Durable state in `dir` (see [`EmulatorConfig::data_dir`]).
    #[must_use]
    pub fn data_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// See [`EmulatorConfig::assume_tls`].
    #[must_use]
    pub fn assume_tls(mut self, assume: bool) -> Self {
        self.assume_tls = assume;
        self
    }

    /// Timeouts and the connection cap of the HTTP front door.
    #[must_use]
    pub fn limits(mut self, limits: ServerLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Lets the admin endpoints answer requests addressed to `name` (see
    /// [`EmulatorConfig::allow_hosts`]).
    #[must_use]
    pub fn allow_host(mut self, name: impl Into<String>) -> Self {
        self.allow_hosts.push(name.into());
        self
    }

    #[must_use]
    pub fn default_secret(mut self, secret: impl Into<String>) -> Self {
        self.default_secret = secret.into();
        self
    }

    #[must_use]
    pub fn root_key(mut self, account_id: &str, access_key_id: &str, secret: &str) -> Self {
        self.root_keys.push(RootKey {
            account_id: account_id.to_owned(),
            access_key_id: access_key_id.to_owned(),
            secret_access_key: secret.to_owned(),
        });
        self
    }
}

/// True for a 12-digit AWS account id.
#[must_use]
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Limits of the HTTP front door (see [`EmulatorConfig`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// Time a client has to send a request's whole header section; also how long a connection
    /// may sit idle between requests.
    pub header_read_timeout: std::time::Duration,
    /// Time a request body may go without any bytes arriving.
    pub body_idle_timeout: std::time::Duration,
    /// Requests served at once (connections past their request headers, until the response is
    /// sent); more wait for a free slot.
    pub max_connections: usize,
    /// Time a new connection has to send its first request's whole header section (at most
    /// `header_read_timeout`), so connections that dribble their headers go quickly.
    pub first_header_timeout: std::time::Duration,
    /// Connections still sending request headers or idle between requests; past this many, the
    /// one that has waited longest is closed, so slow-header floods cannot starve clients that
    /// send whole requests. Connections are always accepted.
    pub max_pending_connections: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: std::time::Duration::from_secs(30),
            body_idle_timeout: std::time::Duration::from_secs(60),
            max_connections: 1024,
            first_header_timeout: std::time::Duration::from_secs(5),
            max_pending_connections: 1024,
        }
    }
}
