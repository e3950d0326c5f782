//! HTTP plumbing shared by every domain: extractors, pagination, middleware, OpenAPI.

pub mod extractors;
pub mod middleware;
pub mod openapi;
pub mod ops;
pub mod pagination;
pub mod web;

pub use extractors::{AppJson, AppPath, AppQuery, Auth, ClientIp, CurrentPerson, Upload};
