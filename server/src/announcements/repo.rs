//! The queries behind announcements and their recipients.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, Condition, ConnectionTrait, DbErr, EntityTrait as _,
    IntoActiveModel as _, PaginatorTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
    Set,
};
use uuid::Uuid;

use super::dto::Audience;
use crate::entities::{
    announcement_comments, announcement_recipients as recipients, announcements, people,
};

pub async fn insert(db: &impl ConnectionTrait, row: announcements::Model) -> Result<(), DbErr> {
    announcements::ActiveModel::from(row).insert(db).await?;
    Ok(())
}

pub async fn save(db: &impl ConnectionTrait, row: announcements::Model) -> Result<(), DbErr> {
    row.into_active_model().reset_all().update(db).await?;
    Ok(())
}

pub async fn find(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<announcements::Model>, DbErr> {
    announcements::Entity::find_by_id(id).one(db).await
}

/// Like [`find`], with the row locked until the transaction ends (PostgreSQL), for changes.
pub async fn find_for_update(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<announcements::Model>, DbErr> {
    let mut select = announcements::Entity::find_by_id(id);
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    select.one(db).await
}

/// Active people an audience reaches.
fn reached(audience: &Audience) -> Condition {
    let mut condition = Condition::all()
        .add(people::Column::Active.eq(true))
        .add(people::Column::DeletedAt.is_null());
    if !audience.departments.is_empty() {
        condition = condition.add(people::Column::Department.is_in(audience.departments.clone()));
    }
    if !audience.locations.is_empty() {
        condition = condition.add(people::Column::Location.is_in(audience.locations.clone()));
    }
    condition
}

pub async fn count_audience(db: &impl ConnectionTrait, audience: &Audience) -> Result<u64, DbErr> {
    people::Entity::find()
        .filter(reached(audience))
        .count(db)
        .await
}

/// Refreshes PostgreSQL's planner statistics of the recipients table.
pub async fn refresh_recipient_statistics(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    db.execute_unprepared("ANALYZE announcement_recipients")
        .await
        .map(|_| ())
}

/// Adds everyone the audience reaches now who is not a recipient yet, in one statement;
/// how many were added.
pub async fn add_recipients(
    db: &impl ConnectionTrait,
    announcement: Uuid,
    audience: &Audience,
    at: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let select = Query::select()
        .expr(Expr::val(announcement))
        .column(people::Column::Id)
        .column(people::Column::Department)
        .column(people::Column::Location)
        .expr(Expr::val(at))
        .from(people::Entity)
        .cond_where(reached(audience))
        .to_owned();
    let insert = Query::insert()
        .into_table(recipients::Entity)
        .columns([
            recipients::Column::AnnouncementId,
            recipients::Column::PersonId,
            recipients::Column::Department,
            recipients::Column::Location,
            recipients::Column::ReachedAt,
        ])
        .select_from(select)
        .map_err(|error| DbErr::Custom(error.to_string()))?
        .on_conflict(
            OnConflict::columns([
                recipients::Column::AnnouncementId,
                recipients::Column::PersonId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .to_owned();
    Ok(db.execute(&insert).await?.rows_affected())
}

pub async fn receipt(
    db: &impl ConnectionTrait,
    announcement: Uuid,
    person: Uuid,
) -> Result<Option<recipients::Model>, DbErr> {
    recipients::Entity::find_by_id((announcement, person))
        .one(db)
        .await
}

pub async fn receipts_of(
    db: &impl ConnectionTrait,
    person: Uuid,
    ids: &[Uuid],
) -> Result<Vec<recipients::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    recipients::Entity::find()
        .filter(recipients::Column::PersonId.eq(person))
        .filter(crate::db::one_of(
            db.get_database_backend(),
            recipients::Column::AnnouncementId,
            ids.iter().copied(),
        ))
        .all(db)
        .await
}

/// Sets `column` to `at` for one recipient where it is still empty.
pub async fn stamp(
    db: &impl ConnectionTrait,
    announcement: Uuid,
    person: Uuid,
    column: recipients::Column,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    recipients::Entity::update_many()
        .col_expr(column, Expr::value(at))
        .filter(recipients::Column::AnnouncementId.eq(announcement))
        .filter(recipients::Column::PersonId.eq(person))
        .filter(column.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Acknowledgements start over after a material change.
pub async fn reset_acknowledgements(
    db: &impl ConnectionTrait,
    announcement: Uuid,
) -> Result<(), DbErr> {
    recipients::Entity::update_many()
        .col_expr(
            recipients::Column::AcknowledgedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(recipients::Column::AnnouncementId.eq(announcement))
        .exec(db)
        .await?;
    Ok(())
}

/// Everything, newest first (for HR).
pub async fn all_page(
    db: &impl ConnectionTrait,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<announcements::Model>, DbErr> {
    let mut select = announcements::Entity::find();
    if let Some(before) = before {
        select = select.filter(announcements::Column::Id.lt(before));
    }
    select
        .order_by_desc(announcements::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Published announcements that reached `person`, newest first (their archive).
pub async fn received_page(
    db: &impl ConnectionTrait,
    person: Uuid,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<announcements::Model>, DbErr> {
    let mine = Query::select()
        .column(recipients::Column::AnnouncementId)
        .from(recipients::Entity)
        .and_where(Expr::col(recipients::Column::PersonId).eq(person))
        .to_owned();
    let mut select = announcements::Entity::find()
        .filter(announcements::Column::PublishedAt.is_not_null())
        .filter(announcements::Column::Id.in_subquery(mine));
    if let Some(before) = before {
        select = select.filter(announcements::Column::Id.lt(before));
    }
    select
        .order_by_desc(announcements::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// What stays pinned on someone's home: published, not expired, addressed to them, and not yet
/// acknowledged when acknowledgement is asked.
pub async fn pinned_for(
    db: &impl ConnectionTrait,
    person: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<announcements::Model>, DbErr> {
    let received = |only_unacknowledged: bool| {
        let mut select = Query::select()
            .column(recipients::Column::AnnouncementId)
            .from(recipients::Entity)
            .and_where(Expr::col(recipients::Column::PersonId).eq(person))
            .to_owned();
        if only_unacknowledged {
            select.and_where(Expr::col(recipients::Column::AcknowledgedAt).is_null());
        }
        select
    };
    announcements::Entity::find()
        .filter(announcements::Column::PublishedAt.is_not_null())
        .filter(
            Condition::any()
                .add(announcements::Column::ExpiresAt.is_null())
                .add(announcements::Column::ExpiresAt.gt(now)),
        )
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(announcements::Column::RequiresAck.eq(true))
                        .add(announcements::Column::Id.in_subquery(received(true))),
                )
                .add(
                    Condition::all()
                        .add(announcements::Column::RequiresAck.eq(false))
                        .add(announcements::Column::Id.in_subquery(received(false))),
                ),
        )
        .order_by_desc(announcements::Column::PublishedAt)
        .all(db)
        .await
}

/// Published required announcements due before `by` that had no automatic reminder yet.
pub async fn reminders_due(
    db: &impl ConnectionTrait,
    by: DateTime<Utc>,
) -> Result<Vec<Uuid>, DbErr> {
    announcements::Entity::find()
        .select_only()
        .column(announcements::Column::Id)
        .filter(announcements::Column::PublishedAt.is_not_null())
        .filter(announcements::Column::RequiresAck.eq(true))
        .filter(announcements::Column::RemindedAt.is_null())
        .filter(announcements::Column::DueAt.lte(by))
        .into_tuple()
        .all(db)
        .await
}

/// The people an announcement reached, and whether they acknowledged it.
pub async fn recipient_ids(
    db: &impl ConnectionTrait,
    announcement: Uuid,
    only_unacknowledged: bool,
) -> Result<Vec<Uuid>, DbErr> {
    let backend = db.get_database_backend();
    if backend == sea_orm::DbBackend::Postgres {
        // One array value, not a row per recipient: every node reads the whole audience before
        // it sends an announcement's first frame, and 30,000 rows took most of that time.
        let unacknowledged = if only_unacknowledged {
            " AND acknowledged_at IS NULL"
        } else {
            ""
        };
        let row = db
            .query_one_raw(sea_orm::Statement::from_sql_and_values(
                backend,
                format!(
                    "SELECT COALESCE(array_agg(person_id), '{{}}') FROM announcement_recipients \
                     WHERE announcement_id = $1{unacknowledged}"
                ),
                [announcement.into()],
            ))
            .await?;
        return match row {
            Some(row) => row.try_get_by_index::<Vec<Uuid>>(0),
            None => Ok(Vec::new()),
        };
    }
    let mut select = recipients::Entity::find()
        .select_only()
        .column(recipients::Column::PersonId)
        .filter(recipients::Column::AnnouncementId.eq(announcement));
    if only_unacknowledged {
        select = select.filter(recipients::Column::AcknowledgedAt.is_null());
    }
    select.into_tuple().all(db).await
}

/// Scheduled announcements whose time has come.
pub async fn due(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<Vec<Uuid>, DbErr> {
    announcements::Entity::find()
        .select_only()
        .column(announcements::Column::Id)
        .filter(announcements::Column::PublishedAt.is_null())
        .filter(announcements::Column::PublishAt.lte(now))
        .into_tuple()
        .all(db)
        .await
}

/// (department or location, reached, opened, acknowledged) per value.
/// Recipients per (department, location) as the audience was fixed: reached, opened,
/// acknowledged.
pub type Breakdown = (Option<String>, Option<String>, i64, i64, i64);

pub async fn breakdown(
    db: &impl ConnectionTrait,
    announcement: Uuid,
) -> Result<Vec<Breakdown>, DbErr> {
    recipients::Entity::find()
        .select_only()
        .column(recipients::Column::Department)
        .column(recipients::Column::Location)
        // COUNT(*), not of a column outside the tally index: the index alone answers.
        .column_as(Expr::cust("COUNT(*)"), "reached")
        .column_as(recipients::Column::OpenedAt.count(), "opened")
        .column_as(recipients::Column::AcknowledgedAt.count(), "acknowledged")
        .filter(recipients::Column::AnnouncementId.eq(announcement))
        .group_by(recipients::Column::Department)
        .group_by(recipients::Column::Location)
        .into_tuple()
        .all(db)
        .await
}

/// The first `limit` recipients who have not acknowledged, in name order. `missing` of the
/// `reached` have not (from [`breakdown`]); the database walks whichever side is shorter: when
/// few are missing, their rows (sorted, then cut); when many are, people in name order, each
/// checked against their receipt, until `limit` are found (about `limit × reached / missing`).
pub async fn unacknowledged_people(
    db: &impl ConnectionTrait,
    announcement: Uuid,
    limit: u64,
    missing: u64,
    reached: u64,
) -> Result<Vec<people::Model>, DbErr> {
    if missing == 0 {
        return Ok(Vec::new());
    }
    let walk_people = missing.saturating_mul(missing) > limit.saturating_mul(reached);
    let unacknowledged = |select: &mut sea_orm::sea_query::SelectStatement| {
        select
            .from(recipients::Entity)
            .and_where(
                Expr::col((recipients::Entity, recipients::Column::AnnouncementId))
                    .eq(announcement),
            )
            .and_where(
                Expr::col((recipients::Entity, recipients::Column::AcknowledgedAt)).is_null(),
            );
    };
    let mut select = Query::select();
    let condition = if walk_people {
        unacknowledged(select.expr(Expr::val(1)));
        select.and_where(
            Expr::col((recipients::Entity, recipients::Column::PersonId))
                .equals((people::Entity, people::Column::Id)),
        );
        Expr::exists(select.to_owned())
    } else {
        unacknowledged(select.column((recipients::Entity, recipients::Column::PersonId)));
        Expr::col((people::Entity, people::Column::Id)).in_subquery(select.to_owned())
    };
    people::Entity::find()
        .filter(condition)
        .order_by_asc(people::Column::SortName)
        .order_by_asc(people::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Every recipient with their person, in name order (the CSV export).
pub async fn recipients_with_people(
    db: &impl ConnectionTrait,
    announcement: Uuid,
) -> Result<Vec<(recipients::Model, people::Model)>, DbErr> {
    let reached = Query::select()
        .column(recipients::Column::PersonId)
        .from(recipients::Entity)
        .and_where(Expr::col(recipients::Column::AnnouncementId).eq(announcement))
        .to_owned();
    let select = people::Entity::find()
        .filter(people::Column::Id.in_subquery(reached))
        .order_by_asc(people::Column::SortName)
        .order_by_asc(people::Column::Id);
    let listed = select.all(db).await?;
    let mut receipts: std::collections::HashMap<Uuid, recipients::Model> =
        std::collections::HashMap::new();
    let ids: Vec<Uuid> = listed.iter().map(|person| person.id).collect();
    for chunk in ids.chunks(1_000) {
        for row in recipients::Entity::find()
            .filter(recipients::Column::AnnouncementId.eq(announcement))
            .filter(crate::db::one_of(
                db.get_database_backend(),
                recipients::Column::PersonId,
                chunk.iter().copied(),
            ))
            .all(db)
            .await?
        {
            receipts.insert(row.person_id, row);
        }
    }
    Ok(listed
        .into_iter()
        .filter_map(|person| Some((receipts.remove(&person.id)?, person)))
        .collect())
}

/// The recipients among `manager`'s reports, direct and below: (person, acknowledged).
pub async fn team_receipts(
    db: &impl ConnectionTrait,
    announcement: Uuid,
    manager: Uuid,
) -> Result<Vec<(Uuid, bool)>, DbErr> {
    use sea_orm::{DbBackend, Statement, TryGetable as _};
    let backend = db.get_database_backend();
    let (first, second) = match backend {
        DbBackend::Postgres => ("$1", "$2"),
        _ => ("?", "?"),
    };
    // UNION (not UNION ALL) stops at people already seen, so a broken chart cannot loop.
    let sql = format!(
        "WITH RECURSIVE below(id) AS ( \
             SELECT id FROM people WHERE manager_id = {first} \
             UNION SELECT p.id FROM people p JOIN below b ON p.manager_id = b.id) \
         SELECT r.person_id, r.acknowledged_at IS NOT NULL AS acknowledged \
         FROM announcement_recipients r JOIN below b ON r.person_id = b.id \
         WHERE r.announcement_id = {second}"
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [manager.into(), announcement.into()],
        ))
        .await?;
    rows.iter()
        .map(|row| {
            let person = Uuid::try_get_by(row, 0).map_err(DbErr::from)?;
            let acknowledged = bool::try_get_by(row, 1).map_err(DbErr::from)?;
            Ok((person, acknowledged))
        })
        .collect()
}

/// Comments after `after` (oldest first).
pub async fn comments_page(
    db: &impl ConnectionTrait,
    announcement: Uuid,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<announcement_comments::Model>, DbErr> {
    let mut query = announcement_comments::Entity::find()
        .filter(announcement_comments::Column::AnnouncementId.eq(announcement));
    if let Some(after) = after {
        query = query.filter(announcement_comments::Column::Id.gt(after));
    }
    query
        .order_by_asc(announcement_comments::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

pub async fn insert_comment(
    db: &impl ConnectionTrait,
    comment: announcement_comments::Model,
) -> Result<(), DbErr> {
    announcement_comments::Entity::insert(announcement_comments::ActiveModel::from(comment))
        .exec_without_returning(db)
        .await?;
    Ok(())
}

pub async fn find_comment(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<announcement_comments::Model>, DbErr> {
    announcement_comments::Entity::find_by_id(id).one(db).await
}

pub async fn delete_comment(
    db: &impl ConnectionTrait,
    comment: announcement_comments::Model,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut active = announcement_comments::ActiveModel::from(comment);
    active.body = Set(String::new());
    active.deleted_at = Set(Some(at));
    active.update(db).await?;
    Ok(())
}
