//! HR import: the HR system's CSV export becomes the directory, every row or none.
//!
//! Rows are matched to people by employee number. Managers may appear after their reports, so
//! the whole file is read and checked before anything is written; a manager loop, a duplicate, a
//! bad email or an unknown manager anywhere rejects the file with every problem listed by line.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::dto::Role;
use super::service::{
    MAX_HR_TEXT_CHARS, check_email, check_phone, check_text, clean_tags, normalize_email, sort_name,
};
use super::{repo, writer};
use crate::auth::Principal;
use crate::db;
use crate::entities::people;
use crate::error::{ApiError, ApiResult, RowProblem};
use crate::events::Doorbell;

/// The columns a file may have, in the documented order.
pub const COLUMNS: [&str; 11] = [
    "employee_id",
    "given_name",
    "family_name",
    "email",
    "title",
    "department",
    "location",
    "manager_employee_id",
    "phone",
    "skills",
    "languages",
];
const REQUIRED_COLUMNS: [&str; 4] = ["employee_id", "given_name", "family_name", "email"];
const MAX_EMPLOYEE_ID_CHARS: usize = 64;
const MAX_GIVEN_NAME_CHARS: usize = 100;
const MAX_FAMILY_NAME_CHARS: usize = 150;
/// Rows per statement: on SQLite 26 parameters each, far below its 32,766. PostgreSQL takes the
/// rows as one JSON parameter (a few MB): three round trips for 30,000 people.
const WRITE_CHUNK_SQLITE: usize = 400;
const WRITE_CHUNK_POSTGRES: usize = 10_000;
/// People named in the message about one manager loop.
const MAX_LOOP_MEMBERS_NAMED: usize = 8;
/// A file that is wrong throughout needs no list of every line.
const MAX_LISTED_PROBLEMS: usize = 500;

/// One checked row of the file.
#[derive(Debug, Clone)]
pub struct ImportRow {
    pub line: u64,
    pub employee_id: String,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    pub title: Option<String>,
    pub department: Option<String>,
    pub location: Option<String>,
    pub manager_employee_id: Option<String>,
    pub phone: Option<String>,
    pub skills: Vec<String>,
    pub languages: Vec<String>,
}

/// How to import.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Check and count, change nothing.
    pub dry_run: bool,
    /// Deactivate people with an employee number who are absent from the file.
    pub deactivate_missing: bool,
}

/// What an import did, or would do on a dry run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ImportSummary {
    pub dry_run: bool,
    /// Data rows in the file.
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// People absent from the file who were deactivated (only with `deactivate_missing`).
    pub deactivated: usize,
}

/// Progress of a long import, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    /// A new stage begins with `total` units of work.
    Stage { name: &'static str, total: u64 },
    /// `n` more units of the current stage are done.
    Advance(u64),
}

/// Collects problems, in line order.
#[derive(Default)]
struct Problems(Vec<RowProblem>);

impl Problems {
    fn add(
        &mut self,
        line: u64,
        employee_id: Option<&str>,
        column: Option<&str>,
        message: impl Into<String>,
    ) {
        self.0.push(RowProblem {
            line,
            employee_id: employee_id.filter(|id| !id.is_empty()).map(str::to_owned),
            column: column.map(str::to_owned),
            message: message.into(),
        });
    }

    fn into_result(mut self) -> ApiResult<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        self.0.sort_by_key(|problem| problem.line);
        let lines: HashSet<u64> = self.0.iter().map(|problem| problem.line).collect();
        let mut message = match lines.len() {
            1 => "1 row has problems; nothing was imported".to_owned(),
            count => format!("{count} rows have problems; nothing was imported"),
        };
        if self.0.len() > MAX_LISTED_PROBLEMS {
            message.push_str(&format!(
                " (the first {MAX_LISTED_PROBLEMS} problems are listed)"
            ));
            self.0.truncate(MAX_LISTED_PROBLEMS);
        }
        Err(ApiError::rows(message, self.0))
    }
}

