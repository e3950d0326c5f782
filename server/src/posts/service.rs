//! Posts, comments and reactions, decided by the groups policy: who may read a group's posts,
//! post there, comment and react. Each change appends its event in the same transaction.

use super::recent::RecentPosts;
use std::collections::{HashMap, HashSet};

use chrono::{SubsecRound as _, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use uuid::Uuid;

use super::dto::{
    AuthorFacet, CommentDto, CommentRequest, FeedQuery, GroupFacet, GroupFeed, HomeFeed,
    MAX_COMMENT_CHARS, MAX_POST_CHARS, PostDto, PostEvent, PostSearchHit, PostSearchQuery,
    PostSearchResults, PostVersionDto, PreviewDto, QuotedComment, Reaction, ReactionCount,
    ReactionSummary, Reactor, ReactorsQuery, WriteRequest,
};
use super::{mentions, repo};
use crate::attachments::{self, Owner};
use crate::auth::AuthenticatedPerson;
use crate::db;
use crate::directory::dto::PersonCard;
use crate::entities::{comments, posts, reactions};
use crate::error::{ApiError, ApiResult};
use crate::events::{self, Doorbell, Event};
use crate::groups::policy::{self, Action};
use crate::groups::service::{facts, require, standing, viewer, visible};
use crate::http::pagination::{Cursor, Page, checked_limit, search_start, split_page};
use crate::markdown;

const DEFAULT_FEED_LIMIT: u64 = 20;
const MAX_FEED_LIMIT: u64 = 100;
/// How much of a comment a reply quotes.
const QUOTE_CHARS: usize = 140;
/// Longest `Idempotency-Key` kept.
const MAX_KEY_CHARS: usize = 200;
/// Most posts pinned in one group.
const MAX_PINNED: usize = 3;

/// A post's or comment's text; it may be empty only when files come with it.
pub(crate) fn clean_body(body: &str, max: usize, with_files: bool) -> ApiResult<String> {
    let body = body.trim();
    if body.is_empty() && !with_files {
        return Err(ApiError::field("body", "is required"));
    }
    if body.chars().count() > max {
        return Err(ApiError::field(
            "body",
            format!("must be at most {max} characters"),
        ));
    }
    if body
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(ApiError::field(
            "body",
            "must not contain control characters",
        ));
    }
    Ok(body.to_owned())
}

/// The people `body` mentions, all of them active people of Plein.
pub(crate) async fn checked_mentions(
    db: &impl ConnectionTrait,
    body: &str,
) -> ApiResult<Vec<Uuid>> {
    let mentioned = mentions::parse(body);
    if mentioned.len() > mentions::MAX_MENTIONS {
        return Err(ApiError::field(
            "body",
            format!("mention at most {} people", mentions::MAX_MENTIONS),
        ));
    }
    if let Some(unknown) = repo::first_not_active(db, &mentioned).await? {
        return Err(ApiError::field(
            "body",
            format!("mentions {unknown}, who is not an active person in Plein"),
        ));
    }
    Ok(mentioned)
}

/// Names of the people the texts mention, for their links.
async fn mention_names<'a>(
    db: &impl ConnectionTrait,
    texts: impl Iterator<Item = &'a str>,
) -> ApiResult<HashMap<Uuid, String>> {
    Ok(
        repo::cards_by_id(db, texts.flat_map(mentions::parse).collect())
            .await?
            .into_values()
            .map(|card| (card.id, card.display_name))
            .collect(),
    )
}

pub(crate) fn render(body: &str, names: &HashMap<Uuid, String>) -> String {
    markdown::render(&mentions::to_markdown(body, names))
}

pub(crate) fn card(people: &HashMap<Uuid, PersonCard>, id: Uuid) -> PersonCard {
    people.get(&id).cloned().unwrap_or_else(|| PersonCard {
        id,
        display_name: String::new(),
        title: None,
        department: None,
        location: None,
        photo_url: None,
    })
}

fn post_event(post: &posts::Model) -> PostEvent {
    PostEvent {
        id: post.id,
        group_id: post.group_id,
        author_id: post.author_id,
    }
}

/// Posts as the caller sees them: authors, counts and their own reactions, in one query each.
async fn dtos(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    rows: Vec<posts::Model>,
) -> ApiResult<Vec<PostDto>> {
    let people = repo::cards_by_id(db, post_people(&rows).collect()).await?;
    assemble_posts(db, viewer, rows, &people).await
}

