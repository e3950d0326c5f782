//! Queries on `people`.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, Statement, Value,
};
use uuid::Uuid;

use crate::entities::people;

/// An active employee with nothing else known yet; callers fill in what they have.
pub fn blank_person(id: Uuid, now: chrono::DateTime<Utc>) -> people::Model {
    people::Model {
        id,
        email: None,
        email_normalized: None,
        display_name: String::new(),
        role: super::dto::Role::Employee.as_str().to_owned(),
        active: true,
        password_hash: None,
        created_at: now,
        updated_at: now,
        employee_id: None,
        given_name: String::new(),
        family_name: String::new(),
        preferred_name: None,
        title: None,
        department: None,
        location: None,
        manager_id: None,
        phone: None,
        skills: "[]".to_owned(),
        languages: "[]".to_owned(),
        bio: None,
        photo_version: None,
        start_date: None,
        sort_name: String::new(),
        external_id: None,
        deleted_at: None,
        ui_language: None,
        user_name: None,
        user_name_normalized: None,
    }
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<people::Model>, DbErr> {
    people::Entity::find_by_id(id).one(db).await
}

/// The people among `ids`, in no particular order; any number of ids.
pub async fn find_many(
    db: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> Result<Vec<people::Model>, DbErr> {
    let mut found = Vec::with_capacity(ids.len());
    // Bounded lists keep each statement within every backend's parameter limit.
    for chunk in ids.chunks(1_000) {
        found.extend(
            people::Entity::find()
                .filter(crate::db::one_of(
                    db.get_database_backend(),
                    people::Column::Id,
                    chunk.iter().copied(),
                ))
                .all(db)
                .await?,
        );
    }
    Ok(found)
}

/// How many people there are, active or not.
pub async fn count_all(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    people::Entity::find().count(db).await
}

/// Every department anyone is in, sorted.
pub async fn departments(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    let mut departments: Vec<String> = people::Entity::find()
        .select_only()
        .column(people::Column::Department)
        .distinct()
        .filter(people::Column::Department.is_not_null())
        .into_tuple::<Option<String>>()
        .all(db)
        .await?
        .into_iter()
        .flatten()
        .filter(|department| !department.trim().is_empty())
        .collect();
    departments.sort_by_key(|department| department.to_lowercase());
    Ok(departments)
}

/// Everyone, active or not.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<people::Model>, DbErr> {
    people::Entity::find().all(db).await
}

/// Columns an upsert overwrites on an existing person (HR-owned fields, the phone, skills and
/// languages the caller merged, and the activation state).
const UPSERT_UPDATES: [people::Column; 18] = [
    people::Column::Email,
    people::Column::EmailNormalized,
    people::Column::DisplayName,
    people::Column::Active,
    people::Column::UpdatedAt,
    people::Column::EmployeeId,
    people::Column::GivenName,
    people::Column::FamilyName,
    people::Column::Title,
    people::Column::Department,
    people::Column::Location,
    people::Column::ManagerId,
    people::Column::Phone,
    people::Column::Skills,
    people::Column::Languages,
    people::Column::SortName,
    people::Column::ExternalId,
    people::Column::DeletedAt,
];

/// Inserts new people and overwrites existing ones (matched by id) in one statement.
pub async fn upsert_many(db: &impl ConnectionTrait, rows: Vec<people::Model>) -> Result<(), DbErr> {
    use sea_orm::sea_query::OnConflict;
    if rows.is_empty() {
        return Ok(());
    }
    if db.get_database_backend() == DbBackend::Postgres {
        return upsert_many_postgres(db, &rows).await;
    }
    people::Entity::insert_many(rows.into_iter().map(people::ActiveModel::from))
        .on_conflict(
            OnConflict::column(people::Column::Id)
                .update_columns(UPSERT_UPDATES)
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The same upsert on PostgreSQL with the rows as one JSON parameter: a statement with a bind
/// parameter per value (26 per person) spends most of its time on the parameters themselves.
async fn upsert_many_postgres(
    db: &impl ConnectionTrait,
    rows: &[people::Model],
) -> Result<(), DbErr> {
    use sea_orm::Iden as _;
    const COLUMNS: [(&str, &str); 26] = [
        ("id", "uuid"),
        ("email", "text"),
        ("email_normalized", "text"),
        ("display_name", "text"),
        ("role", "text"),
        ("active", "boolean"),
        ("password_hash", "text"),
        ("created_at", "timestamptz"),
        ("updated_at", "timestamptz"),
        ("employee_id", "text"),
        ("given_name", "text"),
        ("family_name", "text"),
        ("preferred_name", "text"),
        ("title", "text"),
        ("department", "text"),
        ("location", "text"),
        ("manager_id", "uuid"),
        ("phone", "text"),
        ("skills", "text"),
        ("languages", "text"),
        ("bio", "text"),
        ("photo_version", "text"),
        ("start_date", "date"),
        ("sort_name", "text"),
        ("external_id", "text"),
        ("deleted_at", "timestamptz"),
    ];
    let records: Vec<serde_json::Value> = rows
        .iter()
        .map(|row| {
            serde_json::json!({
                "id": row.id,
                "email": row.email,
                "email_normalized": row.email_normalized,
                "display_name": row.display_name,
                "role": row.role,
                "active": row.active,
                "password_hash": row.password_hash,
                "created_at": row.created_at,
                "updated_at": row.updated_at,
                "employee_id": row.employee_id,
                "given_name": row.given_name,
                "family_name": row.family_name,
                "preferred_name": row.preferred_name,
                "title": row.title,
                "department": row.department,
                "location": row.location,
                "manager_id": row.manager_id,
                "phone": row.phone,
                "skills": row.skills,
                "languages": row.languages,
                "bio": row.bio,
                "photo_version": row.photo_version,
                "start_date": row.start_date,
                "sort_name": row.sort_name,
                "external_id": row.external_id,
                "deleted_at": row.deleted_at,
            })
        })
        .collect();
    let names: Vec<&str> = COLUMNS.iter().map(|(name, _)| *name).collect();
    let typed: Vec<String> = COLUMNS
        .iter()
        .map(|(name, kind)| format!("{name} {kind}"))
        .collect();
    let updates: Vec<String> = UPSERT_UPDATES
        .iter()
        .map(|column| {
            let name = column.to_string();
            format!("{name} = EXCLUDED.{name}")
        })
        .collect();
    let sql = format!(
        "INSERT INTO people ({columns}) SELECT {columns} FROM json_to_recordset($1::json) AS r({typed}) \
         ON CONFLICT (id) DO UPDATE SET {updates}",
        columns = names.join(", "),
        typed = typed.join(", "),
        updates = updates.join(", "),
    );
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        [Value::from(serde_json::Value::Array(records))],
    ))
    .await?;
    Ok(())
}

/// Gives people a placeholder address that can collide with nobody's, so addresses can move
/// between them within one transaction without tripping the unique index.
pub async fn park_emails(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<(), DbErr> {
    for &id in ids {
        people::Entity::update_many()
            .col_expr(
                people::Column::EmailNormalized,
                sea_orm::sea_query::Expr::value(format!("moving:{id}")),
            )
            .filter(people::Column::Id.eq(id))
            .exec(db)
            .await?;
    }
    Ok(())
}

pub async fn all_active(db: &impl ConnectionTrait) -> Result<Vec<people::Model>, DbErr> {
    people::Entity::find()
        .filter(people::Column::Active.eq(true))
        .all(db)
        .await
}

pub async fn find_by_email(
    db: &impl ConnectionTrait,
    email_normalized: &str,
) -> Result<Option<people::Model>, DbErr> {
    people::Entity::find()
        .filter(people::Column::EmailNormalized.eq(email_normalized))
        .one(db)
        .await
}

/// The expression SCIM's `userName` is looked up by: the given name, else the address (the
/// unique index `idx_people_user_name` is over the same expression).
pub fn user_name_key() -> sea_orm::sea_query::Expr {
    sea_orm::sea_query::Expr::cust("coalesce(user_name_normalized, email_normalized)")
}

/// The person whose SCIM `userName`, folded, is `key`.
pub async fn find_by_user_name(
    db: &impl ConnectionTrait,
    key: &str,
) -> Result<Option<people::Model>, DbErr> {
    use sea_orm::sea_query::ExprTrait as _;
    people::Entity::find()
        .filter(user_name_key().eq(key))
        .one(db)
        .await
}

pub async fn count_active_admins(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    people::Entity::find()
        .filter(people::Column::Role.eq("admin"))
        .filter(people::Column::Active.eq(true))
        .count(db)
        .await
}

/// People in id order (UUIDv7: creation order) after `after`.
pub async fn list_after(
    db: &impl ConnectionTrait,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<people::Model>, DbErr> {
    let mut query = people::Entity::find()
        .order_by_asc(people::Column::Id)
        .limit(limit);
    if let Some(after) = after {
        query = query.filter(people::Column::Id.gt(after));
    }
    query.all(db).await
}

pub async fn find_by_employee_id(
    db: &impl ConnectionTrait,
    employee_id: &str,
) -> Result<Option<people::Model>, DbErr> {
    people::Entity::find()
        .filter(people::Column::EmployeeId.eq(employee_id))
        .one(db)
        .await
}

pub async fn set_password_hash(
    db: &impl ConnectionTrait,
    person: people::Model,
    hash: String,
) -> Result<people::Model, DbErr> {
    let mut active: people::ActiveModel = person.into();
    active.password_hash = Set(Some(hash));
    active.updated_at = Set(Utc::now());
    active.update(db).await
}

/// The fields a person owns on their profile.
pub struct OwnProfile {
    pub preferred_name: Option<String>,
    pub phone: Option<String>,
    pub skills: String,
    pub languages: String,
    pub bio: Option<String>,
    pub sort_name: String,
}

pub async fn set_own_profile(
    db: &impl ConnectionTrait,
    person: people::Model,
    profile: OwnProfile,
) -> Result<people::Model, DbErr> {
    let mut active: people::ActiveModel = person.into();
    active.preferred_name = Set(profile.preferred_name);
    active.phone = Set(profile.phone);
    active.skills = Set(profile.skills);
    active.languages = Set(profile.languages);
    active.bio = Set(profile.bio);
    active.sort_name = Set(profile.sort_name);
    active.updated_at = Set(Utc::now());
    active.update(db).await
}

/// Active people in directory order after the `(sort_name, id)` cursor, optionally filtered.
pub async fn browse(
    db: &impl ConnectionTrait,
    department: Option<&str>,
    location: Option<&str>,
    after: Option<(String, Uuid)>,
    limit: u64,
) -> Result<Vec<people::Model>, DbErr> {
    use sea_orm::sea_query::Cond;
    let mut query = people::Entity::find()
        .filter(people::Column::Active.eq(true))
        .order_by_asc(people::Column::SortName)
        .order_by_asc(people::Column::Id)
        .limit(limit);
    if let Some(department) = department {
        query = query.filter(people::Column::Department.eq(department));
    }
    if let Some(location) = location {
        query = query.filter(people::Column::Location.eq(location));
    }
    if let Some((sort_name, id)) = after {
        query = query.filter(
            Cond::any()
                .add(people::Column::SortName.gt(sort_name.clone()))
                .add(
                    Cond::all()
                        .add(people::Column::SortName.eq(sort_name))
                        .add(people::Column::Id.gt(id)),
                ),
        );
    }
    query.all(db).await
}

/// Active direct reports of `manager_id`, in directory order.
pub async fn reports_of(
    db: &impl ConnectionTrait,
    manager_id: Uuid,
) -> Result<Vec<people::Model>, DbErr> {
    people::Entity::find()
        .filter(people::Column::ManagerId.eq(manager_id))
        .filter(people::Column::Active.eq(true))
        .order_by_asc(people::Column::SortName)
        .order_by_asc(people::Column::Id)
        .all(db)
        .await
}

/// The ids up the manager chain from `id` (excluded), nearest first, in one recursive query so
/// deep organisations cost one round trip. Bounded, so bad data cannot loop forever.
pub async fn manager_chain(
    db: &impl ConnectionTrait,
    id: Uuid,
    max_depth: i64,
) -> Result<Vec<Uuid>, DbErr> {
    let backend = db.get_database_backend();
    let (first, second) = match backend {
        DbBackend::Postgres => ("$1", "$2"),
        _ => ("?", "?"),
    };
    let sql = format!(
        "WITH RECURSIVE chain(id, manager_id, depth) AS ( \
           SELECT id, manager_id, 0 FROM people WHERE id = {first} \
           UNION ALL \
           SELECT p.id, p.manager_id, c.depth + 1 FROM people p JOIN chain c ON p.id = c.manager_id \
           WHERE c.depth < {second} \
         ) SELECT id FROM chain WHERE depth > 0 ORDER BY depth"
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [Value::from(id), Value::from(max_depth)],
        ))
        .await?;
    rows.iter()
        .map(|row| row.try_get::<Uuid>("", "id"))
        .collect()
}

pub async fn set_photo_version(
    db: &impl ConnectionTrait,
    person: people::Model,
    version: Option<String>,
) -> Result<people::Model, DbErr> {
    let mut active: people::ActiveModel = person.into();
    active.photo_version = Set(version);
    active.updated_at = Set(Utc::now());
    active.update(db).await
}

pub async fn find_by_external_id(
    db: &impl ConnectionTrait,
    external_id: &str,
) -> Result<Option<people::Model>, DbErr> {
    people::Entity::find()
        .filter(people::Column::ExternalId.eq(external_id))
        .one(db)
        .await
}

/// People an identity provider has not deleted, in creation order.
fn provisioned() -> sea_orm::Select<people::Entity> {
    people::Entity::find()
        .filter(people::Column::DeletedAt.is_null())
        .order_by_asc(people::Column::Id)
}

/// A page of [`provisioned`] people.
pub async fn provisioned_page(
    db: &impl ConnectionTrait,
    offset: u64,
    limit: u64,
) -> Result<Vec<people::Model>, DbErr> {
    provisioned().offset(offset).limit(limit).all(db).await
}

pub async fn count_provisioned(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    people::Entity::find()
        .filter(people::Column::DeletedAt.is_null())
        .count(db)
        .await
}

/// Every person an identity provider has not deleted, in creation order.
pub async fn all_provisioned(db: &impl ConnectionTrait) -> Result<Vec<people::Model>, DbErr> {
    provisioned().all(db).await
}

/// Sets the language a person chose for the screens (`None`: follow the browser).
pub async fn set_ui_language(
    db: &impl ConnectionTrait,
    id: Uuid,
    language: Option<&str>,
) -> Result<Option<people::Model>, DbErr> {
    people::Entity::update_many()
        .col_expr(
            people::Column::UiLanguage,
            sea_orm::sea_query::Expr::value(language.map(str::to_owned)),
        )
        .filter(people::Column::Id.eq(id))
        .exec(db)
        .await?;
    find(db, id).await
}
