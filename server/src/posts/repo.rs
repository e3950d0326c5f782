//! The queries behind posts, comments and reactions.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait as _, Query};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, Condition, ConnectionTrait, DbBackend, DbErr,
    EntityTrait as _, IntoActiveModel as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
    Statement,
};
use uuid::Uuid;

use crate::directory::dto::PersonCard;
use crate::posts::recent::{KEPT, RecentPosts};

use crate::entities::{
    comments, group_members, groups, mentions, people, post_keys, post_versions, posts, reactions,
};

pub async fn insert_post(db: &impl ConnectionTrait, post: posts::Model) -> Result<(), DbErr> {
    posts::ActiveModel::from(post).insert(db).await?;
    Ok(())
}

pub async fn save_post(db: &impl ConnectionTrait, post: posts::Model) -> Result<(), DbErr> {
    post.into_active_model().reset_all().update(db).await?;
    Ok(())
}

pub async fn find_post(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<posts::Model>, DbErr> {
    posts::Entity::find_by_id(id).one(db).await
}

/// Keeps what a post said before an edit or a deletion.
pub async fn keep_version(
    db: &impl ConnectionTrait,
    post: &posts::Model,
    edited_by: Uuid,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    let last: Option<i32> = post_versions::Entity::find()
        .select_only()
        .column_as(post_versions::Column::Version.max(), "last")
        .filter(post_versions::Column::PostId.eq(post.id))
        .into_tuple::<Option<i32>>()
        .one(db)
        .await?
        .flatten();
    post_versions::ActiveModel::from(post_versions::Model {
        post_id: post.id,
        version: last.unwrap_or(0) + 1,
        body: post.body.clone(),
        edited_by: Some(edited_by),
        edited_at: at,
    })
    .insert(db)
    .await?;
    Ok(())
}

/// A group's posts, newest first, before `before` (ids are UUIDv7: their order is creation
/// order, so the page stays put while new posts arrive).
pub async fn group_feed(
    db: &impl ConnectionTrait,
    group_id: Uuid,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<posts::Model>, DbErr> {
    let select = posts::Entity::find()
        .filter(posts::Column::GroupId.eq(group_id))
        .filter(shown())
        .filter(posts::Column::PinnedAt.is_null());
    newest_first(db, select, before, limit).await
}

async fn newest_first(
    db: &impl ConnectionTrait,
    mut select: sea_orm::Select<posts::Entity>,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<posts::Model>, DbErr> {
    if let Some(before) = before {
        select = select.filter(posts::Column::Id.lt(before));
    }
    select
        .order_by_desc(posts::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Posts that are shown: not deleted, or deleted with comments that keep their place. The
/// comment check runs only for deleted posts, one index probe each.
fn shown() -> Condition {
    Condition::any()
        .add(posts::Column::DeletedAt.is_null())
        .add(Expr::exists(live_comment_on_post()))
}

/// A live comment on the post of the enclosing query.
fn live_comment_on_post() -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .expr(Expr::val(1))
        .from(comments::Entity)
        .and_where(
            Expr::col((comments::Entity, comments::Column::PostId))
                .equals((posts::Entity, posts::Column::Id)),
        )
        .and_where(Expr::col((comments::Entity, comments::Column::DeletedAt)).is_null())
        .to_owned()
}

/// Groups (not deleted) `person` is a member of.
fn member_groups(person: Uuid) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(group_members::Column::GroupId)
        .from(group_members::Entity)
        .and_where(Expr::col(group_members::Column::PersonId).eq(person))
        .and_where(Expr::col(group_members::Column::State).eq("member"))
        .to_owned()
}

fn live_groups() -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(groups::Column::Id)
        .from(groups::Entity)
        .and_where(Expr::col(groups::Column::DeletedAt).is_null())
        .to_owned()
}

/// The groups (not deleted) `person` is a member of, from indexes alone: their memberships
/// carry the group id, and the few deleted groups are left out by an index of their own
/// rather than by looking up every group.
pub async fn my_live_groups(db: &impl ConnectionTrait, person: Uuid) -> Result<Vec<Uuid>, DbErr> {
    let deleted = Query::select()
        .expr(Expr::val(1))
        .from(groups::Entity)
        .and_where(
            Expr::col((groups::Entity, groups::Column::Id))
                .equals((group_members::Entity, group_members::Column::GroupId)),
        )
        .and_where(Expr::col((groups::Entity, groups::Column::DeletedAt)).is_not_null())
        .to_owned();
    let query = Query::select()
        .column((group_members::Entity, group_members::Column::GroupId))
        .from(group_members::Entity)
        .and_where(Expr::col((group_members::Entity, group_members::Column::PersonId)).eq(person))
        .and_where(Expr::col((group_members::Entity, group_members::Column::State)).eq("member"))
        .and_where(Expr::exists(deleted).not())
        .to_owned();
    ids_of(db, &query).await
}

/// The ids a statement of one id column answers.
async fn ids_of(
    db: &impl ConnectionTrait,
    query: &sea_orm::sea_query::SelectStatement,
) -> Result<Vec<Uuid>, DbErr> {
    db.query_all_raw(db.get_database_backend().build(query))
        .await?
        .iter()
        .map(|row| row.try_get_by_index::<Uuid>(0))
        .collect()
}

/// Groups per home-feed statement: each is one branch of a `UNION ALL`, well below SQLite's
/// limit of 500 branches.
const FAN_IN_GROUPS: usize = 100;
/// Candidates read beyond a page, for posts that turn out deleted.
const FAN_IN_SLACK: u64 = 8;

/// Home: the posts of every group `person` is a member of, newest first. Fan-in: each group
/// offers its newest post ids, from this node's memory ([`RecentPosts`]) or, for a group it
/// cannot answer for, from the group's `(group_id, id)` index; the newest of those are the
/// candidates, and only they are read whole, so a page costs the same however many posts the
/// groups hold. Deleted posts among the candidates are made up for by reading further.
pub async fn home_feed(
    db: &impl ConnectionTrait,
    recent: &RecentPosts,
    person: Uuid,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<posts::Model>, DbErr> {
    let groups = my_live_groups(db, person).await?;
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    fill_recent(db, recent, &groups).await?;
    let backend = db.get_database_backend();
    let want = limit + FAN_IN_SLACK;
    let wanted = usize::try_from(limit).unwrap_or(usize::MAX);
    let want_ids = usize::try_from(want).unwrap_or(usize::MAX);
    let mut page: Vec<posts::Model> = Vec::new();
    let mut before = before;
    loop {
        let found = recent.candidates(&groups, before, want_ids);
        let mut candidates = found.ids;
        for chunk in found.elsewhere.chunks(FAN_IN_GROUPS) {
            let (sql, values) = newest_ids(backend, chunk, before, want, true);
            let statement = Statement::from_sql_and_values(backend, sql, values);
            for row in db.query_all_raw(statement).await? {
                candidates.push(row.try_get_by_index::<Uuid>(1)?);
            }
        }
        candidates.sort_unstable_by_key(|id| std::cmp::Reverse(*id));
        candidates.truncate(want_ids);
        let exhausted = candidates.len() < want_ids;
        before = candidates.last().copied();
        if !candidates.is_empty() {
            let mut rows = posts::Entity::find()
                .filter(crate::db::one_of(
                    db.get_database_backend(),
                    posts::Column::Id,
                    candidates,
                ))
                .filter(shown())
                .all(db)
                .await?;
            rows.sort_unstable_by_key(|post| std::cmp::Reverse(post.id));
            page.extend(rows);
        }
        if page.len() >= wanted || exhausted {
            page.truncate(wanted);
            return Ok(page);
        }
    }
}

/// Reads the newest ids of the groups this node's memory has not filled yet.
async fn fill_recent(
    db: &impl ConnectionTrait,
    recent: &RecentPosts,
    groups: &[Uuid],
) -> Result<(), DbErr> {
    let (missing, generation) = recent.unfilled(groups);
    if missing.is_empty() {
        return Ok(());
    }
    let backend = db.get_database_backend();
    let mut read: HashMap<Uuid, Vec<Uuid>> =
        missing.iter().map(|group| (*group, Vec::new())).collect();
    let each = u64::try_from(KEPT + 1).unwrap_or(u64::MAX);
    for chunk in missing.chunks(FAN_IN_GROUPS) {
        let (sql, values) = newest_ids(backend, chunk, None, each, false);
        let statement = Statement::from_sql_and_values(backend, sql, values);
        for row in db.query_all_raw(statement).await? {
            let group: Uuid = row.try_get_by_index(0)?;
            read.entry(group)
                .or_default()
                .push(row.try_get_by_index(1)?);
        }
    }
    for ids in read.values_mut() {
        ids.sort_unstable_by_key(|id| std::cmp::Reverse(*id));
    }
    recent.fill(generation, read);
    Ok(())
}

/// Parameter `n` (from 1) of a raw statement.
fn placeholder(backend: DbBackend, n: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => format!("?{n}"),
    }
}

/// `(group_id, id)` of the newest `limit` posts (before `before`) of each of `groups`, each
/// group read from its index as one branch of one statement, and of those only the newest
/// `limit` when `overall`; as SQL and its values. The limit is written into the text (it takes
/// a handful of values): knowing it, PostgreSQL keeps one generic plan for the statement
/// instead of planning its many branches anew, for milliseconds, on every call.
fn newest_ids(
    backend: DbBackend,
    groups: &[Uuid],
    before: Option<Uuid>,
    limit: u64,
    overall: bool,
) -> (String, Vec<sea_orm::Value>) {
    let mut values = Vec::with_capacity(groups.len() + 1);
    let older = match before {
        Some(before) => {
            values.push(sea_orm::Value::from(before));
            format!(" AND id < {}", placeholder(backend, 1))
        }
        None => String::new(),
    };
    let first = values.len() + 1;
    values.extend(groups.iter().copied().map(sea_orm::Value::from));
    // A branch with its own ORDER BY and LIMIT must be a subquery in SQLite.
    let branches = (first..first + groups.len())
        .map(|n| {
            format!(
                "SELECT group_id, id FROM (SELECT group_id, id FROM posts \
                 WHERE group_id = {}{older} ORDER BY id DESC LIMIT {limit}) newest",
                placeholder(backend, n)
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let sql = if overall {
        format!("{branches} ORDER BY id DESC LIMIT {limit}")
    } else {
        branches
    };
    (sql, values)
}

/// What `author` wrote that `viewer` may read: in public groups and in groups `viewer` is a
/// member of.
pub async fn author_feed(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    author: Uuid,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<posts::Model>, DbErr> {
    let public = Query::select()
        .column(groups::Column::Id)
        .from(groups::Entity)
        .and_where(Expr::col(groups::Column::DeletedAt).is_null())
        .and_where(Expr::col(groups::Column::Visibility).eq("public"))
        .to_owned();
    let select = posts::Entity::find()
        .filter(posts::Column::AuthorId.eq(author))
        .filter(posts::Column::DeletedAt.is_null())
        .filter(posts::Column::GroupId.in_subquery(live_groups()))
        .filter(
            Condition::any()
                .add(posts::Column::GroupId.in_subquery(public))
                .add(posts::Column::GroupId.in_subquery(member_groups(viewer))),
        );
    newest_first(db, select, before, limit).await
}

/// A group's pinned posts, most recently pinned first.
pub async fn pinned(db: &impl ConnectionTrait, group_id: Uuid) -> Result<Vec<posts::Model>, DbErr> {
    posts::Entity::find()
        .filter(posts::Column::GroupId.eq(group_id))
        .filter(posts::Column::PinnedAt.is_not_null())
        .filter(posts::Column::DeletedAt.is_null())
        .order_by_desc(posts::Column::PinnedAt)
        .all(db)
        .await
}

pub async fn versions(
    db: &impl ConnectionTrait,
    post_id: Uuid,
) -> Result<Vec<post_versions::Model>, DbErr> {
    post_versions::Entity::find()
        .filter(post_versions::Column::PostId.eq(post_id))
        .order_by_asc(post_versions::Column::Version)
        .all(db)
        .await
}

/// Claims an `Idempotency-Key` for a new post; `Some(post)` when the key already named one
/// (a concurrent claim waits for the other transaction and then finds it).
pub async fn claim_key(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    key: &str,
    post_id: Uuid,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Option<Uuid>, DbErr> {
    use sea_orm::sea_query::OnConflict;
    let claimed = post_keys::Entity::insert(post_keys::ActiveModel::from(post_keys::Model {
        person_id,
        key: key.to_owned(),
        post_id,
        created_at: at,
    }))
    .on_conflict(
        OnConflict::columns([post_keys::Column::PersonId, post_keys::Column::Key])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    if claimed > 0 {
        return Ok(None);
    }
    Ok(post_keys::Entity::find_by_id((person_id, key.to_owned()))
        .one(db)
        .await?
        .map(|row| row.post_id))
}

pub async fn has_live_comments(db: &impl ConnectionTrait, post_id: Uuid) -> Result<bool, DbErr> {
    Ok(comments::Entity::find()
        .filter(comments::Column::PostId.eq(post_id))
        .filter(comments::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .is_some())
}

/// What a post's card shows besides the post: its live comments, its reactions per kind (with
/// whether the viewer is among them) and how many files it has.
#[derive(Debug, Default)]
pub struct Decoration {
    pub comments: u64,
    /// (reaction, how many, the viewer's own)
    pub reactions: Vec<(String, u64, bool)>,
    pub files: u64,
}

/// The decorations of `post_ids` for `viewer`: one statement, one row per post, each count an
/// index lookup (reactions come folded into one text, `reaction:count:mine,…`).
pub async fn decorations(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    post_ids: &[Uuid],
) -> Result<HashMap<Uuid, Decoration>, DbErr> {
    if post_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let backend = db.get_database_backend();
    // PostgreSQL takes the ids as one array, so the statement is the same for any number of
    // posts (prepared once per connection); SQLite gets a list of parameters.
    let (fold, viewer_parameter, listed) = match backend {
        DbBackend::Postgres => ("string_agg", "$1", "= ANY($2)".to_owned()),
        _ => (
            "group_concat",
            "?",
            format!("IN ({})", vec!["?"; post_ids.len()].join(", ")),
        ),
    };
    let sql = format!(
        "SELECT p.id, \
         (SELECT count(*) FROM comments c WHERE c.post_id = p.id AND c.deleted_at IS NULL), \
         (SELECT {fold}(r.reaction || ':' || r.n || ':' || r.mine, ',') FROM \
           (SELECT reaction, count(*) AS n, \
             sum(CASE WHEN person_id = {viewer_parameter} THEN 1 ELSE 0 END) AS mine \
            FROM reactions WHERE post_id = p.id GROUP BY reaction) r), \
         (SELECT count(*) FROM attachments a WHERE a.post_id = p.id) \
         FROM posts p WHERE p.id {listed}"
    );
    let values: Vec<sea_orm::Value> = match backend {
        DbBackend::Postgres => vec![viewer.into(), post_ids.to_vec().into()],
        _ => std::iter::once(viewer)
            .chain(post_ids.iter().copied())
            .map(sea_orm::Value::from)
            .collect(),
    };
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    let count = |value: i64| u64::try_from(value).unwrap_or_default();
    let mut found = HashMap::with_capacity(rows.len());
    for row in rows {
        let id: Uuid = row.try_get_by_index(0)?;
        let folded: Option<String> = row.try_get_by_index(2)?;
        let reactions = folded
            .iter()
            .flat_map(|text| text.split(','))
            .filter_map(|part| {
                let mut fields = part.split(':');
                let reaction = fields.next()?.to_owned();
                let how_many = fields.next()?.parse::<i64>().ok()?;
                let mine = fields.next()?.parse::<i64>().ok()?;
                Some((reaction, count(how_many), mine > 0))
            })
            .collect();
        found.insert(
            id,
            Decoration {
                comments: count(row.try_get_by_index(1)?),
                reactions,
                files: count(row.try_get_by_index(3)?),
            },
        );
    }
    Ok(found)
}

/// Who reacted to a post (with `reaction` only), newest first, from `offset`.
pub async fn reactors(
    db: &impl ConnectionTrait,
    post_id: Uuid,
    reaction: Option<&str>,
    offset: u64,
    limit: u64,
) -> Result<Vec<reactions::Model>, DbErr> {
    let mut query = reactions::Entity::find().filter(reactions::Column::PostId.eq(post_id));
    if let Some(reaction) = reaction {
        query = query.filter(reactions::Column::Reaction.eq(reaction));
    }
    query
        .order_by_desc(reactions::Column::CreatedAt)
        .order_by_asc(reactions::Column::PersonId)
        .order_by_asc(reactions::Column::Reaction)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await
}

/// Adds a reaction; true when it was not there yet.
pub async fn add_reaction(db: &impl ConnectionTrait, row: reactions::Model) -> Result<bool, DbErr> {
    use sea_orm::sea_query::OnConflict;
    let inserted = reactions::Entity::insert(reactions::ActiveModel::from(row))
        .on_conflict(
            OnConflict::columns([
                reactions::Column::PostId,
                reactions::Column::PersonId,
                reactions::Column::Reaction,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(inserted > 0)
}

/// Takes a reaction back; true when it was there.
pub async fn remove_reaction(
    db: &impl ConnectionTrait,
    post_id: Uuid,
    person_id: Uuid,
    reaction: &str,
) -> Result<bool, DbErr> {
    let deleted = reactions::Entity::delete_many()
        .filter(reactions::Column::PostId.eq(post_id))
        .filter(reactions::Column::PersonId.eq(person_id))
        .filter(reactions::Column::Reaction.eq(reaction))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected > 0)
}

pub async fn insert_comment(
    db: &impl ConnectionTrait,
    comment: comments::Model,
) -> Result<(), DbErr> {
    comments::ActiveModel::from(comment).insert(db).await?;
    Ok(())
}

pub async fn find_comment(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<comments::Model>, DbErr> {
    comments::Entity::find_by_id(id).one(db).await
}

/// A post's comments, oldest first, after `after`.
pub async fn comments_page(
    db: &impl ConnectionTrait,
    post_id: Uuid,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<comments::Model>, DbErr> {
    let mut select = comments::Entity::find().filter(comments::Column::PostId.eq(post_id));
    if let Some(after) = after {
        select = select.filter(comments::Column::Id.gt(after));
    }
    select
        .order_by_asc(comments::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

pub async fn comments_by_id(
    db: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, comments::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(comments::Entity::find()
        .filter(crate::db::one_of(
            db.get_database_backend(),
            comments::Column::Id,
            ids,
        ))
        .all(db)
        .await?
        .into_iter()
        .map(|comment| (comment.id, comment))
        .collect())
}

pub async fn posts_by_id(
    db: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, posts::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(posts::Entity::find()
        .filter(crate::db::one_of(
            db.get_database_backend(),
            posts::Column::Id,
            ids,
        ))
        .all(db)
        .await?
        .into_iter()
        .map(|post| (post.id, post))
        .collect())
}

pub async fn people_by_id(
    db: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, people::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(people::Entity::find()
        .filter(crate::db::one_of(
            db.get_database_backend(),
            people::Column::Id,
            ids,
        ))
        .all(db)
        .await?
        .into_iter()
        .map(|person| (person.id, person))
        .collect())
}

/// The first of `ids` that is not an active person (unknown, or deactivated).
pub async fn first_not_active(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<Option<Uuid>, DbErr> {
    let known = people_by_id(db, ids.to_vec()).await?;
    Ok(ids
        .iter()
        .copied()
        .find(|id| !known.get(id).is_some_and(|person| person.active)))
}

/// People as cards (who wrote, reacted, was mentioned): only the columns a card shows.
pub async fn cards_by_id(
    db: &impl ConnectionTrait,
    mut ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, PersonCard>, DbErr> {
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<CardRow> = people::Entity::find()
        .select_only()
        .columns([
            people::Column::Id,
            people::Column::DisplayName,
            people::Column::Title,
            people::Column::Department,
            people::Column::Location,
            people::Column::PhotoVersion,
        ])
        .filter(crate::db::one_of(
            db.get_database_backend(),
            people::Column::Id,
            ids,
        ))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, display_name, title, department, location, photo)| {
            let card = PersonCard {
                id,
                display_name,
                title,
                department,
                location,
                photo_url: photo.map(|version| crate::directory::photos::url(id, &version)),
            };
            (id, card)
        })
        .collect())
}

type CardRow = (
    Uuid,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

pub async fn add_mentions(
    db: &impl ConnectionTrait,
    source: Uuid,
    post: Uuid,
    people: &[Uuid],
) -> Result<(), DbErr> {
    if people.is_empty() {
        return Ok(());
    }
    mentions::Entity::insert_many(people.iter().map(|person| {
        mentions::ActiveModel::from(mentions::Model {
            source_id: source,
            person_id: *person,
            post_id: post,
        })
    }))
    .on_conflict(
        sea_orm::sea_query::OnConflict::columns([
            mentions::Column::SourceId,
            mentions::Column::PersonId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Who a post or comment mentions.
pub async fn mentioned_in(db: &impl ConnectionTrait, source: Uuid) -> Result<Vec<Uuid>, DbErr> {
    mentions::Entity::find()
        .select_only()
        .column(mentions::Column::PersonId)
        .filter(mentions::Column::SourceId.eq(source))
        .into_tuple()
        .all(db)
        .await
}