/// The people posts show: their authors and the people they mention.
fn post_people(rows: &[posts::Model]) -> impl Iterator<Item = Uuid> + '_ {
    rows.iter()
        .map(|post| post.author_id)
        .chain(rows.iter().flat_map(|post| mentions::parse(&post.body)))
}

/// Display names, for mention links.
fn names_of(people: &HashMap<Uuid, PersonCard>) -> HashMap<Uuid, String> {
    people
        .values()
        .map(|person| (person.id, person.display_name.clone()))
        .collect()
}

/// Posts as the caller sees them, given the people they show (read with [`post_people`]): their
/// counts, the caller's own reactions and their files are read here.
async fn assemble_posts(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    rows: Vec<posts::Model>,
    people: &HashMap<Uuid, PersonCard>,
) -> ApiResult<Vec<PostDto>> {
    let ids: Vec<Uuid> = rows.iter().map(|post| post.id).collect();
    let names = names_of(people);
    let mut decorations = repo::decorations(db, viewer, &ids).await?;
    let with_files: Vec<Uuid> = decorations
        .iter()
        .filter(|(_, decoration)| decoration.files > 0)
        .map(|(id, _)| *id)
        .collect();
    let mut files = attachments::of(db, Owner::Post, &with_files).await?;
    Ok(rows
        .into_iter()
        .map(|post| {
            let decoration = decorations.remove(&post.id).unwrap_or_default();
            let mut reactions = Vec::new();
            let mut my_reactions = Vec::new();
            for (name, count, mine) in decoration.reactions {
                if let Some(reaction) = Reaction::parse(&name) {
                    reactions.push(ReactionCount { reaction, count });
                    if mine {
                        my_reactions.push(reaction);
                    }
                }
            }
            reactions.sort_by_key(|count| count.reaction);
            my_reactions.sort();
            let deleted = post.deleted_at.is_some();
            PostDto {
                id: post.id,
                group_id: post.group_id,
                author: card(people, post.author_id),
                body_html: if deleted {
                    String::new()
                } else {
                    render(&post.body, &names)
                },
                body: if deleted { String::new() } else { post.body },
                created_at: post.created_at,
                edited_at: post.edited_at,
                deleted,
                pinned: post.pinned_at.is_some(),
                comment_count: decoration.comments,
                reactions,
                my_reactions,
                attachments: if deleted {
                    Vec::new()
                } else {
                    files.remove(&post.id).unwrap_or_default()
                },
            }
        })
        .collect())
}

async fn one(db: &impl ConnectionTrait, viewer: Uuid, post: posts::Model) -> ApiResult<PostDto> {
    dtos(db, viewer, vec![post])
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("the post vanished")))
}

/// Writes a post in a group.
pub async fn create(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    recent: &RecentPosts,
    person: &AuthenticatedPerson,
    group_id: Uuid,
    request: WriteRequest,
    idempotency_key: Option<&str>,
) -> ApiResult<PostDto> {
    let files = request.attachments.unwrap_or_default();
    let body = clean_body(&request.body, MAX_POST_CHARS, !files.is_empty())?;
    if let Some(key) = idempotency_key
        && (key.is_empty()
            || key.len() > MAX_KEY_CHARS
            || !key.chars().all(|c| c.is_ascii_graphic()))
    {
        return Err(ApiError::field(
            "Idempotency-Key",
            format!("must be 1 to {MAX_KEY_CHARS} visible ASCII characters"),
        ));
    }
    let viewer = viewer(person);
    let tx = db::begin_write(db).await?;
    let id = Uuid::now_v7();
    let now = Utc::now().trunc_subsecs(6);
    if let Some(key) = idempotency_key
        && let Some(earlier) = repo::claim_key(&tx, person.id, key, id, now).await?
    {
        // A retry of a post already stored: the same post, nothing new.
        let post = repo::find_post(&tx, earlier)
            .await?
            .ok_or_else(|| ApiError::not_found("post"))?;
        tx.commit().await?;
        return one(db, person.id, post).await;
    }
    let (group, row) = visible(&tx, &viewer, group_id, false).await?;
    let facts = facts(&group);
    if !policy::allows(&viewer, &facts, standing(row.as_ref()), Action::Post) {
        return Err(if facts.archived {
            ApiError::conflict(
                "group_archived",
                "this group is archived and takes no new posts",
            )
        } else {
            ApiError::forbidden("you may not post in this group")
        });
    }
    let post = posts::Model {
        id,
        group_id,
        author_id: person.id,
        body,
        created_at: now,
        edited_at: None,
        deleted_at: None,
        pinned_at: None,
    };
    let mentioned = checked_mentions(&tx, &post.body).await?;
    repo::insert_post(&tx, post.clone()).await?;
    attachments::attach(&tx, person.id, Owner::Post(post.id), &files).await?;
    repo::add_mentions(&tx, post.id, post.id, &mentioned).await?;
    events::append(
        &tx,
        Event::PostCreated {
            post: post_event(&post),
        },
    )
    .await?;
    tx.commit().await?;
    doorbell.ring();
    // The writer's own home feed has it at once, before the outbox brings it.
    recent.added(post.group_id, post.id);
    // Read back after the commit: the write lock is held no longer than the writes need.
    one(db, person.id, post).await
}

