//! Announcement rules: HR (role `hr` or `admin`) writes, schedules and publishes; the audience is
//! fixed when it is published (widening it adds people); recipients open and acknowledge; HR
//! sees who has and has not.

use std::collections::BTreeMap;

use chrono::{DateTime, SubsecRound as _, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use uuid::Uuid;

use super::dto::{
    AnnouncementCommentDto, AnnouncementCommentRequest, AnnouncementDto, AnnouncementListQuery,
    AnnouncementStats, Audience, CreateAnnouncementRequest, MAX_AUDIENCE_VALUES, MAX_BODY_CHARS,
    MAX_TITLE_CHARS, Receipt, StatRow, TeamStats, Translation, UpdateAnnouncementRequest,
};
use super::repo;
use crate::attachments::{self, Owner};
use crate::auth::AuthenticatedPerson;
use crate::db;
use crate::directory::dto::{PersonCard, Role};
use crate::entities::announcement_comments as comments;
use crate::entities::{announcement_recipients as recipients, announcements};
use crate::error::{ApiError, ApiResult};
use crate::events::{self, Doorbell, Event};
use crate::http::pagination::{Cursor, Page, checked_limit, split_page};
use crate::markdown;
use crate::posts::dto::MAX_COMMENT_CHARS;
use crate::realtime::hub::SharedHub;

/// Not-acknowledged people listed in the statistics (the CSV has everyone).
const LISTED_MISSING: u64 = 100;

fn require_hr(person: &AuthenticatedPerson) -> ApiResult<()> {
    if matches!(person.role, Role::Hr | Role::Admin) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only HR and admins write announcements",
        ))
    }
}

fn is_hr(person: &AuthenticatedPerson) -> bool {
    matches!(person.role, Role::Hr | Role::Admin)
}

