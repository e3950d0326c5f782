//! Black-box tests against a spawned Plein: SQLite by default, PostgreSQL with TEST_DATABASE_URL.

mod admin;
mod announcements;
mod attachments;
mod auth;
mod blobs;
mod chat;
mod conventions;
mod directory;
mod groups;
mod import;
mod mail;
mod migrations;
mod notifications;
mod orgchart;
mod outbox;
mod people_writer;
mod photos;
mod post_search;
mod posts;
mod realtime;
mod scim;
mod search;
mod security;
mod setup;
