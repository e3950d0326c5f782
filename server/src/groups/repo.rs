//! The queries behind groups and their members.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait as _, Query};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, Condition, ConnectionTrait, DbErr, EntityTrait as _,
    IntoActiveModel as _, PaginatorTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
};
use uuid::Uuid;

use super::policy::{GroupFacts, GroupRole, MemberState, Posting, Standing, Visibility};
use crate::entities::{group_members, groups, people};

/// A group nobody deleted.
pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<groups::Model>, DbErr> {
    Ok(groups::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|group| group.deleted_at.is_none()))
}

/// Like [`find`], with the row locked until the transaction ends (PostgreSQL).
pub async fn find_for_update(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<groups::Model>, DbErr> {
    let mut select = groups::Entity::find_by_id(id);
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    Ok(select
        .one(db)
        .await?
        .filter(|group| group.deleted_at.is_none()))
}

/// Every group nobody deleted.
pub async fn all_live(db: &impl ConnectionTrait) -> Result<Vec<groups::Model>, DbErr> {
    groups::Entity::find()
        .filter(groups::Column::DeletedAt.is_null())
        .all(db)
        .await
}

/// Groups by id, deleted ones included.
pub async fn find_many(
    db: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> Result<Vec<groups::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    groups::Entity::find()
        .filter(crate::db::one_of(
            db.get_database_backend(),
            groups::Column::Id,
            ids,
        ))
        .all(db)
        .await
}

/// The groups someone is a member of or invited to.
pub async fn related_to(
    db: &impl ConnectionTrait,
    person_id: Uuid,
) -> Result<Vec<group_members::Model>, DbErr> {
    group_members::Entity::find()
        .filter(group_members::Column::PersonId.eq(person_id))
        .filter(
            group_members::Column::State
                .is_in([MemberState::Member.as_str(), MemberState::Invited.as_str()]),
        )
        .all(db)
        .await
}

pub async fn slug_taken(db: &impl ConnectionTrait, slug: &str) -> Result<bool, DbErr> {
    Ok(groups::Entity::find()
        .filter(groups::Column::Slug.eq(slug))
        .count(db)
        .await?
        > 0)
}

pub async fn insert(db: &impl ConnectionTrait, group: groups::Model) -> Result<(), DbErr> {
    groups::ActiveModel::from(group).insert(db).await?;
    Ok(())
}

/// Writes every column of `group` as it is now.
pub async fn save(db: &impl ConnectionTrait, group: groups::Model) -> Result<(), DbErr> {
    group.into_active_model().reset_all().update(db).await?;
    Ok(())
}

pub async fn membership(
    db: &impl ConnectionTrait,
    group_id: Uuid,
    person_id: Uuid,
) -> Result<Option<group_members::Model>, DbErr> {
    group_members::Entity::find_by_id((group_id, person_id))
        .one(db)
        .await
}

/// The caller's rows for a set of groups.
pub async fn memberships_of(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    group_ids: &[Uuid],
) -> Result<HashMap<Uuid, group_members::Model>, DbErr> {
    if group_ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(group_members::Entity::find()
        .filter(group_members::Column::PersonId.eq(person_id))
        .filter(crate::db::one_of(
            db.get_database_backend(),
            group_members::Column::GroupId,
            group_ids.iter().copied(),
        ))
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.group_id, row))
        .collect())
}

/// Inserts or replaces a membership row.
pub async fn put_membership(
    db: &impl ConnectionTrait,
    row: group_members::Model,
) -> Result<(), DbErr> {
    use sea_orm::sea_query::OnConflict;
    group_members::Entity::insert(group_members::ActiveModel::from(row))
        .on_conflict(
            OnConflict::columns([
                group_members::Column::GroupId,
                group_members::Column::PersonId,
            ])
            .update_columns([
                group_members::Column::Role,
                group_members::Column::State,
                group_members::Column::InvitedBy,
                group_members::Column::UpdatedAt,
            ])
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

pub async fn remove_membership(
    db: &impl ConnectionTrait,
    group_id: Uuid,
    person_id: Uuid,
) -> Result<(), DbErr> {
    group_members::Entity::delete_by_id((group_id, person_id))
        .exec(db)
        .await?;
    Ok(())
}

/// How many members (not invitations or requests) each group has.
pub async fn member_counts(
    db: &impl ConnectionTrait,
    group_ids: &[Uuid],
) -> Result<HashMap<Uuid, u64>, DbErr> {
    if group_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, i64)> = group_members::Entity::find()
        .select_only()
        .column(group_members::Column::GroupId)
        .column_as(group_members::Column::PersonId.count(), "members")
        .filter(crate::db::one_of(
            db.get_database_backend(),
            group_members::Column::GroupId,
            group_ids.iter().copied(),
        ))
        .filter(group_members::Column::State.eq(MemberState::Member.as_str()))
        .group_by(group_members::Column::GroupId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, count)| (id, u64::try_from(count).unwrap_or_default()))
        .collect())
}