/// Spreadsheets in Dutch locales export with `;`; others with `,`. The header line decides.
fn detect_delimiter(data: &[u8]) -> u8 {
    let header = data.split(|&byte| byte == b'\n').next().unwrap_or_default();
    let (mut commas, mut semicolons, mut quoted) = (0usize, 0usize, false);
    for &byte in header {
        match byte {
            b'"' => quoted = !quoted,
            b',' if !quoted => commas += 1,
            b';' if !quoted => semicolons += 1,
            _ => {}
        }
    }
    if semicolons > commas { b';' } else { b',' }
}

/// Reads and checks every row: UTF-8 with or without BOM, `,` or `;`, quoted fields. Problems of
/// all rows are reported together.
pub fn parse(data: &[u8]) -> ApiResult<Vec<ImportRow>> {
    let checked = read_rows(data)?;
    checked.problems.into_result()?;
    Ok(checked.rows)
}

/// The usable rows of a file, the problems of the others, and the employee numbers of rows that
/// were not usable (so references to them are not reported a second time).
struct CheckedRows {
    rows: Vec<ImportRow>,
    problems: Problems,
    unusable: HashSet<String>,
}

fn read_rows(data: &[u8]) -> ApiResult<CheckedRows> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    if data.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "empty_file",
            format!(
                "the file is empty; it needs a header line such as {}",
                COLUMNS.join(",")
            ),
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(detect_delimiter(data))
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(data);
    let columns = read_header(&mut reader)?;
    let mut checked = CheckedRows {
        rows: Vec::new(),
        problems: Problems::default(),
        unusable: HashSet::new(),
    };
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, csv::Position::line);
                match check_row(&columns, &record, line, &mut checked.problems) {
                    Ok(row) => checked.rows.push(row),
                    Err(Some(employee_id)) => {
                        checked.unusable.insert(employee_id);
                    }
                    Err(None) => {}
                }
            }
            Err(error) => {
                let line = error.position().map_or(0, csv::Position::line);
                match error.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => {
                        checked.problems.add(
                            line,
                            None,
                            None,
                            format!("has {len} fields but the header has {expected_len}"),
                        );
                        if let Some(employee_id) = columns
                            .get("employee_id")
                            .and_then(|&position| record.get(position))
                            .and_then(|raw| std::str::from_utf8(raw).ok())
                        {
                            checked.unusable.insert(employee_id.trim().to_owned());
                        }
                    }
                    _ => {
                        checked
                            .problems
                            .add(line, None, None, format!("cannot be read: {error}"));
                        break;
                    }
                }
            }
        }
    }
    checked.rows = without_duplicates(std::mem::take(&mut checked.rows), &mut checked.problems);
    Ok(checked)
}

/// Maps each known column to its position; unknown, doubled or missing columns are errors.
fn read_header(reader: &mut csv::Reader<&[u8]>) -> ApiResult<HashMap<&'static str, usize>> {
    let header = reader
        .byte_headers()
        .map_err(|error| {
            ApiError::bad_request(
                "bad_header",
                format!("the header line cannot be read: {error}"),
            )
        })?
        .clone();
    let mut problems = Problems::default();
    let mut columns = HashMap::new();
    for (position, raw) in header.iter().enumerate() {
        let Ok(name) = std::str::from_utf8(raw) else {
            problems.add(1, None, None, "the header is not valid UTF-8");
            continue;
        };
        let name = name.trim().to_lowercase();
        match COLUMNS.iter().find(|column| **column == name) {
            Some(column) => {
                if columns.insert(*column, position).is_some() {
                    problems.add(1, None, Some(column), "column appears twice in the header");
                }
            }
            None => problems.add(
                1,
                None,
                Some(&name),
                format!("unknown column; the columns are {}", COLUMNS.join(",")),
            ),
        }
    }
    for required in REQUIRED_COLUMNS {
        if !columns.contains_key(required) {
            problems.add(
                1,
                None,
                Some(required),
                "required column is missing from the header",
            );
        }
    }
    problems.into_result()?;
    Ok(columns)
}

