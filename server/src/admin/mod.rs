//! Administration: first-run setup, people's roles and activation, API tokens.

pub mod dto;
pub mod routes;
pub mod service;