fn text(field: &str, value: &str, max: usize) -> ApiResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ApiError::field(field, "is required"));
    }
    if value.chars().count() > max {
        return Err(ApiError::field(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(value.to_owned())
}

fn clean_audience(audience: Audience) -> ApiResult<Audience> {
    let clean = |values: Vec<String>, field: &str| -> ApiResult<Vec<String>> {
        if values.len() > MAX_AUDIENCE_VALUES {
            return Err(ApiError::field(
                field,
                format!("name at most {MAX_AUDIENCE_VALUES}"),
            ));
        }
        let mut values: Vec<String> = values
            .into_iter()
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
            .collect();
        values.sort();
        values.dedup();
        Ok(values)
    };
    Ok(Audience {
        departments: clean(audience.departments, "audience.departments")?,
        locations: clean(audience.locations, "audience.locations")?,
    })
}

fn audience_of(row: &announcements::Model) -> Audience {
    Audience {
        departments: serde_json::from_str(&row.departments).unwrap_or_default(),
        locations: serde_json::from_str(&row.locations).unwrap_or_default(),
    }
}

fn encode(values: &[String]) -> String {
    serde_json::Value::from(values.to_vec()).to_string()
}

fn state_of(row: &announcements::Model, now: DateTime<Utc>) -> &'static str {
    match (row.published_at, row.publish_at, row.expires_at) {
        (None, Some(_), _) => "scheduled",
        (None, None, _) => "draft",
        (Some(_), _, Some(expires)) if expires <= now => "expired",
        (Some(_), _, _) => "published",
    }
}

fn dto(
    row: announcements::Model,
    reader_language: Option<&str>,
    receipt: Option<&recipients::Model>,
    author: Option<PersonCard>,
) -> AnnouncementDto {
    let now = Utc::now();
    let other = if row.language == "nl" { "en" } else { "nl" };
    let translated = row.translation_title.is_some() && row.translation_body.is_some();
    let use_translation = translated && reader_language == Some(other);
    let (language, title, body) = if use_translation {
        (
            other.to_owned(),
            row.translation_title.clone().unwrap_or_default(),
            row.translation_body.clone().unwrap_or_default(),
        )
    } else {
        (row.language.clone(), row.title.clone(), row.body.clone())
    };
    let mut languages = vec![row.language.clone()];
    if translated {
        languages.push(other.to_owned());
    }
    AnnouncementDto {
        id: row.id,
        author,
        language,
        body_html: markdown::render(&body),
        title,
        body,
        languages,
        audience: audience_of(&row),
        requires_ack: row.requires_ack,
        comments_enabled: row.comments_enabled,
        state: state_of(&row, now).to_owned(),
        publish_at: row.publish_at,
        expires_at: row.expires_at,
        due_at: row.due_at,
        published_at: row.published_at,
        version: row.version,
        receipt: receipt.map(|receipt| Receipt {
            opened_at: receipt.opened_at,
            acknowledged_at: receipt.acknowledged_at,
        }),
        attachments: Vec::new(),
    }
}

async fn reader_language(
    db: &impl ConnectionTrait,
    person: Uuid,
) -> ApiResult<(Option<String>, Option<PersonCard>)> {
    let found = crate::directory::repo::find(db, person).await?;
    Ok((
        found.as_ref().and_then(|person| person.ui_language.clone()),
        found.map(PersonCard::from),
    ))
}

fn translation_fields(
    translation: Option<Translation>,
) -> ApiResult<(Option<String>, Option<String>)> {
    match translation {
        None => Ok((None, None)),
        Some(translation) => Ok((
            Some(text(
                "translation.title",
                &translation.title,
                MAX_TITLE_CHARS,
            )?),
            Some(text("translation.body", &translation.body, MAX_BODY_CHARS)?),
        )),
    }
}

pub async fn create(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
    request: CreateAnnouncementRequest,
) -> ApiResult<AnnouncementDto> {
    require_hr(person)?;
    let language = request.language.unwrap_or_else(|| "nl".to_owned());
    if language != "nl" && language != "en" {
        return Err(ApiError::field("language", "must be nl or en"));
    }
    let (translation_title, translation_body) = translation_fields(request.translation)?;
    let audience = clean_audience(request.audience)?;
    let now = Utc::now().trunc_subsecs(6);
    let row = announcements::Model {
        id: Uuid::now_v7(),
        author_id: Some(person.id),
        language,
        title: text("title", &request.title, MAX_TITLE_CHARS)?,
        body: text("body", &request.body, MAX_BODY_CHARS)?,
        translation_title,
        translation_body,
        departments: encode(&audience.departments),
        locations: encode(&audience.locations),
        requires_ack: request.requires_ack,
        comments_enabled: request.comments_enabled.unwrap_or(true),
        publish_at: None,
        expires_at: request.expires_at,
        due_at: request.due_at,
        published_at: None,
        reminded_at: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    check_times(&row, request.publish_at)?;
    let row = announcements::Model {
        // A time to publish schedules it at once; without one it is a draft until published.
        publish_at: request.publish_at.map(|at| at.trunc_subsecs(6)),
        ..row
    };
    let tx = db::begin_write(db).await?;
    repo::insert(&tx, row.clone()).await?;
    attachments::attach(
        &tx,
        person.id,
        Owner::Announcement(row.id),
        &request.attachments,
    )
    .await?;
    tx.commit().await?;
    many(db, person, vec![row])
        .await?
        .pop()
        .ok_or_else(|| ApiError::not_found("announcement"))
}

fn check_times(row: &announcements::Model, publish_at: Option<DateTime<Utc>>) -> ApiResult<()> {
    if let (Some(publish), Some(expires)) = (publish_at, row.expires_at)
        && expires <= publish
    {
        return Err(ApiError::field("expires_at", "must be after publish_at"));
    }
    if row.due_at.is_some() && !row.requires_ack {
        return Err(ApiError::field(
            "due_at",
            "only an announcement that asks for acknowledgement has a due date",
        ));
    }
    Ok(())
}

/// HR sees every announcement, drafts too; everyone else their own archive.
pub async fn list(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
    query: AnnouncementListQuery,
) -> ApiResult<Page<AnnouncementDto>> {
    let limit = checked_limit(query.limit, 20, 100)?;
    let before = query
        .cursor
        .as_deref()
        .map(Cursor::decode_uuid)
        .transpose()?;
    let rows = if is_hr(person) {
        repo::all_page(db, before, limit + 1).await?
    } else {
        repo::received_page(db, person.id, before, limit + 1).await?
    };
    let (rows, next_cursor) = split_page(rows, limit, |row| Cursor::encode_uuid(row.id));
    Ok(Page {
        items: many(db, person, rows).await?,
        next_cursor,
    })
}

/// Announcements as `person` sees them: their language, their receipts, authors and files, in
/// one query each.
async fn many(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
    rows: Vec<announcements::Model>,
) -> ApiResult<Vec<AnnouncementDto>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let receipts = repo::receipts_of(db, person.id, &ids).await?;
    let mut files = attachments::of(db, Owner::Announcement, &ids).await?;
    let (language, _) = reader_language(db, person.id).await?;
    let authors =
        crate::posts::repo::cards_by_id(db, rows.iter().filter_map(|row| row.author_id).collect())
            .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let receipt = receipts
                .iter()
                .find(|receipt| receipt.announcement_id == row.id);
            let author = row.author_id.and_then(|id| authors.get(&id).cloned());
            let files = files.remove(&row.id).unwrap_or_default();
            AnnouncementDto {
                attachments: files,
                ..dto(row, language.as_deref(), receipt, author)
            }
        })
        .collect())
}

