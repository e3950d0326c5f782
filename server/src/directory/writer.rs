//! The one writer of people. Admin edits, role and status changes, first-run setup, the HR
//! import, SCIM and the CLI all hand their changes here inside their own transaction. It takes
//! the locks the person rules need, checks the rules (an active admin remains; a manager exists,
//! is active, and makes no loop; email address and employee number are unique), writes what
//! changed, ends the sessions of people deactivated, and appends one event per person changed.
//!
//! Locks on PostgreSQL: the rows of the people changed (read with [`load_for_update`]), and
//! transaction-scoped advisory locks for the two rules that span many rows: one while a change
//! that could lose an admin is checked, one while the manager graph changes (a loop is a
//! property of the whole chart). Both are rare. SQLite runs one writing transaction at a time.

use std::collections::{BTreeSet, HashMap};

use chrono::{SubsecRound, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, Iterable,
    ModelTrait, QueryFilter, QuerySelect, SqlErr, Statement,
};
use uuid::Uuid;

use super::dto::{PersonEvent, Role};
use super::repo;
use crate::auth::repo as auth_repo;
use crate::entities::people;
use crate::events::{self, Event};

/// Key of the advisory lock held while the manager graph is checked and changed.
const ORG_CHART_LOCK_KEY: i64 = 0x706c_6569_6e00_0006;
/// Key of the advisory lock held while a change that could lose an admin is checked.
const ADMINS_LOCK_KEY: i64 = 0x706c_6569_6e00_0007;
/// Longer chains than this are treated as loops (a corrupt chart must not hang a request).
const MAX_MANAGER_CHAIN: usize = 10_000;
/// Batches up to this size are checked for duplicates one by one before writing.
const PRECHECK_UNIQUE_UP_TO: usize = 100;

/// A person rule a change would break.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broken {
    EmailTaken,
    /// A SCIM `userName` (or an address, which is the user name of people without one) that
    /// another person goes by.
    UserNameTaken,
    EmployeeIdTaken,
    /// An identity provider's own id (SCIM `externalId`) that another person has.
    ExternalIdTaken,
    OwnManager,
    UnknownManager(Uuid),
    InactiveManager(Uuid),
    ManagerLoop,
    LastAdmin,
}

impl Broken {
    /// The field the rule is about, as the admin API names it.
    pub fn field(&self) -> &'static str {
        match self {
            Broken::EmailTaken => "email",
            Broken::UserNameTaken => "user_name",
            Broken::EmployeeIdTaken => "employee_id",
            Broken::ExternalIdTaken => "external_id",
            Broken::OwnManager
            | Broken::UnknownManager(_)
            | Broken::InactiveManager(_)
            | Broken::ManagerLoop => "manager_id",
            Broken::LastAdmin => "role",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Broken::EmailTaken => "another person has this email address".to_owned(),
            Broken::UserNameTaken => {
                "another person goes by this name in the identity provider".to_owned()
            }
            Broken::EmployeeIdTaken => "another person has this employee number".to_owned(),
            Broken::ExternalIdTaken => "another person has this identity provider id".to_owned(),
            Broken::OwnManager => "a person cannot be their own manager".to_owned(),
            Broken::UnknownManager(id) => format!("no person has id {id}"),
            Broken::InactiveManager(id) => {
                format!("the manager ({id}) is deactivated; choose an active person")
            }
            Broken::ManagerLoop => "this would make a loop of managers".to_owned(),
            Broken::LastAdmin => "this would leave Plein without an active admin".to_owned(),
        }
    }
}

/// Why a write did not happen.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Change number `index` of the batch breaks `rule`; nothing was written.
    #[error("change {index}: {}", rule.message())]
    Refused { index: usize, rule: Broken },
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// One person before and after. `before` is `None` for someone new; read it with
/// [`load_for_update`] so nobody changes the row between the read and the write.
#[derive(Debug, Clone)]
pub struct Change {
    pub before: Option<people::Model>,
    pub after: people::Model,
}

impl Change {
    fn manager_changed(&self) -> bool {
        self.after.manager_id.is_some()
            && self.before.as_ref().map(|before| before.manager_id) != Some(self.after.manager_id)
    }

    fn is_active_admin(person: &people::Model) -> bool {
        person.active && person.role == Role::Admin.as_str()
    }

    fn was_active_admin(&self) -> bool {
        self.before.as_ref().is_some_and(Self::is_active_admin)
    }

    /// The event this change is, if anything changed.
    fn event(&self) -> Option<Event> {
        let person = PersonEvent::from(&self.after);
        let Some(before) = &self.before else {
            return Some(Event::PersonCreated { person });
        };
        if *before == self.after {
            return None;
        }
        Some(match (before.active, self.after.active) {
            (true, false) => Event::PersonDeactivated { person },
            (false, true) => Event::PersonReactivated { person },
            _ if before.role != self.after.role => Event::PersonRoleChanged {
                person,
                previous_role: Role::parse(&before.role).unwrap_or(Role::Employee),
            },
            _ => Event::PersonUpdated { person },
        })
    }
}

