//! Acme's replication setup lives in `replication/`; its tests are in `tests/`.