/// One announcement: HR, or a person it reached (which counts as opening it).
pub async fn get(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
    id: Uuid,
) -> ApiResult<AnnouncementDto> {
    let row = repo::find(db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("announcement"))?;
    let receipt = repo::receipt(db, id, person.id).await?;
    if receipt.is_none() && !is_hr(person) {
        return Err(ApiError::not_found("announcement"));
    }
    if let Some(found) = &receipt
        && found.opened_at.is_none()
    {
        let now = Utc::now().trunc_subsecs(6);
        repo::stamp(db, id, person.id, recipients::Column::OpenedAt, now).await?;
    }
    many(db, person, vec![row])
        .await?
        .pop()
        .ok_or_else(|| ApiError::not_found("announcement"))
}

/// Whether `person` may read an announcement (and its files): HR, or someone it reached.
pub async fn may_read(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
    id: Uuid,
) -> ApiResult<bool> {
    Ok(is_hr(person) || repo::receipt(db, id, person.id).await?.is_some())
}

/// The announcements pinned on someone's home: unacknowledged required ones first, then the
/// others, newest first.
pub async fn pinned_for(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
) -> ApiResult<Vec<AnnouncementDto>> {
    let mut rows = repo::pinned_for(db, person.id, Utc::now()).await?;
    rows.sort_by_key(|row| !row.requires_ack);
    many(db, person, rows).await
}

/// How many active people an audience reaches now: the "reaches N people" preview.
pub async fn audience_count(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
    audience: Audience,
) -> ApiResult<u64> {
    require_hr(person)?;
    let audience = clean_audience(audience)?;
    Ok(repo::count_audience(db, &audience).await?)
}

/// Publishes now, or schedules for `publish_at` when that is later.
pub async fn publish(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    hub: Option<&SharedHub>,
    person: &AuthenticatedPerson,
    id: Uuid,
    publish_at: Option<DateTime<Utc>>,
) -> ApiResult<AnnouncementDto> {
    require_hr(person)?;
    let now = Utc::now().trunc_subsecs(6);
    let tx = db::begin_write(db).await?;
    let mut row = repo::find_for_update(&tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("announcement"))?;
    let mut published = None;
    if row.published_at.is_none() {
        match publish_at.filter(|at| *at > now) {
            Some(later) => {
                check_times(&row, Some(later))?;
                row.publish_at = Some(later.trunc_subsecs(6));
                row.updated_at = now;
                repo::save(&tx, row.clone()).await?;
            }
            None => published = Some(publish_in(&tx, &mut row, now).await?),
        }
    }
    tx.commit().await?;
    if let Some(published) = published {
        audience_grew(db, hub, published);
    }
    doorbell.ring();
    get(db, person, id).await
}