/// Checks one record, recording every problem; returns the row when it is usable, otherwise its
/// employee number if it has one.
fn check_row(
    columns: &HashMap<&'static str, usize>,
    record: &csv::ByteRecord,
    line: u64,
    problems: &mut Problems,
) -> Result<ImportRow, Option<String>> {
    let mut bad = false;
    let mut text = |column: &'static str| -> String {
        let Some(raw) = columns
            .get(column)
            .and_then(|&position| record.get(position))
        else {
            return String::new();
        };
        match std::str::from_utf8(raw) {
            Ok(value) => value.trim().to_owned(),
            Err(_) => {
                problems.add(
                    line,
                    None,
                    Some(column),
                    "is not valid UTF-8; save the file as UTF-8",
                );
                bad = true;
                String::new()
            }
        }
    };
    let employee_id = text("employee_id");
    let given_name = text("given_name");
    let family_name = text("family_name");
    let email = text("email");
    let title = text("title");
    let department = text("department");
    let location = text("location");
    let manager_employee_id = text("manager_employee_id");
    let phone = text("phone");
    let skills = text("skills");
    let languages = text("languages");

    let mut fields = BTreeMap::new();
    if employee_id.is_empty() {
        fields.insert("employee_id".to_owned(), "is required".to_owned());
    }
    if given_name.is_empty() {
        fields.insert("given_name".to_owned(), "is required".to_owned());
    }
    if let Err(problem) = check_email(&email) {
        fields.insert("email".to_owned(), problem);
    }
    for (column, value, max) in [
        ("employee_id", &employee_id, MAX_EMPLOYEE_ID_CHARS),
        ("given_name", &given_name, MAX_GIVEN_NAME_CHARS),
        ("family_name", &family_name, MAX_FAMILY_NAME_CHARS),
        ("title", &title, MAX_HR_TEXT_CHARS),
        ("department", &department, MAX_HR_TEXT_CHARS),
        ("location", &location, MAX_HR_TEXT_CHARS),
        (
            "manager_employee_id",
            &manager_employee_id,
            MAX_EMPLOYEE_ID_CHARS,
        ),
    ] {
        if !fields.contains_key(column) {
            check_text(column, Some(value), max, &mut fields);
        }
    }
    let phone = (!phone.is_empty()).then_some(phone);
    if let Some(Err(problem)) = phone.as_deref().map(check_phone) {
        fields.insert("phone".to_owned(), problem);
    }
    let split = |list: &str| -> Vec<String> { list.split(';').map(str::to_owned).collect() };
    let skills = clean_tags("skills", split(&skills), &mut fields);
    let languages = clean_tags("languages", split(&languages), &mut fields);
    let key = (!employee_id.is_empty()).then_some(employee_id.as_str());
    for (column, message) in &fields {
        problems.add(line, key, Some(column), message.clone());
    }
    if bad || !fields.is_empty() {
        return Err((!employee_id.is_empty()).then_some(employee_id));
    }
    let optional = |value: String| (!value.is_empty()).then_some(value);
    Ok(ImportRow {
        line,
        employee_id,
        given_name,
        family_name,
        email,
        title: optional(title),
        department: optional(department),
        location: optional(location),
        manager_employee_id: optional(manager_employee_id),
        phone,
        skills,
        languages,
    })
}

