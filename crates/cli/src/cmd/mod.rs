//! One module per group of subcommands.

pub mod batch;
pub mod demo;
pub mod provision;
pub mod serve;