/// Recipients added in bulk change the recipients table faster than PostgreSQL's automatic
/// statistics follow (up to a minute later): until they do, the planner takes a fresh
/// audience of thousands for a handful of rows and the statistics page reads every recipient
/// where it needs a hundred. A large addition refreshes them, in the background, once this
/// node's sockets have been sent the announcement (or a moment later).
fn audience_grew(db: &DatabaseConnection, hub: Option<&SharedHub>, published: Published) {
    const REFRESH_FROM: u64 = 1_000;
    if published.reached < REFRESH_FROM || db.get_database_backend() != sea_orm::DbBackend::Postgres
    {
        return;
    }
    let db = db.clone();
    let hub = hub.cloned();
    tokio::spawn(async move {
        if let Some(hub) = hub
            && let Ok(Some(position)) = events::resolve(&db, published.seq).await
        {
            hub.fanned_out(position, crate::notifications::maker::FANOUT_WAIT)
                .await;
        }
        if let Err(error) = repo::refresh_recipient_statistics(&db).await {
            tracing::warn!(%error, "cannot refresh the recipients' planner statistics");
        }
    });
}

/// An announcement just published: how many it reaches, and its event.
#[derive(Debug, Clone, Copy)]
struct Published {
    reached: u64,
    seq: i64,
}

/// Fixes the audience and marks the announcement published, inside the caller's transaction;
/// how many it reaches.
async fn publish_in(
    tx: &impl ConnectionTrait,
    row: &mut announcements::Model,
    now: DateTime<Utc>,
) -> ApiResult<Published> {
    let reached = repo::add_recipients(tx, row.id, &audience_of(row), now).await?;
    row.published_at = Some(now);
    row.publish_at = row.publish_at.or(Some(now));
    row.updated_at = now;
    repo::save(tx, row.clone()).await?;
    let seq = events::append(
        tx,
        Event::AnnouncementPublished {
            id: row.id,
            version: row.version,
            reached,
        },
    )
    .await?;
    Ok(Published { reached, seq })
}

/// Publishes the scheduled announcements whose time has come; how many.
pub async fn publish_due(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    hub: &SharedHub,
) -> ApiResult<usize> {
    let now = Utc::now().trunc_subsecs(6);
    let due = repo::due(db, now).await?;
    let mut published = 0;
    let mut all = Published { reached: 0, seq: 0 };
    for id in due {
        let tx = db::begin_write(db).await?;
        // Another node may have published it meanwhile: the row lock and this check decide.
        if let Some(mut row) = repo::find_for_update(&tx, id).await?
            && row.published_at.is_none()
        {
            let one = publish_in(&tx, &mut row, now).await?;
            all.reached += one.reached;
            all.seq = one.seq;
            published += 1;
        }
        tx.commit().await?;
    }
    audience_grew(db, Some(hub), all);
    if published > 0 {
        doorbell.ring();
    }
    Ok(published)
}

/// How long before `due_at` the automatic reminder goes out.
const REMIND_BEFORE_DUE: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// Asks everyone who has not acknowledged yet to do so (HR); the notifications are made by the
/// outbox consumer.
pub async fn remind(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person: &AuthenticatedPerson,
    id: Uuid,
) -> ApiResult<()> {
    require_hr(person)?;
    let row = repo::find(db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("announcement"))?;
    if row.published_at.is_none() || !row.requires_ack {
        return Err(ApiError::conflict(
            "no_acknowledgement",
            "only a published announcement that asks for acknowledgement has reminders",
        ));
    }
    let tx = db::begin_write(db).await?;
    events::append(&tx, Event::AcknowledgementReminder { id }).await?;
    tx.commit().await?;
    doorbell.ring();
    Ok(())
}

/// Sends the automatic reminder for required announcements due within a day; how many.
pub async fn remind_due(db: &DatabaseConnection, doorbell: &Doorbell) -> ApiResult<usize> {
    let now = Utc::now().trunc_subsecs(6);
    let mut sent = 0;
    for id in repo::reminders_due(db, now + REMIND_BEFORE_DUE).await? {
        let tx = db::begin_write(db).await?;
        if let Some(mut row) = repo::find_for_update(&tx, id).await?
            && row.reminded_at.is_none()
        {
            row.reminded_at = Some(now);
            repo::save(&tx, row).await?;
            events::append(&tx, Event::AcknowledgementReminder { id }).await?;
            sent += 1;
        }
        tx.commit().await?;
    }
    if sent > 0 {
        doorbell.ring();
    }
    Ok(sent)
}