/// Active owners of a group, with their rows locked on PostgreSQL (so two owners leaving at
/// once cannot both pass the "another owner stays" check).
pub async fn owners_for_update(
    db: &impl ConnectionTrait,
    group_id: Uuid,
) -> Result<Vec<Uuid>, DbErr> {
    let mut select = group_members::Entity::find()
        .filter(group_members::Column::GroupId.eq(group_id))
        .filter(group_members::Column::State.eq(MemberState::Member.as_str()))
        .filter(group_members::Column::Role.eq("owner"));
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    Ok(select
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.person_id)
        .collect())
}

/// Groups `viewer` may know of, in name order after `after` (name, id).
pub async fn visible_page(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    kind: Option<&str>,
    mine: bool,
    after: Option<(String, Uuid)>,
    limit: u64,
) -> Result<Vec<groups::Model>, DbErr> {
    let member_of = |states: &[&str]| {
        Query::select()
            .column(group_members::Column::GroupId)
            .from(group_members::Entity)
            .and_where(Expr::col(group_members::Column::PersonId).eq(viewer))
            .and_where(
                Expr::col(group_members::Column::State)
                    .is_in(states.iter().map(|state| (*state).to_owned())),
            )
            .to_owned()
    };
    let mut select = groups::Entity::find().filter(groups::Column::DeletedAt.is_null());
    if mine {
        select = select.filter(groups::Column::Id.in_subquery(member_of(&["member"])));
    } else {
        select = select.filter(
            Condition::any()
                .add(groups::Column::Visibility.ne(Visibility::Secret.as_str()))
                .add(groups::Column::Id.in_subquery(member_of(&["member", "invited"]))),
        );
    }
    if let Some(kind) = kind {
        select = select.filter(groups::Column::Kind.eq(kind));
    }
    if let Some((name, id)) = after {
        select = select.filter(
            Condition::any()
                .add(groups::Column::Name.gt(name.clone()))
                .add(
                    Condition::all()
                        .add(groups::Column::Name.eq(name))
                        .add(groups::Column::Id.gt(id)),
                ),
        );
    }
    select
        .order_by_asc(groups::Column::Name)
        .order_by_asc(groups::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// A page of a group's rows in one state, oldest first, after `after` (created_at, person).
pub async fn members_page(
    db: &impl ConnectionTrait,
    group_id: Uuid,
    state: MemberState,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<(group_members::Model, people::Model)>, DbErr> {
    let mut select = group_members::Entity::find()
        .filter(group_members::Column::GroupId.eq(group_id))
        .filter(group_members::Column::State.eq(state.as_str()));
    if let Some(after) = after {
        select = select.filter(group_members::Column::PersonId.gt(after));
    }
    let rows = select
        .order_by_asc(group_members::Column::PersonId)
        .limit(limit)
        .all(db)
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|row| row.person_id).collect();
    let mut people: HashMap<Uuid, people::Model> = people::Entity::find()
        .filter(crate::db::one_of(
            db.get_database_backend(),
            people::Column::Id,
            ids,
        ))
        .all(db)
        .await?
        .into_iter()
        .map(|person| (person.id, person))
        .collect();
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let person = people.remove(&row.person_id)?;
            Some((row, person))
        })
        .collect())
}

