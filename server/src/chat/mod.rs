//! Chat: direct conversations, group conversations of up to 100 people and one channel per
//! group; messages with replies, reactions, edits, deletes and files; read markers and unread
//! counts. Every change is an outbox event, delivered live by the realtime hub.

pub mod dto;
pub mod indexer;
pub mod repo;
pub mod routes;
pub mod service;
