//! A parsed SCIM filter as SQL over `people`, so a list asks the database for exactly the
//! matching page instead of loading every provisioned person.
//!
//! Every condition built here is true or false, never SQL `NULL`: comparisons on an optional
//! column first ask whether it is there, so `not ( … )` means what a client expects.
//! Strings compare without regard to case (RFC 7643 `caseExact: false`) except `id` and
//! `externalId`. `meta.created` and `meta.lastModified` compare at the millisecond precision
//! they are shown with. Plein keeps one address, one phone number and one location per person;
//! as multi-valued attributes they are one entry of type `work` (address and location also
//! `primary`). Core attributes Plein does not keep (`nickName`, `ims`, …) are never present.

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::DbBackend;
use sea_orm::sea_query::{Expr, ExprTrait as _, Func, LikeExpr};
use uuid::Uuid;

use super::error::{ScimError, ScimResult};
use super::filter::{AttrPath, Filter, Operator, Value};
use super::user::{ENTERPRISE_SCHEMA, NOT_KEPT, NOT_KEPT_MULTI_VALUED, USER_SCHEMA};
use crate::directory::repo::user_name_key;
use crate::directory::writer::normalize_user_name;
use crate::entities::people::Column;

/// How a text attribute's stored value compares with a filter's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fold {
    /// As stored (`externalId`).
    Exact,
    /// Lower-cased by the database on both sides.
    Lower,
    /// The column is stored folded ([`normalize_user_name`]); the value is folded the same way.
    Folded,
}

#[derive(Debug, Clone)]
enum Target {
    Text(Expr, Fold),
    Bool(Column),
    Time(Column),
    Id(Column),
    /// A sub-attribute with one value (`emails.type` is `work`) on an entry present when
    /// `present` holds.
    Constant {
        value: Value,
        present: Expr,
    },
    /// A complex attribute without a value of its own: only `pr` applies.
    Complex {
        present: Expr,
    },
    /// Part of the SCIM schema that Plein does not keep.
    Absent,
}

fn always() -> Expr {
    Expr::cust("1 = 1")
}

fn never() -> Expr {
    Expr::cust("1 = 0")
}

fn column(column: Column) -> Expr {
    Expr::col(column)
}

fn has(column_: Column) -> Expr {
    column(column_).is_not_null()
}

/// Sub-attributes of what Plein keeps that it does not keep themselves.
const ABSENT_SUB_ATTRIBUTES: &[&str] = &[
    "emails.display",
    "phonenumbers.display",
    "phonenumbers.primary",
    "addresses.streetaddress",
    "addresses.region",
    "addresses.postalcode",
    "addresses.country",
    "enterprise:manager.displayname",
    "enterprise:manager.$ref",
];

/// The key an attribute is known by: `name.sub`, with `enterprise:` for the extension.
fn key(path: &AttrPath, parent: Option<&AttrPath>) -> ScimResult<String> {
    if let Some(parent) = parent {
        if path.schema.is_some() || path.sub.is_some() {
            return Err(ScimError::invalid_filter(format!(
                "inside {}[…] name its sub-attributes alone (type, value, primary), not {path}",
                parent.name
            )));
        }
        let parent_key = key(parent, None)?;
        return Ok(format!("{parent_key}.{}", path.name));
    }
    let prefix = match path.schema.as_deref() {
        None => "",
        Some(schema) if schema == USER_SCHEMA.to_ascii_lowercase() => "",
        Some(schema) if schema == ENTERPRISE_SCHEMA.to_ascii_lowercase() => "enterprise:",
        Some(schema) => {
            return Err(ScimError::invalid_filter(format!(
                "Plein's users have no schema {schema}"
            )));
        }
    };
    Ok(match &path.sub {
        Some(sub) => format!("{prefix}{}.{sub}", path.name),
        None => format!("{prefix}{}", path.name),
    })
}

