//! Accounts and authentication: passwords, sessions, API tokens, login rate limits.

pub mod dto;
pub mod links;
pub mod password;
pub mod rate_limit;
pub mod repo;
pub mod routes;
pub mod service;
pub mod tokens;

pub use service::{AuthenticatedPerson, AuthenticatedToken, Principal};