/// Acknowledges ("read and understood"); twice is once.
pub async fn acknowledge(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person: &AuthenticatedPerson,
    id: Uuid,
) -> ApiResult<AnnouncementDto> {
    let row = repo::find(db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("announcement"))?;
    let receipt = repo::receipt(db, id, person.id)
        .await?
        .ok_or_else(|| ApiError::not_found("announcement"))?;
    if !row.requires_ack {
        return Err(ApiError::conflict(
            "no_acknowledgement",
            "this announcement does not ask for acknowledgement",
        ));
    }
    if receipt.acknowledged_at.is_none() {
        let now = Utc::now().trunc_subsecs(6);
        let tx = db::begin_write(db).await?;
        repo::stamp(&tx, id, person.id, recipients::Column::OpenedAt, now).await?;
        repo::stamp(&tx, id, person.id, recipients::Column::AcknowledgedAt, now).await?;
        events::append(
            &tx,
            Event::AnnouncementAcknowledged {
                id,
                person_id: person.id,
            },
        )
        .await?;
        tx.commit().await?;
        doorbell.ring();
    }
    get(db, person, id).await
}

/// Edits: anything while a draft; once published a correction keeps acknowledgements, a
/// material change starts them over, and the audience may only grow (the new people are added).
pub async fn update(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    hub: &SharedHub,
    person: &AuthenticatedPerson,
    id: Uuid,
    request: UpdateAnnouncementRequest,
) -> ApiResult<AnnouncementDto> {
    require_hr(person)?;
    let now = Utc::now().trunc_subsecs(6);
    let tx = db::begin_write(db).await?;
    let mut row = repo::find_for_update(&tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("announcement"))?;
    let published = row.published_at.is_some();
    if let Some(title) = &request.title {
        row.title = text("title", title, MAX_TITLE_CHARS)?;
    }
    if let Some(body) = &request.body {
        row.body = text("body", body, MAX_BODY_CHARS)?;
    }
    if request.translation.is_some() {
        let (title, body) = translation_fields(request.translation)?;
        row.translation_title = title;
        row.translation_body = body;
    }
    if let Some(requires_ack) = request.requires_ack {
        if published && requires_ack != row.requires_ack {
            return Err(ApiError::field(
                "requires_ack",
                "cannot change once published; publish a new announcement",
            ));
        }
        row.requires_ack = requires_ack;
    }
    if let Some(comments) = request.comments_enabled {
        row.comments_enabled = comments;
    }
    if request.expires_at.is_some() {
        row.expires_at = request.expires_at;
    }
    if request.due_at.is_some() {
        row.due_at = request.due_at;
    }
    if request.publish_at.is_some() && !published {
        row.publish_at = request.publish_at;
    }
    check_times(&row, row.publish_at)?;
    let mut widened = 0;
    if let Some(audience) = request.audience {
        let audience = clean_audience(audience)?;
        let current = audience_of(&row);
        if published {
            // Widening only: every value that limited the audience before still does, or the
            // limit was lifted (an empty list).
            let widens = |new: &[String], old: &[String]| {
                new.is_empty() || (!old.is_empty() && old.iter().all(|value| new.contains(value)))
            };
            if !widens(&audience.departments, &current.departments)
                || !widens(&audience.locations, &current.locations)
            {
                return Err(ApiError::field(
                    "audience",
                    "once published an audience can only grow: keep every department and location it had",
                ));
            }
            widened = repo::add_recipients(&tx, row.id, &audience, now).await?;
        }
        row.departments = encode(&audience.departments);
        row.locations = encode(&audience.locations);
    }
    if let Some(files) = &request.attachments {
        attachments::attach(&tx, person.id, Owner::Announcement(row.id), files).await?;
    }
    if published && request.material {
        row.version += 1;
        repo::reset_acknowledgements(&tx, row.id).await?;
    }
    row.updated_at = now;
    repo::save(&tx, row.clone()).await?;
    let mut seq = 0;
    if published {
        seq = events::append(
            &tx,
            Event::AnnouncementUpdated {
                id: row.id,
                version: row.version,
                material: request.material,
                added: widened,
            },
        )
        .await?;
    }
    tx.commit().await?;
    audience_grew(
        db,
        Some(hub),
        Published {
            reached: widened,
            seq,
        },
    );
    doorbell.ring();
    get(db, person, id).await
}