fn target(key: &str, shown: &dyn std::fmt::Display) -> ScimResult<Target> {
    let work = || Value::Text("work".to_owned());
    Ok(match key {
        "id" => Target::Id(Column::Id),
        "externalid" => Target::Text(column(Column::ExternalId), Fold::Exact),
        "username" => Target::Text(user_name_key(), Fold::Folded),
        "displayname" | "name.formatted" => Target::Text(column(Column::DisplayName), Fold::Lower),
        "name.givenname" => Target::Text(column(Column::GivenName), Fold::Lower),
        "name.familyname" => Target::Text(column(Column::FamilyName), Fold::Lower),
        "name" | "meta" => Target::Complex { present: always() },
        "title" => Target::Text(column(Column::Title), Fold::Lower),
        "active" => Target::Bool(Column::Active),
        "emails" | "emails.value" => Target::Text(column(Column::EmailNormalized), Fold::Folded),
        "emails.type" => Target::Constant {
            value: work(),
            present: has(Column::EmailNormalized),
        },
        "emails.primary" => Target::Constant {
            value: Value::Bool(true),
            present: has(Column::EmailNormalized),
        },
        "phonenumbers" | "phonenumbers.value" => Target::Text(column(Column::Phone), Fold::Lower),
        "phonenumbers.type" => Target::Constant {
            value: work(),
            present: has(Column::Phone),
        },
        "addresses" => Target::Complex {
            present: has(Column::Location),
        },
        "addresses.locality" | "addresses.formatted" => {
            Target::Text(column(Column::Location), Fold::Lower)
        }
        "addresses.type" => Target::Constant {
            value: work(),
            present: has(Column::Location),
        },
        "addresses.primary" => Target::Constant {
            value: Value::Bool(true),
            present: has(Column::Location),
        },
        "meta.created" => Target::Time(Column::CreatedAt),
        "meta.lastmodified" => Target::Time(Column::UpdatedAt),
        "meta.resourcetype" => Target::Constant {
            value: Value::Text("User".to_owned()),
            present: always(),
        },
        "enterprise:employeenumber" => Target::Text(column(Column::EmployeeId), Fold::Lower),
        "enterprise:department" => Target::Text(column(Column::Department), Fold::Lower),
        "enterprise:manager" | "enterprise:manager.value" => Target::Id(Column::ManagerId),
        "password" | "meta.location" | "meta.version" => {
            return Err(ScimError::invalid_filter(format!(
                "{shown} cannot be filtered on"
            )));
        }
        key if NOT_KEPT.contains(&key)
            || ABSENT_SUB_ATTRIBUTES.contains(&key)
            || NOT_KEPT_MULTI_VALUED
                .iter()
                .any(|name| key == *name || key.starts_with(&format!("{name}."))) =>
        {
            Target::Absent
        }
        _ => {
            return Err(ScimError::invalid_filter(format!(
                "{shown} is not an attribute of Plein's users"
            )));
        }
    })
}

/// The condition a filter puts on `people`, for the database behind `backend`.
pub fn condition(filter: &Filter, backend: DbBackend) -> ScimResult<Expr> {
    Builder { backend }.build(filter, None)
}

struct Builder {
    backend: DbBackend,
}

impl Builder {
    fn build(&self, filter: &Filter, parent: Option<&AttrPath>) -> ScimResult<Expr> {
        Ok(match filter {
            Filter::And(left, right) => self.build(left, parent)?.and(self.build(right, parent)?),
            Filter::Or(left, right) => self.build(left, parent)?.or(self.build(right, parent)?),
            Filter::Not(inner) => self.build(inner, parent)?.not(),
            Filter::Present(path) => {
                let key = key(path, parent)?;
                present(target(&key, path)?)
            }
            Filter::Compare {
                path,
                operator,
                value,
            } => {
                let key = key(path, parent)?;
                self.compare(target(&key, path)?, path, *operator, value)?
            }
            Filter::ValuePath { path, filter } => {
                let key = key(path, None)?;
                let entries = match key.as_str() {
                    "emails" => has(Column::EmailNormalized),
                    "phonenumbers" => has(Column::Phone),
                    "addresses" => has(Column::Location),
                    name if NOT_KEPT_MULTI_VALUED.contains(&name) => {
                        // Still check the inner filter names real sub-attributes.
                        self.build(filter, Some(path))?;
                        never()
                    }
                    _ => {
                        return Err(ScimError::invalid_filter(format!(
                            "{path} is not a multi-valued attribute; [ … ] filters emails, \
                             phoneNumbers or addresses"
                        )));
                    }
                };
                entries.and(self.build(filter, Some(path))?)
            }
        })
    }