/// One page of posts, newest first, from `limit + 1` rows.
async fn page_of(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    rows: Vec<posts::Model>,
    limit: u64,
) -> ApiResult<Page<PostDto>> {
    let (rows, next_cursor) = split_page(rows, limit, |post| Cursor::encode_uuid(post.id));
    Ok(Page {
        items: dtos(db, viewer, rows).await?,
        next_cursor,
    })
}

fn before_of(query: &FeedQuery) -> ApiResult<Option<Uuid>> {
    query.cursor.as_deref().map(Cursor::decode_uuid).transpose()
}

/// A group's posts, newest first, keyset-paged; its pinned posts come with the first page.
pub async fn feed(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
    group_id: Uuid,
    query: FeedQuery,
) -> ApiResult<GroupFeed> {
    let viewer = viewer(person);
    let limit = checked_limit(query.limit, DEFAULT_FEED_LIMIT, MAX_FEED_LIMIT)?;
    let (group, row) = visible(db, &viewer, group_id, false).await?;
    require(
        &viewer,
        &group,
        row.as_ref(),
        Action::ReadPosts,
        "only members read this group's posts",
    )?;
    let before = before_of(&query)?;
    let pinned = if before.is_none() {
        let rows = repo::pinned(db, group_id).await?;
        dtos(db, person.id, rows).await?
    } else {
        Vec::new()
    };
    let rows = repo::group_feed(db, group_id, before, limit + 1).await?;
    let page = page_of(db, person.id, rows, limit).await?;
    Ok(GroupFeed {
        items: page.items,
        next_cursor: page.next_cursor,
        pinned,
    })
}

/// Home: the posts of every group the caller is a member of, newest first.
pub async fn home(
    db: &DatabaseConnection,
    recent: &RecentPosts,
    person: &AuthenticatedPerson,
    query: FeedQuery,
) -> ApiResult<HomeFeed> {
    let limit = checked_limit(query.limit, DEFAULT_FEED_LIMIT, MAX_FEED_LIMIT)?;
    let before = before_of(&query)?;
    let announcements = if before.is_none() {
        crate::announcements::service::pinned_for(db, person).await?
    } else {
        Vec::new()
    };
    let rows = repo::home_feed(db, recent, person.id, before, limit + 1).await?;
    let page = page_of(db, person.id, rows, limit).await?;
    Ok(HomeFeed {
        items: page.items,
        next_cursor: page.next_cursor,
        announcements,
    })
}

/// What someone wrote, as far as the caller may read it (for their profile).
pub async fn by_author(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
    author: Uuid,
    query: FeedQuery,
) -> ApiResult<Page<PostDto>> {
    let limit = checked_limit(query.limit, DEFAULT_FEED_LIMIT, MAX_FEED_LIMIT)?;
    let known = crate::directory::repo::find(db, author)
        .await?
        .filter(|author| author.active || person.role == crate::directory::dto::Role::Admin);
    if known.is_none() {
        return Err(ApiError::not_found("person"));
    }
    let rows = repo::author_feed(db, person.id, author, before_of(&query)?, limit + 1).await?;
    page_of(db, person.id, rows, limit).await
}