/// Per department and per location, from the counts per (department, location).
fn tables_of(rows: &[repo::Breakdown]) -> (Vec<StatRow>, Vec<StatRow>) {
    let count = |n: i64| u64::try_from(n).unwrap_or_default();
    let mut departments: BTreeMap<String, StatRow> = BTreeMap::new();
    let mut locations: BTreeMap<String, StatRow> = BTreeMap::new();
    for (department, location, reached, opened, acknowledged) in rows {
        for (table, value) in [(&mut departments, department), (&mut locations, location)] {
            let value = value.clone().unwrap_or_default();
            let row = table.entry(value.clone()).or_insert_with(|| StatRow {
                value,
                reached: 0,
                opened: 0,
                acknowledged: 0,
            });
            row.reached += count(*reached);
            row.opened += count(*opened);
            row.acknowledged += count(*acknowledged);
        }
    }
    (
        departments.into_values().collect(),
        locations.into_values().collect(),
    )
}

/// Reached, opened and acknowledged, in all and per department and location (HR).
pub async fn stats(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
    id: Uuid,
) -> ApiResult<AnnouncementStats> {
    require_hr(person)?;
    let row = repo::find(db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("announcement"))?;
    let (by_department, by_location) = tables_of(&repo::breakdown(db, id).await?);
    let sum = |pick: fn(&StatRow) -> u64| by_department.iter().map(pick).sum::<u64>();
    let (reached, acknowledged) = (sum(|row| row.reached), sum(|row| row.acknowledged));
    let missing = if row.requires_ack {
        repo::unacknowledged_people(
            db,
            id,
            LISTED_MISSING,
            reached.saturating_sub(acknowledged),
            reached,
        )
        .await?
        .into_iter()
        .map(PersonCard::from)
        .collect()
    } else {
        Vec::new()
    };
    Ok(AnnouncementStats {
        reached,
        opened: sum(|row| row.opened),
        acknowledged,
        by_department,
        by_location,
        not_acknowledged: missing,
    })
}

/// For the caller as a manager: which of their reports, direct and below, the announcement
/// reached and who of them has not acknowledged yet.
pub async fn team(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
    id: Uuid,
) -> ApiResult<TeamStats> {
    let row = repo::find(db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("announcement"))?;
    if row.published_at.is_none() && !is_hr(person) {
        return Err(ApiError::not_found("announcement"));
    }
    let receipts = repo::team_receipts(db, id, person.id).await?;
    let missing: Vec<Uuid> = receipts
        .iter()
        .filter(|(_, acknowledged)| !acknowledged)
        .map(|(person, _)| *person)
        .collect();
    let mut people: Vec<_> = crate::posts::repo::people_by_id(db, missing)
        .await?
        .into_values()
        .collect();
    people.sort_by(|a, b| a.sort_name.cmp(&b.sort_name));
    Ok(TeamStats {
        reached: receipts.len() as u64,
        acknowledged: receipts
            .iter()
            .filter(|(_, acknowledged)| *acknowledged)
            .count() as u64,
        not_acknowledged: people.into_iter().map(PersonCard::from).collect(),
    })
}

/// A spreadsheet cell that cannot run as a formula: one starting with `=`, `+`, `-`, `@`, a tab
/// or a carriage return gets a leading apostrophe.
pub fn safe_cell(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    }
}

/// Every recipient as CSV: name, email, department, location, opened, acknowledged (HR).
pub async fn stats_csv(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
    id: Uuid,
) -> ApiResult<String> {
    require_hr(person)?;
    repo::find(db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("announcement"))?;
    let rows = repo::recipients_with_people(db, id).await?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let time = |at: Option<DateTime<Utc>>| {
        at.map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    };
    let write_error = |error: csv::Error| ApiError::internal(anyhow::anyhow!(error));
    writer
        .write_record([
            "name",
            "email",
            "department",
            "location",
            "opened_at",
            "acknowledged_at",
        ])
        .map_err(write_error)?;
    for (receipt, person) in rows {
        writer
            .write_record([
                safe_cell(&person.display_name),
                safe_cell(person.email.as_deref().unwrap_or_default()),
                safe_cell(receipt.department.as_deref().unwrap_or_default()),
                safe_cell(receipt.location.as_deref().unwrap_or_default()),
                time(receipt.opened_at),
                time(receipt.acknowledged_at),
            ])
            .map_err(write_error)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|error| ApiError::internal(anyhow::anyhow!(error.to_string())))?;
    String::from_utf8(bytes).map_err(|error| ApiError::internal(anyhow::anyhow!(error)))
}