    fn compare(
        &self,
        target: Target,
        path: &AttrPath,
        operator: Operator,
        value: &Value,
    ) -> ScimResult<Expr> {
        let refuse = |why: &str| {
            Err(ScimError::invalid_filter(format!(
                "{path} {} {}: {why}",
                operator.name(),
                shown(value)
            )))
        };
        match target {
            Target::Absent => Ok(if operator == Operator::Ne {
                always()
            } else {
                never()
            }),
            Target::Complex { .. } => refuse("compare one of its sub-attributes"),
            Target::Constant {
                value: constant,
                present,
            } => match constant_holds(&constant, operator, value) {
                Some(true) => Ok(present),
                Some(false) => Ok(never()),
                None => refuse("the value has the wrong type"),
            },
            Target::Bool(column_) => match (operator, value) {
                (Operator::Eq, Value::Bool(flag)) => Ok(column(column_).eq(*flag)),
                (Operator::Ne, Value::Bool(flag)) => Ok(column(column_).ne(*flag)),
                (Operator::Eq | Operator::Ne, _) => refuse("compare it with true or false"),
                _ => refuse("true and false only compare with eq and ne"),
            },
            Target::Id(column_) => match (operator, value) {
                (Operator::Eq, Value::Null) => Ok(column(column_).is_null()),
                (Operator::Ne, Value::Null) => Ok(column(column_).is_not_null()),
                (Operator::Eq, Value::Text(text)) => Ok(match text.trim().parse::<Uuid>() {
                    Ok(id) => has(column_).and(column(column_).eq(id)),
                    Err(_) => never(),
                }),
                (Operator::Ne, Value::Text(text)) => Ok(match text.trim().parse::<Uuid>() {
                    Ok(id) => column(column_).is_null().or(column(column_).ne(id)),
                    Err(_) => always(),
                }),
                (Operator::Eq | Operator::Ne, _) => refuse("compare an id with a string"),
                _ => refuse("ids only compare with eq and ne"),
            },
            Target::Time(_) if matches!(operator, Operator::Co | Operator::Sw | Operator::Ew) => {
                refuse("times compare with eq, ne, gt, ge, lt and le")
            }
            Target::Time(column_) => {
                let Value::Text(text) = value else {
                    return match (operator, value) {
                        (Operator::Eq, Value::Null) => Ok(never()),
                        (Operator::Ne, Value::Null) => Ok(always()),
                        _ => {
                            refuse("compare a time with a string such as \"2026-11-30T12:00:00Z\"")
                        }
                    };
                };
                let Ok(at) = DateTime::parse_from_rfc3339(text.trim()) else {
                    return refuse("not a date and time as RFC 3339 writes them");
                };
                let at = at.with_timezone(&Utc);
                // A time given to the millisecond (as Plein shows them) covers that millisecond.
                let step = if at.timestamp_subsec_nanos() % 1_000_000 == 0 {
                    TimeDelta::milliseconds(1)
                } else {
                    TimeDelta::nanoseconds(1)
                };
                let end = at + step;
                let col = || column(column_);
                Ok(match operator {
                    Operator::Eq => col().gte(at).and(col().lt(end)),
                    Operator::Ne => col().lt(at).or(col().gte(end)),
                    Operator::Gt => col().gte(end),
                    Operator::Ge => col().gte(at),
                    Operator::Lt => col().lt(at),
                    Operator::Le | Operator::Co | Operator::Sw | Operator::Ew => col().lt(end),
                })
            }
            Target::Text(expr, fold) => self.compare_text(expr, fold, path, operator, value),
        }
    }

    fn compare_text(
        &self,
        expr: Expr,
        fold: Fold,
        path: &AttrPath,
        operator: Operator,
        value: &Value,
    ) -> ScimResult<Expr> {
        let text = match value {
            Value::Text(text) => text,
            Value::Null => {
                return match operator {
                    Operator::Eq => Ok(expr.is_null()),
                    Operator::Ne => Ok(expr.is_not_null()),
                    _ => Err(ScimError::invalid_filter(format!(
                        "{path} {} null: null only compares with eq and ne",
                        operator.name()
                    ))),
                };
            }
            other => {
                return Err(ScimError::invalid_filter(format!(
                    "{path} {} {}: compare it with a string in quotes",
                    operator.name(),
                    shown(other)
                )));
            }
        };
        let there = expr.clone().is_not_null();
        let (stored, wanted): (Expr, Expr) = match fold {
            Fold::Exact => (expr.clone(), Expr::val(text.clone())),
            Fold::Lower => (
                Func::lower(expr.clone()).into(),
                Func::lower(Expr::val(text.clone())).into(),
            ),
            Fold::Folded => (expr.clone(), Expr::val(normalize_user_name(text))),
        };
        Ok(match operator {
            Operator::Eq => there.and(stored.eq(wanted)),
            Operator::Ne => expr.is_null().or(stored.ne(wanted)),
            Operator::Gt => there.and(stored.gt(wanted)),
            Operator::Ge => there.and(stored.gte(wanted)),
            Operator::Lt => there.and(stored.lt(wanted)),
            Operator::Le => there.and(stored.lte(wanted)),
            Operator::Co | Operator::Sw | Operator::Ew if fold == Fold::Exact => {
                there.and(self.exact_substring(expr, operator, text))
            }
            Operator::Co | Operator::Sw | Operator::Ew => {
                let folded = match (fold, self.backend) {
                    (Fold::Folded, _) => normalize_user_name(text),
                    // SQLite's lower() folds ASCII letters only; fold the pattern alike.
                    (_, DbBackend::Sqlite) => text.to_ascii_lowercase(),
                    _ => text.to_lowercase(),
                };
                let escaped = escape_like(&folded);
                let pattern = match operator {
                    Operator::Co => format!("%{escaped}%"),
                    Operator::Sw => format!("{escaped}%"),
                    _ => format!("%{escaped}"),
                };
                there.and(stored.like(LikeExpr::new(pattern).escape('\\')))
            }
        })
    }

