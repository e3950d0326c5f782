//! Posts in groups, with comments and reactions; who may read and write them is the groups
//! policy's decision.

pub mod dto;
pub mod indexer;
pub mod mentions;
pub mod recent;
pub mod repo;
pub mod routes;
pub mod service;