/// An employee number or email address may appear once per file; later repeats are reported
/// and left out.
fn without_duplicates(rows: Vec<ImportRow>, problems: &mut Problems) -> Vec<ImportRow> {
    let mut employee_lines: HashMap<String, u64> = HashMap::new();
    let mut email_lines: HashMap<String, u64> = HashMap::new();
    let mut kept = Vec::with_capacity(rows.len());
    for row in rows {
        let key = Some(row.employee_id.as_str());
        let mut duplicate = false;
        if let Some(&first) = employee_lines.get(&row.employee_id) {
            duplicate = true;
            problems.add(
                row.line,
                key,
                Some("employee_id"),
                format!(
                    "employee number {} is already used on line {first}",
                    row.employee_id
                ),
            );
        }
        let email = normalize_email(&row.email);
        if let Some(&first) = email_lines.get(&email) {
            duplicate = true;
            problems.add(
                row.line,
                key,
                Some("email"),
                format!("email address is already used on line {first}"),
            );
        }
        if !duplicate {
            employee_lines.insert(row.employee_id.clone(), row.line);
            email_lines.insert(email, row.line);
            kept.push(row);
        }
    }
    kept
}

/// What the checked file means for the directory.
struct Plan {
    /// New, changed and deactivated people, before and after, for the people writer.
    changes: Vec<writer::Change>,
    /// Existing people whose new address is, until this import, someone else's.
    email_moves: Vec<Uuid>,
    summary: ImportSummary,
}

fn is_blank_list(json: &str) -> bool {
    serde_json::from_str::<Vec<String>>(json).map_or(true, |list| list.is_empty())
}