/// A post the caller may read, with its group and their standing; a post that is gone (deleted
/// without comments) or in a group they may not read is not found.
async fn readable(
    db: &impl ConnectionTrait,
    person: &AuthenticatedPerson,
    id: Uuid,
) -> ApiResult<(
    posts::Model,
    crate::entities::groups::Model,
    Option<crate::entities::group_members::Model>,
)> {
    let viewer = viewer(person);
    let post = repo::find_post(db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("post"))?;
    let (group, row) = visible(db, &viewer, post.group_id, false)
        .await
        .map_err(|_| ApiError::not_found("post"))?;
    if !policy::allows(
        &viewer,
        &facts(&group),
        standing(row.as_ref()),
        Action::ReadPosts,
    ) {
        return Err(ApiError::not_found("post"));
    }
    if post.deleted_at.is_some() && !repo::has_live_comments(db, post.id).await? {
        return Err(ApiError::not_found("post"));
    }
    Ok((post, group, row))
}

/// Whether the caller may read a post that is not deleted (for its files).
pub async fn readable_live(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
    id: Uuid,
) -> ApiResult<bool> {
    match readable(db, person, id).await {
        Ok((post, _, _)) => Ok(post.deleted_at.is_none()),
        Err(error) if error.status == axum::http::StatusCode::NOT_FOUND => Ok(false),
        Err(error) => Err(error),
    }
}

pub async fn get(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
    id: Uuid,
) -> ApiResult<PostDto> {
    let (post, _, _) = readable(db, person, id).await?;
    one(db, person.id, post).await
}

/// Edits one's own post; the earlier text is kept for the group's admins.
pub async fn edit(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person: &AuthenticatedPerson,
    id: Uuid,
    request: WriteRequest,
) -> ApiResult<PostDto> {
    let tx = db::begin_write(db).await?;
    let (mut post, group, _) = readable(&tx, person, id).await?;
    if post.author_id != person.id || post.deleted_at.is_some() {
        return Err(ApiError::forbidden("only its author edits a post"));
    }
    if group.archived_at.is_some() {
        return Err(ApiError::conflict(
            "group_archived",
            "this group is archived; its posts stay as they are",
        ));
    }
    let files_before = attachments::of(&tx, Owner::Post, &[post.id])
        .await?
        .remove(&post.id)
        .unwrap_or_default();
    let files_after = request
        .attachments
        .unwrap_or_else(|| files_before.iter().map(|file| file.id).collect());
    let body = clean_body(&request.body, MAX_POST_CHARS, !files_after.is_empty())?;
    let files_changed = files_after
        .iter()
        .ne(files_before.iter().map(|file| &file.id));
    if files_changed {
        attachments::attach(&tx, person.id, Owner::Post(post.id), &files_after).await?;
    }
    if post.body != body || files_changed {
        let now = Utc::now().trunc_subsecs(6);
        let mentioned = checked_mentions(&tx, &body).await?;
        repo::keep_version(&tx, &post, person.id, now).await?;
        repo::add_mentions(&tx, post.id, post.id, &mentioned).await?;
        post.body = body;
        post.edited_at = Some(now);
        repo::save_post(&tx, post.clone()).await?;
        events::append(
            &tx,
            Event::PostUpdated {
                post: post_event(&post),
            },
        )
        .await?;
    }
    let answer = one(&tx, person.id, post).await?;
    tx.commit().await?;
    doorbell.ring();
    Ok(answer)
}

/// Deletes a post: its author, or the group's owners and admins. It keeps its place as
/// "deleted" while it has comments; its text is kept for the group's admins.
pub async fn delete(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person: &AuthenticatedPerson,
    id: Uuid,
) -> ApiResult<()> {
    let viewer = viewer(person);
    let tx = db::begin_write(db).await?;
    let (mut post, group, row) = readable(&tx, person, id).await?;
    let moderator = policy::allows(
        &viewer,
        &facts(&group),
        standing(row.as_ref()),
        Action::Manage,
    );
    if post.author_id != person.id && !moderator {
        return Err(ApiError::forbidden(
            "only its author and the group's admins delete a post",
        ));
    }
    if post.deleted_at.is_none() {
        let now = Utc::now().trunc_subsecs(6);
        repo::keep_version(&tx, &post, person.id, now).await?;
        post.body = String::new();
        post.deleted_at = Some(now);
        repo::save_post(&tx, post.clone()).await?;
        events::append(
            &tx,
            Event::PostDeleted {
                post: post_event(&post),
            },
        )
        .await?;
    }
    tx.commit().await?;
    doorbell.ring();
    Ok(())
}

