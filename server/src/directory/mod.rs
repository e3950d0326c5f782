//! The people directory: people rows, roles and activation. Search and profiles grow here.

pub mod dto;
pub mod import;
pub mod indexer;
pub mod photos;
pub mod repo;
pub mod routes;
pub mod service;
pub mod writer;
