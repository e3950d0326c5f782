//! Group rules: creating and changing groups, joining, leaving, invitations and requests, member
//! roles. Every decision goes through [`policy`]; every change appends its event in the same
//! transaction.

use std::collections::HashMap;

use chrono::{SubsecRound as _, Utc};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::dto::{
    CreateGroupRequest, GroupDto, GroupEvent, GroupListQuery, MAX_DESCRIPTION_CHARS,
    MAX_NAME_CHARS, MAX_SLUG_CHARS, MemberDto, MemberListQuery, UpdateGroupRequest,
};
use super::indexer::SharedGroupIndex;
use super::policy::{
    self, Action, GroupFacts, GroupRole, Kind, MemberState, Posting, Standing, Viewer, Visibility,
};
use super::repo;
use crate::auth::AuthenticatedPerson;
use crate::db;
use crate::directory::dto::{PersonCard, Role};
use crate::directory::repo as people_repo;
use crate::entities::{group_members, groups};
use crate::error::{ApiError, ApiResult};
use crate::events::{self, Doorbell, Event};
use crate::http::pagination::{Cursor, Page, checked_limit};
use crate::markdown;
use plein_search::groups::{GroupSearch, MAX_GROUP_LIMIT};

const DEFAULT_LIMIT: u64 = 50;
/// Longest search text.
const MAX_QUERY_CHARS: usize = 200;
const MAX_LIMIT: u64 = 200;

pub fn viewer(person: &AuthenticatedPerson) -> Viewer {
    Viewer {
        person_id: person.id,
        platform_admin: person.role == Role::Admin,
    }
}

pub(crate) fn facts(group: &groups::Model) -> GroupFacts {
    GroupFacts {
        visibility: Visibility::parse(&group.visibility).unwrap_or(Visibility::Secret),
        posting: Posting::parse(&group.posting).unwrap_or(Posting::Admins),
        archived: group.archived_at.is_some(),
    }
}

pub(crate) fn standing(row: Option<&group_members::Model>) -> Option<Standing> {
    let row = row?;
    Some(Standing {
        role: GroupRole::parse(&row.role)?,
        state: MemberState::parse(&row.state)?,
    })
}

/// A group as the viewer may know it; secret groups they have no standing with are not there.
pub(crate) async fn visible(
    db: &impl sea_orm::ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    for_update: bool,
) -> ApiResult<(groups::Model, Option<group_members::Model>)> {
    let group = if for_update {
        repo::find_for_update(db, id).await?
    } else {
        repo::find(db, id).await?
    }
    .ok_or_else(|| ApiError::not_found("group"))?;
    let row = repo::membership(db, id, viewer.person_id).await?;
    if policy::hidden(viewer, &facts(&group), standing(row.as_ref())) {
        return Err(ApiError::not_found("group"));
    }
    Ok((group, row))
}

pub(crate) fn require(
    viewer: &Viewer,
    group: &groups::Model,
    row: Option<&group_members::Model>,
    action: Action,
    message: &str,
) -> ApiResult<()> {
    if policy::allows(viewer, &facts(group), standing(row), action) {
        Ok(())
    } else {
        Err(ApiError::forbidden(message))
    }
}

fn event_of(group: &groups::Model) -> GroupEvent {
    GroupEvent {
        id: group.id,
        slug: group.slug.clone(),
        name: group.name.clone(),
        kind: Kind::parse(&group.kind).unwrap_or(Kind::Work),
        visibility: Visibility::parse(&group.visibility).unwrap_or(Visibility::Secret),
        archived: group.archived_at.is_some(),
    }
}

fn dto(group: groups::Model, members: u64, row: Option<&group_members::Model>) -> GroupDto {
    let standing = standing(row);
    GroupDto {
        id: group.id,
        description_html: markdown::render(&group.description),
        kind: Kind::parse(&group.kind).unwrap_or(Kind::Work),
        visibility: Visibility::parse(&group.visibility).unwrap_or(Visibility::Secret),
        posting: Posting::parse(&group.posting).unwrap_or(Posting::Admins),
        archived: group.archived_at.is_some(),
        member_count: members,
        my_role: standing
            .filter(|standing| standing.state == MemberState::Member)
            .map(|standing| standing.role),
        my_state: standing.map(|standing| standing.state),
        slug: group.slug,
        name: group.name,
        description: group.description,
        created_at: group.created_at,
        updated_at: group.updated_at,
        cover_url: group
            .cover_key
            .as_deref()
            .map(|key| cover_url(group.id, key)),
    }
}

