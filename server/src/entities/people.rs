//! `people`: one row per employee; an account is a person who can log in.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "people")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The work address; a person provisioned without one signs in through single sign-on.
    pub email: Option<String>,
    #[sea_orm(unique)]
    pub email_normalized: Option<String>,
    pub display_name: String,
    pub role: String,
    pub active: bool,
    pub password_hash: Option<String>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    /// The HR system's employee number; unique when present.
    pub employee_id: Option<String>,
    pub given_name: String,
    /// With its particle: "van Rijnsoever".
    pub family_name: String,
    pub preferred_name: Option<String>,
    pub title: Option<String>,
    pub department: Option<String>,
    pub location: Option<String>,
    pub manager_id: Option<Uuid>,
    pub phone: Option<String>,
    /// JSON array of strings.
    pub skills: String,
    /// JSON array of strings.
    pub languages: String,
    /// Markdown, as the person wrote it.
    pub bio: Option<String>,
    pub photo_version: Option<String>,
    pub start_date: Option<ChronoDate>,
    /// Surname without particle, then given name, folded: the directory's order.
    pub sort_name: String,
    /// The identity provider's own id for this person (SCIM `externalId`); unique when present.
    pub external_id: Option<String>,
    /// When an identity provider deleted this person; they stay, deactivated, for history.
    pub deleted_at: Option<ChronoDateTimeUtc>,
    /// The language chosen for the screens (`nl`, `en`); none follows the browser.
    pub ui_language: Option<String>,
    /// The name an identity provider gave (SCIM `userName`); without one it is the address.
    pub user_name: Option<String>,
    /// `user_name` folded for comparison; unique together with the addresses.
    pub user_name_normalized: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::sessions::Entity")]
    Sessions,
}

impl Related<super::sessions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Sessions.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