/// A post's comments, oldest first; replies quote the comment they answer.
pub async fn comments(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
    post_id: Uuid,
    query: FeedQuery,
) -> ApiResult<Page<CommentDto>> {
    let limit = checked_limit(query.limit, 50, 200)?;
    let (post, _, _) = readable(db, person, post_id).await?;
    let after = query
        .cursor
        .as_deref()
        .map(Cursor::decode_uuid)
        .transpose()?;
    let rows = repo::comments_page(db, post.id, after, limit + 1).await?;
    // Comments page oldest first, so the cursor is the last one shown.
    let (rows, next_cursor) = split_page(rows, limit, |comment| Cursor::encode_uuid(comment.id));
    Ok(Page {
        items: comment_dtos(db, rows).await?,
        next_cursor,
    })
}

async fn comment_dtos(
    db: &impl ConnectionTrait,
    rows: Vec<comments::Model>,
) -> ApiResult<Vec<CommentDto>> {
    let quoted = comment_quotes(db, &rows).await?;
    let people = repo::cards_by_id(db, comment_people(&rows, &quoted)).await?;
    assemble_comments(db, rows, &quoted, &people).await
}

/// The comments these reply to.
async fn comment_quotes(
    db: &impl ConnectionTrait,
    rows: &[comments::Model],
) -> ApiResult<HashMap<Uuid, comments::Model>> {
    Ok(repo::comments_by_id(db, rows.iter().filter_map(|row| row.reply_to).collect()).await?)
}

/// The people comments show: their authors, the authors they quote and the people they mention.
fn comment_people(rows: &[comments::Model], quoted: &HashMap<Uuid, comments::Model>) -> Vec<Uuid> {
    rows.iter()
        .map(|row| row.author_id)
        .chain(quoted.values().map(|row| row.author_id))
        .chain(rows.iter().flat_map(|row| mentions::parse(&row.body)))
        .collect()
}

/// Comments as shown, given what they quote ([`comment_quotes`]) and the people they show
/// ([`comment_people`]); their files are read here.
async fn assemble_comments(
    db: &impl ConnectionTrait,
    rows: Vec<comments::Model>,
    quoted: &HashMap<Uuid, comments::Model>,
    people: &HashMap<Uuid, PersonCard>,
) -> ApiResult<Vec<CommentDto>> {
    let names = names_of(people);
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let mut files = attachments::of(db, Owner::Comment, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let deleted = row.deleted_at.is_some();
            CommentDto {
                id: row.id,
                post_id: row.post_id,
                author: card(people, row.author_id),
                reply_to: row
                    .reply_to
                    .and_then(|id| quoted.get(&id))
                    .map(|quote| QuotedComment {
                        id: quote.id,
                        author: card(people, quote.author_id),
                        excerpt: if quote.deleted_at.is_some() {
                            String::new()
                        } else {
                            quote.body.chars().take(QUOTE_CHARS).collect()
                        },
                    }),
                body_html: if deleted {
                    String::new()
                } else {
                    render(&row.body, &names)
                },
                body: if deleted { String::new() } else { row.body },
                created_at: row.created_at,
                deleted,
                attachments: if deleted {
                    Vec::new()
                } else {
                    files.remove(&row.id).unwrap_or_default()
                },
            }
        })
        .collect())
}

