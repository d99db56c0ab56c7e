//! Which account's half of a setup an operation touches. Its own module, below everything else,
//! because the plan a failed apply reports (in [`crate::error`]) names it, and the clients
//! ([`crate::aws`]) use it too; [`crate::aws::Side`] re-exports it.

/// Which account's half of the setup an operation touches. The two accounts are often run by
/// different teams: the source team applies `Source`, the destination team `Destination`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Side {
    /// Both accounts' halves (the default): what one person with access to both accounts runs.
    #[default]
    Both,
    /// Source bucket and its versioning, the role and its policies, the replication configuration.
    Source,
    /// Destination bucket and its versioning, the destination bucket policy.
    Destination,
}

impl Side {
    /// Whether this side covers the source account ([`Side::Both`] or [`Side::Source`]).
    pub fn includes_source(self) -> bool {
        matches!(self, Side::Both | Side::Source)
    }

    /// Whether this side covers the destination account(s) ([`Side::Both`] or [`Side::Destination`]).
    pub fn includes_destination(self) -> bool {
        matches!(self, Side::Both | Side::Destination)
    }
}