/// Compares the file with the directory: who is created, updated, unchanged or deactivated, and
/// whether managers resolve without loops.
async fn plan(
    db: &impl ConnectionTrait,
    checked: CheckedRows,
    options: ImportOptions,
) -> ApiResult<Plan> {
    let CheckedRows {
        rows,
        mut problems,
        unusable,
    } = checked;
    let rows = rows.as_slice();
    let everyone = repo::all(db).await?;
    let by_employee: HashMap<&str, &people::Model> = everyone
        .iter()
        .filter_map(|person| person.employee_id.as_deref().map(|id| (id, person)))
        .collect();
    let by_email: HashMap<&str, &people::Model> = everyone
        .iter()
        .filter_map(|person| {
            person
                .email_normalized
                .as_deref()
                .map(|email| (email, person))
        })
        .collect();
    let in_file: HashMap<&str, &ImportRow> = rows
        .iter()
        .map(|row| (row.employee_id.as_str(), row))
        .collect();
    let ids: HashMap<&str, Uuid> = rows
        .iter()
        .map(|row| {
            let id = by_employee
                .get(row.employee_id.as_str())
                .map_or_else(Uuid::now_v7, |person| person.id);
            (row.employee_id.as_str(), id)
        })
        .collect();
    let deactivate: Vec<&people::Model> = if options.deactivate_missing {
        everyone
            .iter()
            .filter(|person| person.active)
            .filter(|person| {
                person
                    .employee_id
                    .as_deref()
                    .is_some_and(|id| !in_file.contains_key(id))
            })
            .collect()
    } else {
        Vec::new()
    };
    let deactivated: HashSet<Uuid> = deactivate.iter().map(|person| person.id).collect();

    let mut managers: HashMap<Uuid, Option<Uuid>> = everyone
        .iter()
        .map(|person| (person.id, person.manager_id))
        .collect();
    let mut email_moves = Vec::new();
    for row in rows {
        let id = ids[row.employee_id.as_str()];
        let key = Some(row.employee_id.as_str());
        let manager = match row.manager_employee_id.as_deref() {
            None => None,
            Some(manager) if manager == row.employee_id => {
                problems.add(
                    row.line,
                    key,
                    Some("manager_employee_id"),
                    "a person cannot be their own manager",
                );
                None
            }
            Some(manager) => {
                match (ids.get(manager), by_employee.get(manager)) {
                    (Some(&manager_id), _) => Some(manager_id),
                    (None, Some(person)) if person.active && !deactivated.contains(&person.id) => {
                        Some(person.id)
                    }
                    (None, Some(_)) => {
                        problems.add(
                            row.line,
                            key,
                            Some("manager_employee_id"),
                            format!("manager {manager} is deactivated and not in this file"),
                        );
                        None
                    }
                    // That row is reported already.
                    (None, None) if unusable.contains(manager) => None,
                    (None, None) => {
                        problems.add(
                        row.line,
                        key,
                        Some("manager_employee_id"),
                        format!("no person with employee number {manager} in this file or the directory"),
                    );
                        None
                    }
                }
            }
        };
        managers.insert(id, manager);
        if let Some(holder) = by_email.get(normalize_email(&row.email).as_str())
            && holder.id != id
        {
            let holder_in_file = holder
                .employee_id
                .as_deref()
                .is_some_and(|number| in_file.contains_key(number));
            if holder_in_file {
                email_moves.push(holder.id);
            } else {
                let holder_name = holder.employee_id.as_deref().map_or_else(
                    || holder.display_name.clone(),
                    |number| format!("employee {number}"),
                );
                problems.add(
                    row.line,
                    key,
                    Some("email"),
                    format!("email address belongs to {holder_name}, who is not in this file"),
                );
            }
        }
    }
    find_manager_loops(rows, &ids, &managers, &everyone, &mut problems);
    problems.into_result()?;

    let remaining_admins = everyone
        .iter()
        .filter(|person| person.active && person.role == Role::Admin.as_str())
        .filter(|person| !deactivated.contains(&person.id))
        .count();
    if !deactivate.is_empty() && remaining_admins == 0 {
        return Err(ApiError::conflict(
            "last_admin",
            "deactivating the people missing from this file would leave Plein without an active admin",
        ));
    }

    let now = Utc::now();
    let mut summary = ImportSummary {
        dry_run: options.dry_run,
        rows: rows.len(),
        created: 0,
        updated: 0,
        unchanged: 0,
        deactivated: deactivate.len(),
    };
    let mut changes = Vec::new();
    for row in rows {
        let id = ids[row.employee_id.as_str()];
        let manager_id = managers.get(&id).copied().flatten();
        let skills = serde_json::Value::from(row.skills.clone()).to_string();
        let languages = serde_json::Value::from(row.languages.clone()).to_string();
        match by_employee.get(row.employee_id.as_str()) {
            Some(&existing) => {
                let mut person = existing.clone();
                person.email = Some(row.email.clone());
                person.email_normalized = Some(normalize_email(&row.email));
                person.given_name = row.given_name.clone();
                person.family_name = row.family_name.clone();
                person.title = row.title.clone();
                person.department = row.department.clone();
                person.location = row.location.clone();
                person.manager_id = manager_id;
                person.active = true;
                person.deleted_at = None;
                // Phone, skills and languages belong to the person once set; HR only fills gaps.
                if person.phone.is_none() {
                    person.phone = row.phone.clone();
                }
                if is_blank_list(&person.skills) {
                    person.skills = skills;
                }
                if is_blank_list(&person.languages) {
                    person.languages = languages;
                }
                let shown = person.preferred_name.as_deref().unwrap_or(&row.given_name);
                person.display_name = format!("{shown} {}", row.family_name).trim().to_owned();
                person.sort_name = sort_name(
                    &row.given_name,
                    person.preferred_name.as_deref(),
                    &row.family_name,
                );
                if person == *existing {
                    summary.unchanged += 1;
                } else {
                    person.updated_at = now;
                    summary.updated += 1;
                    changes.push(writer::Change {
                        before: Some(existing.clone()),
                        after: person,
                    });
                }
            }
            None => {
                summary.created += 1;
                let person = people::Model {
                    email: Some(row.email.clone()),
                    email_normalized: Some(normalize_email(&row.email)),
                    display_name: format!("{} {}", row.given_name, row.family_name)
                        .trim()
                        .to_owned(),
                    employee_id: Some(row.employee_id.clone()),
                    given_name: row.given_name.clone(),
                    family_name: row.family_name.clone(),
                    title: row.title.clone(),
                    department: row.department.clone(),
                    location: row.location.clone(),
                    manager_id,
                    phone: row.phone.clone(),
                    skills,
                    languages,
                    sort_name: sort_name(&row.given_name, None, &row.family_name),
                    ..repo::blank_person(id, now)
                };
                changes.push(writer::Change {
                    before: None,
                    after: person,
                });
            }
        }
    }
    for person in &deactivate {
        let mut after = (*person).clone();
        after.active = false;
        after.updated_at = now;
        changes.push(writer::Change {
            before: Some((*person).clone()),
            after,
        });
    }
    Ok(Plan {
        changes,
        email_moves,
        summary,
    })
}