    /// `co`, `sw` and `ew` with case kept (SQLite's LIKE ignores ASCII case).
    fn exact_substring(&self, expr: Expr, operator: Operator, text: &str) -> Expr {
        // PostgreSQL's left() and right() take an int4.
        let length = i32::try_from(text.chars().count()).unwrap_or(i32::MAX);
        let wanted = Expr::val(text.to_owned());
        let postgres = self.backend == DbBackend::Postgres;
        match operator {
            Operator::Co if postgres => {
                Expr::from(Func::cust("strpos").arg(expr).arg(wanted)).gt(0)
            }
            Operator::Co => Expr::from(Func::cust("instr").arg(expr).arg(wanted)).gt(0),
            Operator::Sw if postgres => {
                Expr::from(Func::cust("left").arg(expr).arg(length)).eq(wanted)
            }
            Operator::Ew if postgres => {
                Expr::from(Func::cust("right").arg(expr).arg(length)).eq(wanted)
            }
            Operator::Sw => {
                Expr::from(Func::cust("substr").arg(expr).arg(1).arg(length)).eq(wanted)
            }
            _ => Expr::from(Func::cust("substr").arg(expr).arg(-length)).eq(wanted),
        }
    }
}

fn present(target: Target) -> Expr {
    match target {
        Target::Text(expr, _) => expr.clone().is_not_null().and(expr.ne("")),
        Target::Bool(_) | Target::Time(_) => always(),
        Target::Id(column_) => has(column_),
        Target::Constant { present, .. } | Target::Complex { present } => present,
        Target::Absent => never(),
    }
}

/// Whether a sub-attribute's one value satisfies a comparison; `None` when the types differ.
fn constant_holds(constant: &Value, operator: Operator, value: &Value) -> Option<bool> {
    match (constant, value) {
        (Value::Bool(constant), Value::Bool(wanted)) => match operator {
            Operator::Eq => Some(constant == wanted),
            Operator::Ne => Some(constant != wanted),
            _ => None,
        },
        (Value::Text(constant), Value::Text(wanted)) => {
            let (constant, wanted) = (constant.to_lowercase(), wanted.to_lowercase());
            Some(match operator {
                Operator::Eq => constant == wanted,
                Operator::Ne => constant != wanted,
                Operator::Co => constant.contains(&wanted),
                Operator::Sw => constant.starts_with(&wanted),
                Operator::Ew => constant.ends_with(&wanted),
                Operator::Gt => constant > wanted,
                Operator::Ge => constant >= wanted,
                Operator::Lt => constant < wanted,
                Operator::Le => constant <= wanted,
            })
        }
        (_, Value::Null) => match operator {
            Operator::Eq => Some(false),
            Operator::Ne => Some(true),
            _ => None,
        },
        _ => None,
    }
}

fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

fn shown(value: &Value) -> String {
    match value {
        Value::Text(text) => format!("{text:?}"),
        Value::Number(number) => number.to_string(),
        Value::Bool(flag) => flag.to_string(),
        Value::Null => "null".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter::parse;

    fn refused(text: &str) -> String {
        let filter = parse(text).expect("parses").expect("not empty");
        let error = condition(&filter, DbBackend::Sqlite).expect_err(text);
        assert_eq!(error.scim_type, Some("invalidFilter"), "{text}");
        error.detail
    }

    #[test]
    fn unknown_attributes_and_wrong_types_are_refused_with_a_reason() {
        assert!(refused(r#"shoeSize eq "44""#).contains("not an attribute"));
        assert!(refused(r#"urn:example:Thing:userName eq "a""#).contains("no schema"));
        assert!(refused(r#"active gt true"#).contains("eq and ne"));
        assert!(refused(r#"active eq "yes""#).contains("true or false"));
        assert!(refused(r#"userName eq 42"#).contains("string in quotes"));
        assert!(refused(r#"meta.lastModified gt "yesterday""#).contains("RFC 3339"));
        assert!(refused(r#"meta.created co "2026""#).contains("times compare"));
        assert!(refused(r#"id gt "0190""#).contains("eq and ne"));
        assert!(refused(r#"name eq "Anne""#).contains("sub-attributes"));
        assert!(refused(r#"title[value eq "x"]"#).contains("not a multi-valued"));
        assert!(refused(r#"emails[name.givenName eq "x"]"#).contains("sub-attributes alone"));
        assert!(refused(r#"password eq "secret""#).contains("cannot be filtered"));
    }

    #[test]
    fn like_patterns_escape_their_wildcards() {
        assert_eq!(escape_like(r"50%_off\now"), r"50\%\_off\\now");
    }
}
