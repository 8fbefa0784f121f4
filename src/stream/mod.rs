//! Live session streams: following them through dropped connections,
//! the stop rules of `--until-idle`, and rendering their events.

pub mod confirm;
pub mod follow;
pub mod message;
pub mod render;
pub mod sink;
pub mod spinner;
pub mod stop;
pub mod turn;