/// Comments on a post (members of its group, while it is not archived).
pub async fn comment(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person: &AuthenticatedPerson,
    post_id: Uuid,
    request: CommentRequest,
) -> ApiResult<CommentDto> {
    let body = clean_body(
        &request.body,
        MAX_COMMENT_CHARS,
        !request.attachments.is_empty(),
    )?;
    let viewer = viewer(person);
    let tx = db::begin_write(db).await?;
    let (post, group, row) = readable(&tx, person, post_id).await?;
    require(
        &viewer,
        &group,
        row.as_ref(),
        Action::Respond,
        "only members comment, and not in an archived group",
    )?;
    if post.deleted_at.is_some() {
        return Err(ApiError::conflict("post_deleted", "this post was deleted"));
    }
    if let Some(reply_to) = request.reply_to {
        let answered = repo::find_comment(&tx, reply_to).await?;
        if answered.is_none_or(|answered| answered.post_id != post.id) {
            return Err(ApiError::field("reply_to", "is not a comment on this post"));
        }
    }
    let comment = comments::Model {
        id: Uuid::now_v7(),
        post_id: post.id,
        author_id: person.id,
        reply_to: request.reply_to,
        body,
        created_at: Utc::now().trunc_subsecs(6),
        edited_at: None,
        deleted_at: None,
    };
    let mentioned = checked_mentions(&tx, &comment.body).await?;
    repo::insert_comment(&tx, comment.clone()).await?;
    attachments::attach(
        &tx,
        person.id,
        Owner::Comment(comment.id),
        &request.attachments,
    )
    .await?;
    repo::add_mentions(&tx, comment.id, post.id, &mentioned).await?;
    events::append(
        &tx,
        Event::CommentCreated {
            comment_id: comment.id,
            post: post_event(&post),
            reply_to: comment.reply_to,
        },
    )
    .await?;
    let answer = comment_dtos(&tx, vec![comment])
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("the comment vanished")))?;
    tx.commit().await?;
    doorbell.ring();
    Ok(answer)
}

/// Who reacted to a post the caller may read, newest first.
pub async fn reactors(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
    post_id: Uuid,
    query: ReactorsQuery,
) -> ApiResult<Page<Reactor>> {
    let limit = checked_limit(query.limit, 50, 100)?;
    let (post, _, _) = readable(db, person, post_id).await?;
    let offset = query
        .cursor
        .as_deref()
        .map(Cursor::decode_offset)
        .transpose()?
        .map_or(0, |offset| offset as u64);
    let rows = repo::reactors(
        db,
        post.id,
        query.reaction.map(Reaction::as_str),
        offset,
        limit + 1,
    )
    .await?;
    let (rows, next_cursor) = split_page(rows, limit, |_| {
        Cursor::encode_offset(usize::try_from(offset + limit).unwrap_or(usize::MAX))
    });
    let people = repo::cards_by_id(db, rows.iter().map(|row| row.person_id).collect()).await?;
    Ok(Page {
        items: rows
            .into_iter()
            .filter_map(|row| {
                Some(Reactor {
                    person: card(&people, row.person_id),
                    reaction: Reaction::parse(&row.reaction)?,
                    created_at: row.created_at,
                })
            })
            .collect(),
        next_cursor,
    })
}

/// Gives (`on`) or takes back a reaction; doing it twice changes nothing.
pub async fn react(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person: &AuthenticatedPerson,
    post_id: Uuid,
    reaction: &str,
    on: bool,
) -> ApiResult<ReactionSummary> {
    let reaction = Reaction::parse(reaction).ok_or_else(|| {
        ApiError::field(
            "reaction",
            "must be like, love, laugh, celebrate, insightful or sad",
        )
    })?;
    let viewer = viewer(person);
    let tx = db::begin_write(db).await?;
    let (post, group, row) = readable(&tx, person, post_id).await?;
    require(
        &viewer,
        &group,
        row.as_ref(),
        Action::Respond,
        "only members react, and not in an archived group",
    )?;
    if post.deleted_at.is_some() {
        return Err(ApiError::conflict("post_deleted", "this post was deleted"));
    }
    let changed = if on {
        repo::add_reaction(
            &tx,
            reactions::Model {
                post_id: post.id,
                person_id: person.id,
                reaction: reaction.as_str().to_owned(),
                created_at: Utc::now().trunc_subsecs(6),
            },
        )
        .await?
    } else {
        repo::remove_reaction(&tx, post.id, person.id, reaction.as_str()).await?
    };
    if changed {
        events::append(
            &tx,
            Event::ReactionChanged {
                post: post_event(&post),
                person_id: person.id,
                reaction: reaction.as_str().to_owned(),
                on,
            },
        )
        .await?;
    }
    tx.commit().await?;
    if changed {
        doorbell.ring();
    }
    let shown = one(db, person.id, post).await?;
    Ok(ReactionSummary {
        reactions: shown.reactions,
        my_reactions: shown.my_reactions,
    })
}