/// Walks the final manager graph once (each person visited once, so chains thousands deep stay
/// linear) and reports every loop on the rows that form it.
fn find_manager_loops(
    rows: &[ImportRow],
    ids: &HashMap<&str, Uuid>,
    managers: &HashMap<Uuid, Option<Uuid>>,
    everyone: &[people::Model],
    problems: &mut Problems,
) {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        OnPath,
        Done,
    }
    let rows_by_id: HashMap<Uuid, &ImportRow> = rows
        .iter()
        .map(|row| (ids[row.employee_id.as_str()], row))
        .collect();
    let directory: HashMap<Uuid, &people::Model> =
        everyone.iter().map(|person| (person.id, person)).collect();
    let label = |id: Uuid| -> String {
        match (rows_by_id.get(&id), directory.get(&id)) {
            (Some(row), _) => format!("{} (line {})", row.employee_id, row.line),
            (None, Some(person)) => person
                .employee_id
                .clone()
                .unwrap_or_else(|| person.display_name.clone()),
            (None, None) => id.to_string(),
        }
    };
    let mut marks: HashMap<Uuid, Mark> = HashMap::new();
    for row in rows {
        let start = ids[row.employee_id.as_str()];
        let mut path = Vec::new();
        let mut current = Some(start);
        while let Some(id) = current {
            match marks.get(&id) {
                Some(Mark::Done) => break,
                Some(Mark::OnPath) => {
                    let from = path.iter().position(|&member| member == id).unwrap_or(0);
                    let cycle = &path[from..];
                    // A loop through thousands of people is named by its start and its size.
                    let shown = cycle.len().min(MAX_LOOP_MEMBERS_NAMED);
                    let mut description: Vec<String> =
                        cycle[..shown].iter().map(|&member| label(member)).collect();
                    if shown < cycle.len() {
                        description.push(format!("… ({} people in all)", cycle.len()));
                    }
                    description.push(label(id));
                    let message = format!("managers form a loop: {}", description.join(" → "));
                    for member in cycle {
                        if let Some(member_row) = rows_by_id.get(member) {
                            problems.add(
                                member_row.line,
                                Some(&member_row.employee_id),
                                Some("manager_employee_id"),
                                message.clone(),
                            );
                        }
                    }
                    break;
                }
                None => {
                    marks.insert(id, Mark::OnPath);
                    path.push(id);
                    current = managers.get(&id).copied().flatten();
                }
            }
        }
        for id in path {
            marks.insert(id, Mark::Done);
        }
    }
}

/// Imports a CSV file on an admin's behalf.
pub async fn import_as(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    actor: &Principal,
    data: &[u8],
    options: ImportOptions,
) -> ApiResult<ImportSummary> {
    actor.require_admin()?;
    import(db, doorbell, data, options, &|_| {}).await
}