/// Cover pictures are this wide and high.
pub const COVER_SIZE: (u32, u32) = (1200, 400);

/// The blob key of a cover version: `covers/<group>/<version>.jpg`.
fn cover_key(group: Uuid, version: &str) -> String {
    format!("covers/{group}/{version}.jpg")
}

/// Where clients fetch a cover; the version in the key makes it cacheable for good.
fn cover_url(group: Uuid, key: &str) -> String {
    let version = key
        .rsplit('/')
        .next()
        .and_then(|name| name.strip_suffix(".jpg"))
        .unwrap_or_default();
    format!("/api/v1/groups/{group}/cover?v={version}")
}

/// How far back "most active" looks.
const ACTIVE_DAYS: i64 = 30;

/// Groups to join: public and private ones the person has no standing with, those most of
/// their department's colleagues are in first, then the most active.
pub async fn suggested(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
    limit: Option<u64>,
) -> ApiResult<Vec<GroupDto>> {
    let limit = checked_limit(limit, 10, 50)?;
    let department = crate::posts::repo::people_by_id(db, vec![person.id])
        .await?
        .remove(&person.id)
        .and_then(|me| me.department);
    let since = (Utc::now() - chrono::Duration::days(ACTIVE_DAYS)).timestamp_millis();
    // The smallest UUIDv7 of that millisecond: posts' ids are v7, so newer ids are larger.
    let since = uuid::Builder::from_unix_timestamp_millis(
        u64::try_from(since).unwrap_or_default(),
        &[0; 10],
    )
    .into_uuid();
    let ids = repo::suggested(db, person.id, department, since, limit).await?;
    let mut rows: HashMap<Uuid, groups::Model> = repo::find_many(db, ids.clone())
        .await?
        .into_iter()
        .map(|group| (group.id, group))
        .collect();
    let counts = repo::member_counts(db, &ids).await?;
    Ok(ids
        .into_iter()
        .filter_map(|id| rows.remove(&id))
        .map(|group| {
            let members = counts.get(&group.id).copied().unwrap_or_default();
            dto(group, members, None)
        })
        .collect())
}

/// Sets a group's cover picture (its owners and admins): JPEG, PNG or WebP, cropped to
/// 1200×400 and re-encoded without metadata. `None` removes it.
pub async fn set_cover(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    blobs: &crate::blobs::Blobs,
    limiter: &crate::images::UploadLimiter,
    person: &AuthenticatedPerson,
    id: Uuid,
    upload: Option<crate::http::Upload>,
) -> ApiResult<GroupDto> {
    let viewer = viewer(person);
    {
        let (group, row) = visible(db, &viewer, id, false).await?;
        require(
            &viewer,
            &group,
            row.as_ref(),
            Action::Manage,
            "only the group's owners and admins change its cover",
        )?;
    }
    let new_key = match upload {
        Some(upload) => {
            upload.require(
                &crate::directory::photos::ACCEPTED_TYPES,
                "a JPEG, PNG or WebP picture",
            )?;
            limiter.check(person.id)?;
            let jpeg = crate::images::process(move || {
                let picture = crate::images::decode(
                    &upload.bytes,
                    &[
                        image::ImageFormat::Jpeg,
                        image::ImageFormat::Png,
                        image::ImageFormat::WebP,
                    ],
                )?;
                let (width, height) = COVER_SIZE;
                crate::images::jpeg(&picture.resize_to_fill(
                    width,
                    height,
                    image::imageops::FilterType::CatmullRom,
                ))
            })
            .await?;
            let key = cover_key(id, &hex::encode(rand::random::<[u8; 8]>()));
            blobs
                .put_bytes(&key, "image/jpeg", jpeg)
                .await
                .map_err(ApiError::internal)?;
            Some(key)
        }
        None => None,
    };
    let saved = async {
        let tx = db::begin_write(db).await?;
        let (mut group, row) = visible(&tx, &viewer, id, true).await?;
        require(
            &viewer,
            &group,
            row.as_ref(),
            Action::Manage,
            "only the group's owners and admins change its cover",
        )?;
        let previous = group.cover_key.clone();
        group.cover_key = new_key.clone();
        group.updated_at = Utc::now().trunc_subsecs(6);
        repo::save(&tx, group.clone()).await?;
        events::append(
            &tx,
            Event::GroupUpdated {
                group: event_of(&group),
            },
        )
        .await?;
        let answer = dto_for(&tx, group, row.as_ref()).await?;
        tx.commit().await?;
        ApiResult::Ok((answer, previous))
    }
    .await;
    let stale = match &saved {
        Ok((_, previous)) => previous.clone(),
        Err(_) => new_key,
    };
    if let Some(key) = stale
        && let Err(error) = blobs.delete(&key).await
    {
        tracing::warn!(%key, error = %format!("{error:#}"), "cannot remove a group cover");
    }
    let (answer, _) = saved?;
    doorbell.ring();
    Ok(answer)
}