/// An announcement's comments, oldest first: for whoever may read it.
pub async fn comments(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
    id: Uuid,
    query: AnnouncementListQuery,
) -> ApiResult<Page<AnnouncementCommentDto>> {
    let limit = checked_limit(query.limit, 50, 200)?;
    if !may_read(db, person, id).await? || repo::find(db, id).await?.is_none() {
        return Err(ApiError::not_found("announcement"));
    }
    let after = query
        .cursor
        .as_deref()
        .map(Cursor::decode_uuid)
        .transpose()?;
    let rows = repo::comments_page(db, id, after, limit + 1).await?;
    let (rows, next_cursor) = split_page(rows, limit, |row| Cursor::encode_uuid(row.id));
    let authors =
        crate::posts::repo::cards_by_id(db, rows.iter().map(|row| row.author_id).collect()).await?;
    Ok(Page {
        items: rows
            .into_iter()
            .map(|row| comment_dto(row, &authors))
            .collect(),
        next_cursor,
    })
}

fn comment_dto(
    row: comments::Model,
    authors: &std::collections::HashMap<Uuid, PersonCard>,
) -> AnnouncementCommentDto {
    let deleted = row.deleted_at.is_some();
    AnnouncementCommentDto {
        id: row.id,
        announcement_id: row.announcement_id,
        author: crate::posts::service::card(authors, row.author_id),
        body_html: if deleted {
            String::new()
        } else {
            markdown::render(&row.body)
        },
        body: if deleted { String::new() } else { row.body },
        created_at: row.created_at,
        deleted,
    }
}

/// Comments on a published announcement that allows comments, by someone it reached (or HR).
pub async fn comment(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person: &AuthenticatedPerson,
    id: Uuid,
    request: AnnouncementCommentRequest,
) -> ApiResult<AnnouncementCommentDto> {
    let body = text("body", &request.body, MAX_COMMENT_CHARS)?;
    if !may_read(db, person, id).await? {
        return Err(ApiError::not_found("announcement"));
    }
    let tx = db::begin_write(db).await?;
    let row = repo::find(&tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("announcement"))?;
    if row.published_at.is_none() {
        return Err(ApiError::conflict(
            "not_published",
            "comments open once the announcement is published",
        ));
    }
    if !row.comments_enabled {
        return Err(ApiError::conflict(
            "comments_disabled",
            "this announcement does not take comments",
        ));
    }
    let comment = comments::Model {
        id: Uuid::now_v7(),
        announcement_id: id,
        author_id: person.id,
        body,
        created_at: Utc::now().trunc_subsecs(6),
        deleted_at: None,
    };
    repo::insert_comment(&tx, comment.clone()).await?;
    events::append(
        &tx,
        Event::AnnouncementCommented {
            id,
            comment_id: comment.id,
            author_id: person.id,
        },
    )
    .await?;
    let authors = crate::posts::repo::cards_by_id(&tx, vec![person.id]).await?;
    tx.commit().await?;
    doorbell.ring();
    Ok(comment_dto(comment, &authors))
}

/// Deletes a comment: its author, or HR.
pub async fn delete_comment(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
    id: Uuid,
    comment_id: Uuid,
) -> ApiResult<()> {
    if !may_read(db, person, id).await? {
        return Err(ApiError::not_found("comment"));
    }
    let tx = db::begin_write(db).await?;
    let comment = repo::find_comment(&tx, comment_id)
        .await?
        .filter(|comment| comment.announcement_id == id)
        .ok_or_else(|| ApiError::not_found("comment"))?;
    if comment.author_id != person.id && !is_hr(person) {
        return Err(ApiError::forbidden(
            "only its author and HR delete a comment",
        ));
    }
    if comment.deleted_at.is_none() {
        repo::delete_comment(&tx, comment, Utc::now().trunc_subsecs(6)).await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_run_are_neutralised() {
        assert_eq!(safe_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(safe_cell("+31 6"), "'+31 6");
        assert_eq!(safe_cell("-1"), "'-1");
        assert_eq!(safe_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(safe_cell("Anne de Vries"), "Anne de Vries");
    }
}
