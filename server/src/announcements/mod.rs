//! HR announcements: written by people with role `hr` or `admin`, for everyone or some
//! departments and locations, fixed to their audience when published, acknowledged when asked.

pub mod dto;
pub mod repo;
pub mod routes;
pub mod service;
