//! Native tests of the protocol translation: a table of bad inputs per endpoint, the
//! mapping of every reply, and whole journeys through an in-memory server that follows
//! the Worker's loop (parse → check → flow step → effects → rotate → answer).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests: a failure should panic with context"
)]

mod journeys;
mod props;
mod replies;
mod review;
mod server;
mod tables;
mod wire_review;
