//! Groups: work and casual, public, private or secret, with owners, admins and members, and the
//! one policy that decides who may see and do what with them.

pub mod dto;
pub mod indexer;
pub mod policy;
pub mod repo;
pub mod routes;
pub mod service;
