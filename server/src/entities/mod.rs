//! sea-orm entities, one file per table.

pub mod announcement_comments;
pub mod announcement_recipients;
pub mod announcements;
pub mod api_tokens;
pub mod attachments;
pub mod blob_chunks;
pub mod blobs;
pub mod comments;
pub mod event_cursors;
pub mod events;
pub mod group_members;
pub mod group_mutes;
pub mod groups;
pub mod login_failures;
pub mod mentions;
pub mod notifications;
pub mod people;
pub mod post_keys;
pub mod post_versions;
pub mod posts;
pub mod reactions;
pub mod sessions;
pub mod settings;