/// Pins a post on top of its group's feed (`on`) or unpins it: the group's owners and admins;
/// at most three at a time.
pub async fn pin(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person: &AuthenticatedPerson,
    id: Uuid,
    on: bool,
) -> ApiResult<PostDto> {
    let viewer = viewer(person);
    let tx = db::begin_write(db).await?;
    let (mut post, _, _) = readable(&tx, person, id).await?;
    // Locks the group, so two pins at once cannot both pass the limit.
    let (group, row) = visible(&tx, &viewer, post.group_id, true).await?;
    require(
        &viewer,
        &group,
        row.as_ref(),
        Action::Manage,
        "only the group's owners and admins pin posts",
    )?;
    if post.deleted_at.is_some() {
        return Err(ApiError::conflict("post_deleted", "this post was deleted"));
    }
    let changed = match (on, post.pinned_at) {
        (true, None) => {
            if repo::pinned(&tx, group.id).await?.len() >= MAX_PINNED {
                return Err(ApiError::conflict(
                    "too_many_pins",
                    format!("a group pins at most {MAX_PINNED} posts; unpin one first"),
                ));
            }
            post.pinned_at = Some(Utc::now().trunc_subsecs(6));
            true
        }
        (false, Some(_)) => {
            post.pinned_at = None;
            true
        }
        _ => false,
    };
    if changed {
        repo::save_post(&tx, post.clone()).await?;
        events::append(
            &tx,
            Event::PostUpdated {
                post: post_event(&post),
            },
        )
        .await?;
    }
    let answer = one(&tx, person.id, post).await?;
    tx.commit().await?;
    if changed {
        doorbell.ring();
    }
    Ok(answer)
}

/// What a post said before each edit (and before it was deleted): the group's owners and admins.
pub async fn versions(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
    id: Uuid,
) -> ApiResult<Vec<PostVersionDto>> {
    let viewer = viewer(person);
    let post = repo::find_post(db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("post"))?;
    let (group, row) = visible(db, &viewer, post.group_id, false)
        .await
        .map_err(|_| ApiError::not_found("post"))?;
    if !policy::allows(
        &viewer,
        &facts(&group),
        standing(row.as_ref()),
        Action::ReadPosts,
    ) {
        return Err(ApiError::not_found("post"));
    }
    require(
        &viewer,
        &group,
        row.as_ref(),
        Action::Manage,
        "only the group's owners and admins see earlier versions",
    )?;
    Ok(repo::versions(db, post.id)
        .await?
        .into_iter()
        .map(|version| PostVersionDto {
            version: version.version,
            body: version.body,
            edited_by: version.edited_by,
            edited_at: version.edited_at,
        })
        .collect())
}