/// Groups to suggest to `person`: public and private ones they have no standing with, those
/// with most members from `department` first, then the most active (posts since `since`).
pub async fn suggested(
    db: &impl ConnectionTrait,
    person: Uuid,
    department: Option<String>,
    since: Uuid,
    limit: u64,
) -> Result<Vec<Uuid>, DbErr> {
    use sea_orm::{DbBackend, Statement, TryGetable as _};
    let backend = db.get_database_backend();
    let [me, dept, after, count] = match backend {
        DbBackend::Postgres => ["$1", "$2", "$3", "$4"],
        _ => ["?", "?", "?", "?"],
    };
    let sql = format!(
        "SELECT g.id FROM groups g \
         WHERE g.visibility IN ('public', 'private') \
           AND g.archived_at IS NULL AND g.deleted_at IS NULL \
           AND NOT EXISTS (SELECT 1 FROM group_members m \
                           WHERE m.group_id = g.id AND m.person_id = {me}) \
         ORDER BY (SELECT count(*) FROM group_members gm JOIN people p ON p.id = gm.person_id \
                   WHERE gm.group_id = g.id AND gm.state = 'member' AND p.department = {dept}) DESC, \
                  (SELECT count(*) FROM posts \
                   WHERE posts.group_id = g.id AND posts.id > {after} \
                     AND posts.deleted_at IS NULL) DESC, \
                  g.name, g.id \
         LIMIT {count}"
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [
                person.into(),
                department.into(),
                since.into(),
                i64::try_from(limit).unwrap_or(i64::MAX).into(),
            ],
        ))
        .await?;
    rows.iter()
        .map(|row| Uuid::try_get_by(row, 0).map_err(DbErr::from))
        .collect()
}

/// A group as a search weighs it: its name, the facts and `person`'s standing the policy decides
/// by, and whether it is deleted.
pub struct WeighedGroup {
    pub id: Uuid,
    pub name: String,
    pub facts: GroupFacts,
    pub standing: Option<Standing>,
    pub deleted: bool,
}

/// The groups `ids` as a search shows them to `person` (the groups of its hits and facets), in
/// one statement: only the columns the policy and the answer need.
pub async fn weighed_for_search(
    db: &impl ConnectionTrait,
    person: Uuid,
    ids: Vec<Uuid>,
) -> Result<Vec<WeighedGroup>, DbErr> {
    use sea_orm::sea_query::{Condition as Conditions, JoinType};
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let query = Query::select()
        .column((groups::Entity, groups::Column::Id))
        .column((groups::Entity, groups::Column::Name))
        .column((groups::Entity, groups::Column::Visibility))
        .column((groups::Entity, groups::Column::Posting))
        .column((groups::Entity, groups::Column::ArchivedAt))
        .column((groups::Entity, groups::Column::DeletedAt))
        .column((group_members::Entity, group_members::Column::Role))
        .column((group_members::Entity, group_members::Column::State))
        .from(groups::Entity)
        .join(
            JoinType::LeftJoin,
            group_members::Entity,
            Conditions::all()
                .add(
                    Expr::col((group_members::Entity, group_members::Column::GroupId))
                        .equals((groups::Entity, groups::Column::Id)),
                )
                .add(Expr::col((group_members::Entity, group_members::Column::PersonId)).eq(person))
                .add(
                    Expr::col((group_members::Entity, group_members::Column::State))
                        .eq(MemberState::Member.as_str()),
                ),
        )
        .and_where(crate::db::one_of(
            db.get_database_backend(),
            groups::Column::Id,
            ids,
        ))
        .to_owned();
    let backend = db.get_database_backend();
    let mut found = Vec::new();
    for row in db.query_all_raw(backend.build(&query)).await? {
        let id: Uuid = row.try_get_by_index(0)?;
        let name: String = row.try_get_by_index(1)?;
        let visibility: String = row.try_get_by_index(2)?;
        let posting: String = row.try_get_by_index(3)?;
        let archived_at: Option<chrono::DateTime<chrono::Utc>> = row.try_get_by_index(4)?;
        let deleted_at: Option<chrono::DateTime<chrono::Utc>> = row.try_get_by_index(5)?;
        let role: Option<String> = row.try_get_by_index(6)?;
        let state: Option<String> = row.try_get_by_index(7)?;
        let standing = role
            .as_deref()
            .and_then(GroupRole::parse)
            .zip(state.as_deref().and_then(MemberState::parse))
            .map(|(role, state)| Standing { role, state });
        let facts = GroupFacts {
            visibility: Visibility::parse(&visibility).unwrap_or(Visibility::Secret),
            posting: Posting::parse(&posting).unwrap_or(Posting::Admins),
            archived: archived_at.is_some(),
        };
        found.push(WeighedGroup {
            id,
            name,
            facts,
            standing,
            deleted: deleted_at.is_some(),
        });
    }
    Ok(found)
}
