//! Live delivery: one websocket per browser tab, fed by this node's hub from the outbox.

pub mod bus;
pub mod frames;
pub mod hub;
pub mod presence;
pub mod routes;
pub mod socket;
