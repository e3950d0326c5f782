//! Plein's server: the HTTP API, its storage and the event pipeline.

pub mod admin;
pub mod announcements;
pub mod app;
pub mod attachments;
pub mod auth;
pub mod blobs;
pub mod chat;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod directory;
pub mod entities;
pub mod error;
pub mod events;
pub mod groups;
pub mod http;
pub mod images;
pub mod mail;
pub mod markdown;
pub mod notifications;
pub mod posts;
pub mod realtime;
pub mod scim;
pub mod state;
pub mod telemetry;

pub use app::{AppHandle, Application};
pub use config::{Config, RawConfig};
