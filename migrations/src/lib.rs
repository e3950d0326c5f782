//! Schema migrations for Plein: append-only, portable between SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_foundation;
mod m20261127_000002_profiles;
mod m20261127_000003_provisioning;
mod m20261127_000004_language;
mod m20261130_000005_outbox_order;
mod m20261130_000006_login_failures;
mod m20261130_000007_blobs;
mod m20261130_000008_user_names;
mod m20261130_000009_groups;
mod m20261130_000010_posts;
mod m20261130_000011_notifications;
mod m20261130_000012_announcements;
mod m20261130_000013_attachments;
mod m20261201_000014_membership_reads;
mod m20261201_000015_chat;
mod m20261201_000016_presence;
mod m20261201_000017_announcement_tallies;
mod m20261208_000018_mail;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_foundation::Migration),
            Box::new(m20261127_000002_profiles::Migration),
            Box::new(m20261127_000003_provisioning::Migration),
            Box::new(m20261127_000004_language::Migration),
            Box::new(m20261130_000005_outbox_order::Migration),
            Box::new(m20261130_000006_login_failures::Migration),
            Box::new(m20261130_000007_blobs::Migration),
            Box::new(m20261130_000008_user_names::Migration),
            Box::new(m20261130_000009_groups::Migration),
            Box::new(m20261130_000010_posts::Migration),
            Box::new(m20261130_000011_notifications::Migration),
            Box::new(m20261130_000012_announcements::Migration),
            Box::new(m20261130_000013_attachments::Migration),
            Box::new(m20261201_000014_membership_reads::Migration),
            Box::new(m20261201_000015_chat::Migration),
            Box::new(m20261201_000016_presence::Migration),
            Box::new(m20261201_000017_announcement_tallies::Migration),
            Box::new(m20261208_000018_mail::Migration),
        ]
    }
}
