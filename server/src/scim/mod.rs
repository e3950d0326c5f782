//! SCIM 2.0 provisioning (RFC 7643, RFC 7644): identity providers create, update, deactivate
//! and delete people through `/scim/v2/Users`.

pub mod discovery;
pub mod error;
pub mod filter;
pub mod query;
pub mod routes;
pub mod service;
pub mod user;