/// A group's cover, to whoever may see the group.
pub async fn cover(
    db: &DatabaseConnection,
    blobs: &crate::blobs::Blobs,
    person: &AuthenticatedPerson,
    id: Uuid,
) -> ApiResult<crate::blobs::BlobInfo> {
    let (group, _) = visible(db, &viewer(person), id, false).await?;
    let key = group
        .cover_key
        .ok_or_else(|| ApiError::not_found("cover"))?;
    blobs
        .info(&key)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("cover"))
}

async fn dto_for(
    db: &impl sea_orm::ConnectionTrait,
    group: groups::Model,
    row: Option<&group_members::Model>,
) -> ApiResult<GroupDto> {
    let counts = repo::member_counts(db, &[group.id]).await?;
    let members = counts.get(&group.id).copied().unwrap_or_default();
    Ok(dto(group, members, row))
}

fn clean_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::field("name", "is required"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::field(
            "name",
            format!("must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(ApiError::field(
            "name",
            "must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

fn clean_description(description: &str) -> ApiResult<String> {
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(ApiError::field(
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    Ok(description.trim().to_owned())
}

/// `Café Borrel!` → `cafe-borrel`.
fn slug_from(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization as _;
    use unicode_normalization::char::is_combining_mark;
    let mut slug = String::new();
    for c in name.nfkd().filter(|c| !is_combining_mark(*c)) {
        for lower in c.to_lowercase() {
            if lower.is_ascii_alphanumeric() {
                slug.push(lower);
            } else if !slug.ends_with('-') && !slug.is_empty() {
                slug.push('-');
            }
        }
    }
    let slug: String = slug
        .trim_end_matches('-')
        .chars()
        .take(MAX_SLUG_CHARS - 4)
        .collect();
    let slug = slug.trim_end_matches('-').to_owned();
    if slug.len() < 2 {
        format!("group-{}", &Uuid::now_v7().simple().to_string()[..8])
    } else {
        slug
    }
}

fn check_slug(slug: &str) -> ApiResult<()> {
    let valid = (2..=MAX_SLUG_CHARS).contains(&slug.len())
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if valid {
        Ok(())
    } else {
        Err(ApiError::field(
            "slug",
            format!(
                "must be 2 to {MAX_SLUG_CHARS} lower-case letters, digits and dashes, not starting or ending with a dash"
            ),
        ))
    }
}

pub async fn create(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person: &AuthenticatedPerson,
    request: CreateGroupRequest,
) -> ApiResult<GroupDto> {
    let name = clean_name(&request.name)?;
    let description = clean_description(request.description.as_deref().unwrap_or_default())?;
    let tx = db::begin_write(db).await?;
    let slug = match request.slug {
        Some(slug) => {
            let slug = slug.trim().to_owned();
            check_slug(&slug)?;
            if repo::slug_taken(&tx, &slug).await? {
                let mut error = ApiError::conflict("slug_taken", "another group has this address");
                error
                    .fields
                    .insert("slug".to_owned(), "is already in use".to_owned());
                return Err(error);
            }
            slug
        }
        None => {
            let base = slug_from(&name);
            let mut slug = base.clone();
            let mut n = 2;
            while repo::slug_taken(&tx, &slug).await? {
                slug = format!("{base}-{n}");
                n += 1;
            }
            slug
        }
    };
    let now = Utc::now().trunc_subsecs(6);
    let group = groups::Model {
        id: Uuid::now_v7(),
        slug,
        name,
        description,
        kind: request.kind.as_str().to_owned(),
        visibility: request.visibility.as_str().to_owned(),
        posting: request
            .posting
            .unwrap_or(Posting::Everyone)
            .as_str()
            .to_owned(),
        cover_key: None,
        created_by: Some(person.id),
        created_at: now,
        updated_at: now,
        archived_at: None,
        deleted_at: None,
    };
    repo::insert(&tx, group.clone()).await?;
    let owner = group_members::Model {
        group_id: group.id,
        person_id: person.id,
        role: GroupRole::Owner.as_str().to_owned(),
        state: MemberState::Member.as_str().to_owned(),
        invited_by: None,
        created_at: now,
        updated_at: now,
    };
    repo::put_membership(&tx, owner.clone()).await?;
    events::append(
        &tx,
        Event::GroupCreated {
            group: event_of(&group),
        },
    )
    .await?;
    events::append(&tx, membership_event(&owner, None, person.id)).await?;
    tx.commit().await?;
    doorbell.ring();
    Ok(dto(group, 1, Some(&owner)))
}

/// The event for a membership row as it is now; `before` is how it was, `by` who changed it.
fn membership_event(
    row: &group_members::Model,
    before: Option<&group_members::Model>,
    by: Uuid,
) -> Event {
    Event::GroupMembershipChanged {
        group_id: row.group_id,
        person_id: row.person_id,
        role: GroupRole::parse(&row.role),
        state: MemberState::parse(&row.state),
        previous: before.and_then(|before| MemberState::parse(&before.state)),
        by: (by != row.person_id).then_some(by),
    }
}

fn no_longer_related(before: &group_members::Model, by: Uuid) -> Event {
    Event::GroupMembershipChanged {
        group_id: before.group_id,
        person_id: before.person_id,
        role: None,
        state: None,
        previous: MemberState::parse(&before.state),
        by: (by != before.person_id).then_some(by),
    }
}

/// Groups the caller may know of, in name order: public and private ones, and the secret ones
/// they belong to or are invited to; `mine` only those they are a member of. With `q`, what the
/// group index finds, best match first.
pub async fn list(
    db: &DatabaseConnection,
    index: &SharedGroupIndex,
    person: &AuthenticatedPerson,
    query: GroupListQuery,
) -> ApiResult<Page<GroupDto>> {
    let limit = checked_limit(query.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let text = query.q.clone().unwrap_or_default();
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::field(
            "q",
            format!("must be at most {MAX_QUERY_CHARS} characters"),
        ));
    }
    if !text.trim().is_empty() {
        return search(db, index, person, query, text, limit).await;
    }
    let after = query
        .cursor
        .as_deref()
        .map(Cursor::decode_json::<(String, Uuid)>)
        .transpose()?;
    let rows = repo::visible_page(
        db,
        person.id,
        query.kind.map(Kind::as_str),
        query.mine.unwrap_or(false),
        after,
        limit + 1,
    )
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|group| group.id).collect();
    let counts = repo::member_counts(db, &ids).await?;
    let mine = repo::memberships_of(db, person.id, &ids).await?;
    Ok(Page::from_rows(
        rows,
        limit,
        |group| Cursor::encode_json(&(group.name.clone(), group.id)),
        |group| {
            let members = counts.get(&group.id).copied().unwrap_or_default();
            let row = mine.get(&group.id);
            dto(group, members, row)
        },
    ))
}

async fn search(
    db: &DatabaseConnection,
    index: &SharedGroupIndex,
    person: &AuthenticatedPerson,
    query: GroupListQuery,
    text: String,
    limit: u64,
) -> ApiResult<Page<GroupDto>> {
    let offset = query
        .cursor
        .as_deref()
        .map(Cursor::decode_offset)
        .transpose()?
        .unwrap_or(0);
    let related = repo::related_to(db, person.id).await?;
    let request = GroupSearch {
        query: text,
        kind: query.kind.map(|kind| kind.as_str().to_owned()),
        secret_visible: related.iter().map(|row| row.group_id.to_string()).collect(),
        limit: usize::try_from(limit).unwrap_or(MAX_GROUP_LIMIT),
        offset,
    };
    let searcher = index.clone();
    let results = tokio::task::spawn_blocking(move || searcher.search(&request))
        .await
        .map_err(|error| ApiError::internal(anyhow::anyhow!("search task failed: {error}")))?
        .map_err(ApiError::internal)?;
    let ids: Vec<Uuid> = results
        .ids
        .iter()
        .filter_map(|id| id.parse().ok())
        .collect();
    let found = ids.len();
    let mut rows: std::collections::HashMap<Uuid, groups::Model> = repo::find_many(db, ids.clone())
        .await?
        .into_iter()
        .filter(|group| group.deleted_at.is_none())
        .map(|group| (group.id, group))
        .collect();
    let counts = repo::member_counts(db, &ids).await?;
    let mine = repo::memberships_of(db, person.id, &ids).await?;
    let only_mine = query.mine.unwrap_or(false);
    let viewer = viewer(person);
    let items = ids
        .iter()
        .filter_map(|id| rows.remove(id))
        // Shown as they are now; the index may trail a change by a moment.
        .filter(|group| !policy::hidden(&viewer, &facts(group), standing(mine.get(&group.id))))
        .filter(|group| {
            !only_mine
                || mine
                    .get(&group.id)
                    .is_some_and(|row| row.state == MemberState::Member.as_str())
        })
        .map(|group| {
            let members = counts.get(&group.id).copied().unwrap_or_default();
            let row = mine.get(&group.id);
            dto(group, members, row)
        })
        .collect();
    let next = offset + found;
    Ok(Page {
        items,
        next_cursor: (found > 0 && next < results.total).then(|| Cursor::encode_offset(next)),
    })
}

pub async fn get(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
    id: Uuid,
) -> ApiResult<GroupDto> {
    let (group, row) = visible(db, &viewer(person), id, false).await?;
    dto_for(db, group, row.as_ref()).await
}

pub async fn update(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person: &AuthenticatedPerson,
    id: Uuid,
    request: UpdateGroupRequest,
) -> ApiResult<GroupDto> {
    let viewer = viewer(person);
    let tx = db::begin_write(db).await?;
    let (mut group, row) = visible(&tx, &viewer, id, true).await?;
    let settings = request.name.is_some()
        || request.description.is_some()
        || request.kind.is_some()
        || request.visibility.is_some()
        || request.posting.is_some();
    if settings {
        require(
            &viewer,
            &group,
            row.as_ref(),
            Action::Manage,
            "only the group's owners and admins change its settings",
        )?;
    }
    if request.archived.is_some() {
        require(
            &viewer,
            &group,
            row.as_ref(),
            Action::Archive,
            "only the group's owners and Plein's admins archive a group",
        )?;
    }
    let before = group.clone();
    if let Some(name) = &request.name {
        group.name = clean_name(name)?;
    }
    if let Some(description) = &request.description {
        group.description = clean_description(description)?;
    }
    if let Some(kind) = request.kind {
        group.kind = kind.as_str().to_owned();
    }
    if let Some(visibility) = request.visibility {
        group.visibility = visibility.as_str().to_owned();
    }
    if let Some(posting) = request.posting {
        group.posting = posting.as_str().to_owned();
    }
    let now = Utc::now().trunc_subsecs(6);
    match (request.archived, group.archived_at) {
        (Some(true), None) => group.archived_at = Some(now),
        (Some(false), Some(_)) => group.archived_at = None,
        _ => {}
    }
    if group != before {
        group.updated_at = now;
        repo::save(&tx, group.clone()).await?;
        events::append(
            &tx,
            Event::GroupUpdated {
                group: event_of(&group),
            },
        )
        .await?;
    }
    let answer = dto_for(&tx, group, row.as_ref()).await?;
    tx.commit().await?;
    doorbell.ring();
    Ok(answer)
}

/// Deletes a group for everyone (owners and platform admins).
pub async fn delete(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person: &AuthenticatedPerson,
    id: Uuid,
) -> ApiResult<()> {
    let viewer = viewer(person);
    let tx = db::begin_write(db).await?;
    let (mut group, row) = visible(&tx, &viewer, id, true).await?;
    require(
        &viewer,
        &group,
        row.as_ref(),
        Action::Delete,
        "only the group's owners and Plein's admins delete a group",
    )?;
    let now = Utc::now().trunc_subsecs(6);
    group.deleted_at = Some(now);
    group.updated_at = now;
    repo::save(&tx, group.clone()).await?;
    events::append(
        &tx,
        Event::GroupDeleted {
            group: event_of(&group),
        },
    )
    .await?;
    tx.commit().await?;
    doorbell.ring();
    Ok(())
}

/// Joins a public group, accepts an invitation, or asks to join a private group.
pub async fn join(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person: &AuthenticatedPerson,
    id: Uuid,
) -> ApiResult<GroupDto> {
    let viewer = viewer(person);
    let tx = db::begin_write(db).await?;
    let (group, row) = visible(&tx, &viewer, id, true).await?;
    let facts = facts(&group);
    let current = standing(row.as_ref());
    if current.is_some_and(|standing| standing.state == MemberState::Member) {
        // Joining twice is harmless.
        let answer = dto_for(&tx, group, row.as_ref()).await?;
        return Ok(answer);
    }
    let state = if policy::allows(&viewer, &facts, current, Action::Join) {
        MemberState::Member
    } else if policy::allows(&viewer, &facts, current, Action::RequestToJoin)
        || current.is_some_and(|standing| standing.state == MemberState::Requested)
    {
        MemberState::Requested
    } else if facts.archived {
        return Err(ApiError::conflict(
            "group_archived",
            "this group is archived and takes no new members",
        ));
    } else {
        return Err(ApiError::forbidden("this group is open by invitation only"));
    };
    let now = Utc::now().trunc_subsecs(6);
    let membership = group_members::Model {
        group_id: group.id,
        person_id: person.id,
        role: row
            .as_ref()
            .map_or(GroupRole::Member.as_str().to_owned(), |row| {
                row.role.clone()
            }),
        state: state.as_str().to_owned(),
        invited_by: row.as_ref().and_then(|row| row.invited_by),
        created_at: row.as_ref().map_or(now, |row| row.created_at),
        updated_at: now,
    };
    if row.as_ref() != Some(&membership) {
        repo::put_membership(&tx, membership.clone()).await?;
        events::append(&tx, membership_event(&membership, row.as_ref(), person.id)).await?;
    }
    let answer = dto_for(&tx, group, Some(&membership)).await?;
    tx.commit().await?;
    doorbell.ring();
    Ok(answer)
}

/// Leaves a group, declines an invitation or withdraws a request. The last owner hands over
/// first. Leaving twice is harmless.
pub async fn leave(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person: &AuthenticatedPerson,
    id: Uuid,
) -> ApiResult<()> {
    let viewer = viewer(person);
    let tx = db::begin_write(db).await?;
    let (group, row) = visible(&tx, &viewer, id, true).await?;
    let Some(row) = row else {
        return Ok(());
    };
    refuse_losing_last_owner(&tx, &row, None).await?;
    repo::remove_membership(&tx, group.id, person.id).await?;
    events::append(&tx, no_longer_related(&row, person.id)).await?;
    tx.commit().await?;
    doorbell.ring();
    Ok(())
}

/// Refuses a change that would leave the group without an owner: `row` stops being an owning
/// member, or becomes `new_role`.
async fn refuse_losing_last_owner(
    tx: &impl sea_orm::ConnectionTrait,
    row: &group_members::Model,
    new_role: Option<GroupRole>,
) -> ApiResult<()> {
    let owning = row.state == MemberState::Member.as_str() && row.role == GroupRole::Owner.as_str();
    if !owning || new_role == Some(GroupRole::Owner) {
        return Ok(());
    }
    let owners = repo::owners_for_update(tx, row.group_id).await?;
    if owners.iter().all(|owner| *owner == row.person_id) {
        return Err(ApiError::conflict(
            "last_owner",
            "the group needs another owner first: make someone else an owner",
        ));
    }
    Ok(())
}

pub async fn members(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
    id: Uuid,
    query: MemberListQuery,
) -> ApiResult<Page<MemberDto>> {
    let viewer = viewer(person);
    let limit = checked_limit(query.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let (group, row) = visible(db, &viewer, id, false).await?;
    let state = query.state.unwrap_or(MemberState::Member);
    let action = if state == MemberState::Member {
        Action::ListMembers
    } else {
        Action::Manage
    };
    require(
        &viewer,
        &group,
        row.as_ref(),
        action,
        "only members see who is in this group; invitations and requests are for its admins",
    )?;
    let after = query
        .cursor
        .as_deref()
        .map(Cursor::decode_uuid)
        .transpose()?;
    let rows = repo::members_page(db, group.id, state, after, limit + 1).await?;
    Ok(Page::from_rows(
        rows,
        limit,
        |(row, _)| Cursor::encode_uuid(row.person_id),
        |(row, person)| MemberDto {
            person: PersonCard::from(person),
            role: GroupRole::parse(&row.role).unwrap_or(GroupRole::Member),
            state: MemberState::parse(&row.state).unwrap_or(MemberState::Member),
            since: row.created_at,
        },
    ))
}

async fn member_answer(
    db: &impl sea_orm::ConnectionTrait,
    row: &group_members::Model,
) -> ApiResult<MemberDto> {
    let person = people_repo::find(db, row.person_id)
        .await?
        .ok_or_else(|| ApiError::not_found("person"))?;
    Ok(MemberDto {
        person: PersonCard::from(person),
        role: GroupRole::parse(&row.role).unwrap_or(GroupRole::Member),
        state: MemberState::parse(&row.state).unwrap_or(MemberState::Member),
        since: row.created_at,
    })
}

/// Invites someone (owners and admins). Someone who asked to join becomes a member at once.
pub async fn invite(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person: &AuthenticatedPerson,
    id: Uuid,
    invitee: Uuid,
) -> ApiResult<MemberDto> {
    let viewer = viewer(person);
    let tx = db::begin_write(db).await?;
    let (group, row) = visible(&tx, &viewer, id, true).await?;
    require(
        &viewer,
        &group,
        row.as_ref(),
        Action::Manage,
        "only the group's owners and admins invite people",
    )?;
    let known = people_repo::find(&tx, invitee)
        .await?
        .filter(|person| person.active);
    if known.is_none() {
        return Err(ApiError::field("person_id", "no active person has this id"));
    }
    let existing = repo::membership(&tx, group.id, invitee).await?;
    let now = Utc::now().trunc_subsecs(6);
    let state = match existing
        .as_ref()
        .and_then(|row| MemberState::parse(&row.state))
    {
        Some(MemberState::Member) => {
            let answer = member_answer(
                &tx,
                existing.as_ref().ok_or_else(|| {
                    ApiError::internal(anyhow::anyhow!("the membership vanished"))
                })?,
            )
            .await?;
            return Ok(answer);
        }
        Some(MemberState::Requested) => MemberState::Member,
        Some(MemberState::Invited) | None => MemberState::Invited,
    };
    let membership = group_members::Model {
        group_id: group.id,
        person_id: invitee,
        role: GroupRole::Member.as_str().to_owned(),
        state: state.as_str().to_owned(),
        invited_by: Some(person.id),
        created_at: existing.as_ref().map_or(now, |row| row.created_at),
        updated_at: now,
    };
    repo::put_membership(&tx, membership.clone()).await?;
    events::append(
        &tx,
        membership_event(&membership, existing.as_ref(), person.id),
    )
    .await?;
    let answer = member_answer(&tx, &membership).await?;
    tx.commit().await?;
    doorbell.ring();
    Ok(answer)
}

/// Approves (the requester becomes a member) or declines a request to join.
pub async fn decide_request(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person: &AuthenticatedPerson,
    id: Uuid,
    requester: Uuid,
    approve: bool,
) -> ApiResult<Option<MemberDto>> {
    let viewer = viewer(person);
    let tx = db::begin_write(db).await?;
    let (group, row) = visible(&tx, &viewer, id, true).await?;
    require(
        &viewer,
        &group,
        row.as_ref(),
        Action::Manage,
        "only the group's owners and admins answer requests",
    )?;
    let request = repo::membership(&tx, group.id, requester)
        .await?
        .filter(|row| row.state == MemberState::Requested.as_str())
        .ok_or_else(|| ApiError::not_found("request"))?;
    let answer = if approve {
        let membership = group_members::Model {
            state: MemberState::Member.as_str().to_owned(),
            updated_at: Utc::now().trunc_subsecs(6),
            ..request.clone()
        };
        repo::put_membership(&tx, membership.clone()).await?;
        events::append(
            &tx,
            membership_event(&membership, Some(&request), person.id),
        )
        .await?;
        Some(member_answer(&tx, &membership).await?)
    } else {
        repo::remove_membership(&tx, group.id, requester).await?;
        events::append(&tx, no_longer_related(&request, person.id)).await?;
        None
    };
    tx.commit().await?;
    doorbell.ring();
    Ok(answer)
}

/// Changes a member's role (owners and admins; only owners make or unmake owners).
pub async fn set_role(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person: &AuthenticatedPerson,
    id: Uuid,
    member: Uuid,
    role: GroupRole,
) -> ApiResult<MemberDto> {
    let viewer = viewer(person);
    let tx = db::begin_write(db).await?;
    let (group, row) = visible(&tx, &viewer, id, true).await?;
    require(
        &viewer,
        &group,
        row.as_ref(),
        Action::Manage,
        "only the group's owners and admins change roles",
    )?;
    let target = repo::membership(&tx, group.id, member)
        .await?
        .filter(|row| row.state == MemberState::Member.as_str())
        .ok_or_else(|| ApiError::not_found("member"))?;
    let caller_owns = row
        .as_ref()
        .is_some_and(|row| row.role == GroupRole::Owner.as_str());
    if (role == GroupRole::Owner || target.role == GroupRole::Owner.as_str()) && !caller_owns {
        return Err(ApiError::forbidden("only owners make or unmake owners"));
    }
    refuse_losing_last_owner(&tx, &target, Some(role)).await?;
    let membership = group_members::Model {
        role: role.as_str().to_owned(),
        updated_at: Utc::now().trunc_subsecs(6),
        ..target.clone()
    };
    if membership.role != target.role {
        repo::put_membership(&tx, membership.clone()).await?;
        events::append(&tx, membership_event(&membership, Some(&target), person.id)).await?;
    }
    let answer = member_answer(&tx, &membership).await?;
    tx.commit().await?;
    doorbell.ring();
    Ok(answer)
}

/// Removes a member or withdraws an invitation (owners and admins; only owners remove owners).
pub async fn remove_member(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person: &AuthenticatedPerson,
    id: Uuid,
    member: Uuid,
) -> ApiResult<()> {
    let viewer = viewer(person);
    let tx = db::begin_write(db).await?;
    let (group, row) = visible(&tx, &viewer, id, true).await?;
    require(
        &viewer,
        &group,
        row.as_ref(),
        Action::Manage,
        "only the group's owners and admins remove members",
    )?;
    let target = repo::membership(&tx, group.id, member)
        .await?
        .ok_or_else(|| ApiError::not_found("member"))?;
    let caller_owns = row
        .as_ref()
        .is_some_and(|row| row.role == GroupRole::Owner.as_str());
    if target.role == GroupRole::Owner.as_str() && !caller_owns {
        return Err(ApiError::forbidden("only owners remove owners"));
    }
    refuse_losing_last_owner(&tx, &target, None).await?;
    repo::remove_membership(&tx, group.id, member).await?;
    events::append(&tx, no_longer_related(&target, person.id)).await?;
    tx.commit().await?;
    doorbell.ring();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_made_from_names_and_checked() {
        assert_eq!(slug_from("Café Borrel!"), "cafe-borrel");
        assert_eq!(
            slug_from("  Hardlopen  ’s ochtends "),
            "hardlopen-s-ochtends"
        );
        assert!(slug_from("!!").starts_with("group-"));
        assert!(check_slug("fotografie-club").is_ok());
        for bad in ["A", "-x", "x-", "hallo wereld", "ça", &"x".repeat(81)] {
            assert!(check_slug(bad).is_err(), "{bad}");
        }
    }
}