/// Imports a CSV file with the server's own authority (the CLI and the demo company): checks
/// every row, then writes all of it in one transaction, or nothing.
pub async fn import(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    data: &[u8],
    options: ImportOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> ApiResult<ImportSummary> {
    progress(Progress::Stage {
        name: "checking",
        total: 0,
    });
    // Reading 30,000 rows takes tens of milliseconds: not on an async worker.
    let owned = data.to_vec();
    let checked = tokio::task::spawn_blocking(move || read_rows(&owned))
        .await
        .map_err(|error| ApiError::internal(anyhow::anyhow!("import task failed: {error}")))??;
    if options.dry_run {
        return Ok(plan(db, checked, options).await?.summary);
    }
    // Planned inside the write transaction, with the manager graph locked, so nobody changes
    // the directory in between and the plan's loop check holds when it is written.
    let started = std::time::Instant::now();
    let tx = db::begin_write(db).await?;
    writer::lock_org_chart(&tx).await?;
    let plan = plan(&tx, checked, options).await?;
    let planned = started.elapsed();
    let total = plan.changes.len() as u64;
    progress(Progress::Stage {
        name: "writing",
        total,
    });
    repo::park_emails(&tx, &plan.email_moves).await?;
    let write_chunk = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => WRITE_CHUNK_POSTGRES,
        _ => WRITE_CHUNK_SQLITE,
    };
    // Chunk by chunk through the one writer: each chunk sees the ones before it in this
    // transaction, so the last-admin rule holds over the whole file.
    let prechecked = writer::Prechecked { managers: true };
    for chunk in plan.changes.chunks(write_chunk) {
        writer::write(&tx, chunk.to_vec(), prechecked)
            .await
            .map_err(super::service::write_refused)?;
        progress(Progress::Advance(chunk.len() as u64));
    }
    tx.commit().await?;
    if total > 0 {
        doorbell.ring();
    }
    tracing::info!(
        plan_ms = planned.as_millis() as u64,
        total_ms = started.elapsed().as_millis() as u64,
        created = plan.summary.created,
        updated = plan.summary.updated,
        unchanged = plan.summary.unchanged,
        deactivated = plan.summary.deactivated,
        "people imported"
    );
    Ok(plan.summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems_of(data: &str) -> Vec<RowProblem> {
        match parse(data.as_bytes()) {
            Ok(rows) => panic!("expected problems, got {} rows", rows.len()),
            Err(error) => error.rows,
        }
    }

    #[test]
    fn semicolons_quotes_and_a_bom_are_read() {
        let data = "\u{feff}employee_id;given_name;family_name;email;skills\n\
                    E1;Anne;\"van Rijnsoever\";anne@example.nl;\"Rust;SQL\"\r\n";
        let rows = parse(data.as_bytes()).expect("valid file");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].family_name, "van Rijnsoever");
        assert_eq!(rows[0].skills, ["Rust", "SQL"]);
        assert_eq!(rows[0].line, 2);
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line() {
        let data = "employee_id,given_name,family_name,email\n\
                    E1,Anne,Vries,not-an-email\n\
                    E2,Bas,Berg,bas@example.nl\n\
                    ,Cor,Dam,cor@example.nl\n\
                    E2,Dirk,Eck,dirk@example.nl\n\
                    E5,Eva\n";
        let problems = problems_of(data);
        let lines: Vec<(u64, Option<&str>)> = problems
            .iter()
            .map(|problem| (problem.line, problem.column.as_deref()))
            .collect();
        assert_eq!(
            lines,
            [
                (2, Some("email")),
                (4, Some("employee_id")),
                (5, Some("employee_id")),
                (6, None)
            ]
        );
    }

    #[test]
    fn unknown_and_missing_columns_are_named() {
        let problems = problems_of("employee_id,given_name,email,surname\nE1,A,a@b.nl,X\n");
        let columns: Vec<Option<&str>> = problems.iter().map(|p| p.column.as_deref()).collect();
        assert_eq!(columns, [Some("surname"), Some("family_name")]);
    }

    #[test]
    fn invalid_utf8_is_reported_not_mangled() {
        let mut data = b"employee_id,given_name,family_name,email\nE1,".to_vec();
        data.extend_from_slice(b"Ren\xe9,Smit,rene@example.nl\n");
        let error = parse(&data).expect_err("latin-1 is refused");
        assert_eq!(error.rows[0].column.as_deref(), Some("given_name"));
        assert_eq!(error.rows[0].line, 2);
    }
}