/// What the caller has already checked under the writer's locks.
#[derive(Debug, Clone, Copy, Default)]
pub struct Prechecked {
    /// The manager graph, against everyone, after [`lock_org_chart`] (the HR import plans over
    /// the whole company at once and names every row in a loop).
    pub managers: bool,
}

/// Reads a person and, on PostgreSQL, locks the row until the transaction ends.
pub async fn load_for_update(
    tx: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<people::Model>, DbErr> {
    let mut query = people::Entity::find_by_id(id);
    if tx.get_database_backend() == DbBackend::Postgres {
        query = query.lock_exclusive();
    }
    query.one(tx).await
}

/// Serialises changes to the manager graph; held until the transaction ends. The chain is then
/// read without row locks: each statement sees what the previous holder committed.
pub async fn lock_org_chart(tx: &impl ConnectionTrait) -> Result<(), DbErr> {
    advisory_lock(tx, ORG_CHART_LOCK_KEY).await
}

/// The active admins, read after taking the admin lock: a concurrent change that could lose
/// an admin waits for this transaction, then counts again. (Locking the admins' rows instead
/// would deadlock two demotions that each already hold their own row.)
async fn lock_active_admins(tx: &impl ConnectionTrait) -> Result<BTreeSet<Uuid>, DbErr> {
    advisory_lock(tx, ADMINS_LOCK_KEY).await?;
    Ok(people::Entity::find()
        .select_only()
        .column(people::Column::Id)
        .filter(people::Column::Role.eq(Role::Admin.as_str()))
        .filter(people::Column::Active.eq(true))
        .into_tuple::<Uuid>()
        .all(tx)
        .await?
        .into_iter()
        .collect())
}

async fn advisory_lock(tx: &impl ConnectionTrait, key: i64) -> Result<(), DbErr> {
    let backend = tx.get_database_backend();
    if backend == DbBackend::Postgres {
        tx.execute_raw(Statement::from_sql_and_values(
            backend,
            "SELECT pg_advisory_xact_lock($1)",
            [key.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Checks the rules, writes every change, ends the sessions of people deactivated and appends
/// their events, all in `tx`. Returns the rows as written. Unchanged people are skipped.
pub async fn write(
    tx: &impl ConnectionTrait,
    changes: Vec<Change>,
    prechecked: Prechecked,
) -> Result<Vec<people::Model>, WriteError> {
    let mut changes = changes;
    for change in &mut changes {
        change.after.user_name_normalized =
            change.after.user_name.as_deref().map(normalize_user_name);
    }
    check(tx, &changes, prechecked).await?;
    let mut written = Vec::with_capacity(changes.len());
    let mut deactivated = Vec::new();
    let mut announced = Vec::new();
    let bulk = changes.len() > PRECHECK_UNIQUE_UP_TO;
    let mut bulk_rows = Vec::new();
    for (index, change) in changes.into_iter().enumerate() {
        let Some(event) = change.event() else {
            written.push(change.after);
            continue;
        };
        if change.before.as_ref().is_some_and(|before| before.active) && !change.after.active {
            deactivated.push(change.after.id);
        }
        announced.push(event);
        if bulk {
            bulk_rows.push(change.after.clone());
        } else {
            save(tx, &change)
                .await
                .map_err(|error| refused_or_db(index, error))?;
        }
        written.push(change.after);
    }
    if !bulk_rows.is_empty() {
        repo::upsert_many(tx, bulk_rows)
            .await
            .map_err(|error| refused_or_db(0, error))?;
    }
    for chunk in deactivated.chunks(1_000) {
        auth_repo::delete_sessions_of_many(tx, chunk).await?;
    }
    events::append_many(tx, announced).await?;
    Ok(written)
}

/// A unique index refusing the row: someone wrote the same address or number meanwhile.
fn refused_or_db(index: usize, error: DbErr) -> WriteError {
    match error.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(detail)) => {
            let rule = if detail.contains("user_name") {
                Broken::UserNameTaken
            } else if detail.contains("employee") {
                Broken::EmployeeIdTaken
            } else if detail.contains("external") {
                Broken::ExternalIdTaken
            } else {
                Broken::EmailTaken
            };
            WriteError::Refused { index, rule }
        }
        _ => WriteError::Db(error),
    }
}

/// Inserts a new person, or updates only the columns that changed.
async fn save(tx: &impl ConnectionTrait, change: &Change) -> Result<(), DbErr> {
    match &change.before {
        None => {
            people::ActiveModel::from(change.after.clone())
                .reset_all()
                .insert(tx)
                .await?;
        }
        Some(before) => {
            let mut row = people::ActiveModel::from(before.clone());
            for column in people::Column::iter() {
                let value = change.after.get(column);
                if before.get(column) != value {
                    row.set(column, value);
                }
            }
            if change.after.updated_at == before.updated_at {
                // Microseconds, as PostgreSQL keeps them: an ETag from this write equals the
                // one read back later.
                row.set(
                    people::Column::UpdatedAt,
                    Utc::now().trunc_subsecs(6).into(),
                );
            }
            row.update(tx).await?;
        }
    }
    Ok(())
}

async fn check(
    tx: &impl ConnectionTrait,
    changes: &[Change],
    prechecked: Prechecked,
) -> Result<(), WriteError> {
    check_admins(tx, changes).await?;
    if changes.len() <= PRECHECK_UNIQUE_UP_TO {
        check_unique(tx, changes).await?;
    }
    if !prechecked.managers && changes.iter().any(Change::manager_changed) {
        lock_org_chart(tx).await?;
        check_managers(tx, changes).await?;
    }
    Ok(())
}

async fn check_admins(tx: &impl ConnectionTrait, changes: &[Change]) -> Result<(), WriteError> {
    let losing = changes
        .iter()
        .position(|change| change.was_active_admin() && !Change::is_active_admin(&change.after));
    let Some(first_loss) = losing else {
        return Ok(());
    };
    let mut admins = lock_active_admins(tx).await?;
    for change in changes {
        if Change::is_active_admin(&change.after) {
            admins.insert(change.after.id);
        } else {
            admins.remove(&change.after.id);
        }
    }
    if admins.is_empty() {
        return Err(WriteError::Refused {
            index: first_loss,
            rule: Broken::LastAdmin,
        });
    }
    Ok(())
}

/// A SCIM `userName` folded for comparison (RFC 7643: not case-exact).
pub fn normalize_user_name(user_name: &str) -> String {
    user_name.trim().to_lowercase()
}

/// What a person is looked up by as a SCIM `userName`: the given name, else the address.
fn user_name_key(person: &people::Model) -> Option<&str> {
    person
        .user_name_normalized
        .as_deref()
        .or(person.email_normalized.as_deref())
}

async fn check_unique(tx: &impl ConnectionTrait, changes: &[Change]) -> Result<(), WriteError> {
    for (index, change) in changes.iter().enumerate() {
        let before = change.before.as_ref();
        let after = &change.after;
        if let Some(email) = after.email_normalized.as_deref()
            && before.and_then(|row| row.email_normalized.as_deref()) != Some(email)
            && repo::find_by_email(tx, email)
                .await?
                .is_some_and(|other| other.id != after.id)
        {
            return Err(WriteError::Refused {
                index,
                rule: Broken::EmailTaken,
            });
        }
        if let Some(key) = user_name_key(after)
            && before.and_then(user_name_key) != Some(key)
            && repo::find_by_user_name(tx, key)
                .await?
                .is_some_and(|other| other.id != after.id)
        {
            return Err(WriteError::Refused {
                index,
                rule: Broken::UserNameTaken,
            });
        }
        if let Some(number) = after.employee_id.as_deref()
            && before.and_then(|row| row.employee_id.as_deref()) != Some(number)
            && repo::find_by_employee_id(tx, number)
                .await?
                .is_some_and(|other| other.id != after.id)
        {
            return Err(WriteError::Refused {
                index,
                rule: Broken::EmployeeIdTaken,
            });
        }
    }
    Ok(())
}

/// Each new manager exists, is active and is not below the person; the batch's own changes
/// count, so two changes in one batch cannot make a loop together either.
async fn check_managers(tx: &impl ConnectionTrait, changes: &[Change]) -> Result<(), WriteError> {
    let in_batch: HashMap<Uuid, &people::Model> = changes
        .iter()
        .map(|change| (change.after.id, &change.after))
        .collect();
    for (index, change) in changes.iter().enumerate() {
        if !change.manager_changed() {
            continue;
        }
        let Some(manager_id) = change.after.manager_id else {
            continue;
        };
        let refuse = |rule| WriteError::Refused { index, rule };
        if manager_id == change.after.id {
            return Err(refuse(Broken::OwnManager));
        }
        let manager = match in_batch.get(&manager_id) {
            Some(row) => Some((*row).clone()),
            None => repo::find(tx, manager_id).await?,
        };
        match manager {
            None => return Err(refuse(Broken::UnknownManager(manager_id))),
            Some(row) if row.deleted_at.is_some() => {
                return Err(refuse(Broken::UnknownManager(manager_id)));
            }
            Some(row) if !row.active => return Err(refuse(Broken::InactiveManager(manager_id))),
            Some(_) => {}
        }
        let mut current = Some(manager_id);
        let mut steps = 0;
        while let Some(id) = current {
            if id == change.after.id || steps > MAX_MANAGER_CHAIN {
                return Err(refuse(Broken::ManagerLoop));
            }
            steps += 1;
            current = match in_batch.get(&id) {
                Some(row) => row.manager_id,
                None => repo::find(tx, id).await?.and_then(|row| row.manager_id),
            };
        }
    }
    Ok(())
}
