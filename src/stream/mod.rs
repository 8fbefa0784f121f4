//! Live session streams: the transcript renderer now; reconnect, backfill
//! and stop rules build on it.

pub mod follow;
pub mod message;
pub mod render;