/// Full-text search over the posts and comments the caller may read.
///
/// The index is searched in the groups this node's hub knows the caller may read (public groups
/// and their own, from the outbox); what the answer shows (posts, comments and facet groups) is
/// then checked against the database, so a change the hub has not heard of yet can leave a hit
/// out for a moment but never show one the caller may not read.
pub async fn search(
    db: &DatabaseConnection,
    index: &super::indexer::SharedPostIndex,
    hub: &crate::realtime::hub::Hub,
    person: &AuthenticatedPerson,
    query: PostSearchQuery,
) -> ApiResult<PostSearchResults> {
    let limit = checked_limit(query.limit, 20, 50)?;
    let (text, offset) = search_start(query.q.clone(), query.cursor.as_deref())?;
    let viewer = viewer(person);
    // As the index writes them (hyphenated, lower case: the same order as the ids), walked
    // along each segment's groups in order.
    let readable_here =
        plein_search::SortedKeys::new(hub.readable_groups(person.id).into_iter().map(|group| {
            let mut text = [0; uuid::fmt::Hyphenated::LENGTH];
            group.hyphenated().encode_lower(&mut text);
            text
        }));
    let request = plein_search::posts::PostSearch {
        query: text,
        groups: plein_search::KeyFilter::Accepted(plein_search::KeyTest::listed(readable_here)),
        group: query.group.map(|id| id.to_string()),
        author: query.author.map(|id| id.to_string()),
        limit: usize::try_from(limit).unwrap_or(50),
        offset,
    };
    let searcher = index.clone();
    let found = tokio::task::spawn_blocking(move || searcher.search(&request))
        .await
        .map_err(|error| ApiError::internal(anyhow::anyhow!("post search failed: {error}")))?
        .map_err(ApiError::internal)?;
    let parse = |text: &str| text.parse::<Uuid>().ok();
    let post_ids: Vec<Uuid> = found
        .hits
        .iter()
        .filter_map(|hit| parse(&hit.post_id))
        .collect();
    let comment_ids: Vec<Uuid> = found
        .hits
        .iter()
        .filter(|hit| hit.kind == "comment")
        .filter_map(|hit| parse(&hit.id))
        .collect();
    let post_rows = repo::posts_by_id(db, post_ids).await?;
    // The groups shown (the hits' and the facets'), as the database has them now.
    let mut shown_groups: Vec<Uuid> = post_rows.values().map(|post| post.group_id).collect();
    shown_groups.extend(found.groups.iter().filter_map(|facet| parse(&facet.value)));
    shown_groups.sort_unstable();
    shown_groups.dedup();
    let readable: HashMap<Uuid, String> =
        crate::groups::repo::weighed_for_search(db, person.id, shown_groups)
            .await?
            .into_iter()
            .filter(|group| {
                !group.deleted
                    && policy::allows(&viewer, &group.facts, group.standing, Action::ReadPosts)
            })
            .map(|group| (group.id, group.name))
            .collect();
    let mut post_rows: Vec<posts::Model> = post_rows
        .into_values()
        .filter(|post| post.deleted_at.is_none() && readable.contains_key(&post.group_id))
        .collect();
    post_rows.sort_by_key(|post| post.id);
    let shown_posts: HashSet<Uuid> = post_rows.iter().map(|post| post.id).collect();
    let mut comment_rows: Vec<comments::Model> = repo::comments_by_id(db, comment_ids)
        .await?
        .into_values()
        .filter(|comment| comment.deleted_at.is_none() && shown_posts.contains(&comment.post_id))
        .collect();
    comment_rows.sort_by_key(|comment| comment.id);
    let quoted = comment_quotes(db, &comment_rows).await?;
    // Everyone the answer shows, in one read.
    let mut people: Vec<Uuid> = post_people(&post_rows).collect();
    people.extend(comment_people(&comment_rows, &quoted));
    people.extend(found.authors.iter().filter_map(|facet| parse(&facet.value)));
    let people = repo::cards_by_id(db, people).await?;
    let posts: HashMap<Uuid, PostDto> = assemble_posts(db, person.id, post_rows, &people)
        .await?
        .into_iter()
        .map(|post| (post.id, post))
        .collect();
    let comments: HashMap<Uuid, CommentDto> = assemble_comments(db, comment_rows, &quoted, &people)
        .await?
        .into_iter()
        .map(|comment| (comment.id, comment))
        .collect();
    let items: Vec<PostSearchHit> = found
        .hits
        .iter()
        .filter_map(|hit| {
            let post = posts.get(&parse(&hit.post_id)?)?.clone();
            let comment = if hit.kind == "comment" {
                Some(comments.get(&parse(&hit.id)?)?.clone())
            } else {
                None
            };
            Some(PostSearchHit { post, comment })
        })
        .collect();
    let next = offset + found.hits.len();
    let next_cursor = (next < found.total).then(|| Cursor::encode_offset(next));
    Ok(PostSearchResults {
        items,
        next_cursor,
        total: found.total as u64,
        groups: found
            .groups
            .iter()
            .filter_map(|facet| {
                let id = parse(&facet.value)?;
                Some(GroupFacet {
                    group_id: id,
                    name: readable.get(&id)?.clone(),
                    count: facet.count,
                })
            })
            .collect(),
        authors: found
            .authors
            .iter()
            .filter_map(|facet| {
                let id = parse(&facet.value)?;
                Some(AuthorFacet {
                    person: card(&people, id),
                    count: facet.count,
                })
            })
            .collect(),
    })
}

/// Renders Markdown (with mentions) exactly as a post shows it, for the composer's preview.
pub async fn preview(db: &DatabaseConnection, body: &str) -> ApiResult<PreviewDto> {
    if body.chars().count() > MAX_POST_CHARS {
        return Err(ApiError::field(
            "body",
            format!("must be at most {MAX_POST_CHARS} characters"),
        ));
    }
    let names = mention_names(db, std::iter::once(body)).await?;
    Ok(PreviewDto {
        body_html: render(body, &names),
    })
}
