//! SCIM filters (RFC 7644 §3.4.2.2), the part provisioning clients use: comparisons on User
//! attributes joined by `and`, e.g. `userName eq "anne@example.nl"` or
//! `emails[type eq "work"].value eq "anne@example.nl" and active eq true`.

use super::error::{ScimError, ScimResult};
use super::user::ENTERPRISE_SCHEMA;

/// An attribute a filter may compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribute {
    Id,
    UserName,
    ExternalId,
    DisplayName,
    GivenName,
    FamilyName,
    Email,
    Title,
    Active,
    EmployeeNumber,
    Department,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Present,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub attribute: Attribute,
    pub operator: Operator,
    pub value: Value,
}

/// All comparisons must hold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    pub all: Vec<Comparison>,
}

fn attribute(path: &str) -> ScimResult<Attribute> {
    let lower = path.to_ascii_lowercase();
    let enterprise = ENTERPRISE_SCHEMA.to_ascii_lowercase();
    let short = lower
        .strip_prefix(&format!("{enterprise}:"))
        .map(|rest| format!("enterprise:{rest}"));
    let lower = short.unwrap_or(lower);
    let lower = lower
        .strip_prefix("urn:ietf:params:scim:schemas:core:2.0:user:")
        .map(str::to_owned)
        .unwrap_or(lower);
    Ok(match lower.as_str() {
        "id" => Attribute::Id,
        "username" => Attribute::UserName,
        "externalid" => Attribute::ExternalId,
        "displayname" => Attribute::DisplayName,
        "name.givenname" => Attribute::GivenName,
        "name.familyname" => Attribute::FamilyName,
        "emails" | "emails.value" | "emails[type eq \"work\"].value" => Attribute::Email,
        "title" => Attribute::Title,
        "active" => Attribute::Active,
        "enterprise:employeenumber" => Attribute::EmployeeNumber,
        "enterprise:department" => Attribute::Department,
        _ => {
            return Err(ScimError::invalid_filter(format!(
                "filtering on {path} is not supported"
            )));
        }
    })
}

/// Splits a filter into words, keeping quoted strings (with `\"` escapes) and `[...]` together.
fn words(text: &str) -> ScimResult<Vec<String>> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    let mut in_brackets = false;
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                current.push('"');
                loop {
                    match chars.next() {
                        Some('\\') => match chars.next() {
                            Some(escaped) => {
                                current.push('\\');
                                current.push(escaped);
                            }
                            None => return Err(ScimError::invalid_filter("unfinished escape")),
                        },
                        Some('"') => {
                            current.push('"');
                            break;
                        }
                        Some(other) => current.push(other),
                        None => return Err(ScimError::invalid_filter("unclosed quote")),
                    }
                }
            }
            '[' => {
                in_brackets = true;
                current.push(c);
            }
            ']' => {
                in_brackets = false;
                current.push(c);
            }
            c if c.is_whitespace() && !in_brackets => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if in_brackets {
        return Err(ScimError::invalid_filter("unclosed ["));
    }
    if !current.is_empty() {
        words.push(current);
    }
    Ok(words)
}

fn value(word: &str) -> ScimResult<Value> {
    if let Some(quoted) = word.strip_prefix('"') {
        let inner = quoted
            .strip_suffix('"')
            .ok_or_else(|| ScimError::invalid_filter("unclosed quote"))?;
        let text: String = serde_json::from_str(&format!("\"{inner}\""))
            .map_err(|_| ScimError::invalid_filter(format!("bad string {word}")))?;
        return Ok(Value::Text(text));
    }
    match word.to_ascii_lowercase().as_str() {
        "true" => Ok(Value::Bool(true)),
        "false" => Ok(Value::Bool(false)),
        "null" => Ok(Value::Null),
        _ => Err(ScimError::invalid_filter(format!(
            "{word} is not a value; quote strings"
        ))),
    }
}

/// Parses a filter; an empty one matches everyone.
pub fn parse(text: &str) -> ScimResult<Filter> {
    let words = words(text)?;
    let mut filter = Filter::default();
    let mut index = 0;
    while index < words.len() {
        if index > 0 {
            match words[index].to_ascii_lowercase().as_str() {
                "and" => index += 1,
                "or" => {
                    return Err(ScimError::invalid_filter(
                        "only `and` is supported between comparisons",
                    ));
                }
                other => {
                    return Err(ScimError::invalid_filter(format!(
                        "expected `and`, found {other}"
                    )));
                }
            }
        }
        let path = words
            .get(index)
            .ok_or_else(|| ScimError::invalid_filter("a comparison is missing after `and`"))?;
        if path.starts_with('(') || path.eq_ignore_ascii_case("not") {
            return Err(ScimError::invalid_filter(
                "grouping and `not` are not supported",
            ));
        }
        let attribute = attribute(path)?;
        let operator_word = words
            .get(index + 1)
            .ok_or_else(|| ScimError::invalid_filter(format!("{path} needs an operator")))?;
        let operator = match operator_word.to_ascii_lowercase().as_str() {
            "eq" => Operator::Eq,
            "ne" => Operator::Ne,
            "co" => Operator::Co,
            "sw" => Operator::Sw,
            "ew" => Operator::Ew,
            "pr" => Operator::Present,
            other => {
                return Err(ScimError::invalid_filter(format!(
                    "operator {other} is not supported"
                )));
            }
        };
        if operator == Operator::Present {
            filter.all.push(Comparison {
                attribute,
                operator,
                value: Value::Null,
            });
            index += 2;
            continue;
        }
        let value = value(
            words
                .get(index + 2)
                .ok_or_else(|| ScimError::invalid_filter(format!("{path} needs a value")))?,
        )?;
        filter.all.push(Comparison {
            attribute,
            operator,
            value,
        });
        index += 3;
    }
    Ok(filter)
}

impl Comparison {
    /// Whether a value of the attribute satisfies the comparison. Strings compare without regard
    /// to case except `id` and `externalId` (RFC 7643 `caseExact`).
    pub fn holds(&self, actual: &Value) -> bool {
        let case_exact = matches!(self.attribute, Attribute::Id | Attribute::ExternalId);
        let fold = |text: &str| {
            if case_exact {
                text.to_owned()
            } else {
                text.to_lowercase()
            }
        };
        match (self.operator, actual, &self.value) {
            (Operator::Present, Value::Null, _) => false,
            (Operator::Present, Value::Text(text), _) => !text.is_empty(),
            (Operator::Present, Value::Bool(_), _) => true,
            (Operator::Eq, Value::Bool(actual), Value::Bool(wanted)) => actual == wanted,
            (Operator::Ne, Value::Bool(actual), Value::Bool(wanted)) => actual != wanted,
            (Operator::Eq, Value::Null, Value::Null) => true,
            (Operator::Ne, Value::Null, Value::Null) => false,
            (Operator::Ne, Value::Null, _) => true,
            (Operator::Ne, Value::Text(_), Value::Null) => true,
            (operator, Value::Text(actual), Value::Text(wanted)) => {
                let (actual, wanted) = (fold(actual), fold(wanted));
                match operator {
                    Operator::Eq => actual == wanted,
                    Operator::Ne => actual != wanted,
                    Operator::Co => actual.contains(&wanted),
                    Operator::Sw => actual.starts_with(&wanted),
                    Operator::Ew => actual.ends_with(&wanted),
                    Operator::Present => true,
                }
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filters_entra_and_okta_send_are_understood() {
        let filter = parse(r#"userName eq "Anne.de.Vries@example.nl""#).expect("parses");
        assert_eq!(filter.all[0].attribute, Attribute::UserName);
        assert_eq!(
            filter.all[0].value,
            Value::Text("Anne.de.Vries@example.nl".to_owned())
        );
        let filter = parse(r#"externalId eq "a8f0-\"x\"""#).expect("parses");
        assert_eq!(filter.all[0].value, Value::Text("a8f0-\"x\"".to_owned()));
        let filter = parse(r#"emails[type eq "work"].value eq "a@b.nl" and active eq true"#)
            .expect("parses");
        assert_eq!(filter.all[0].attribute, Attribute::Email);
        assert_eq!(filter.all[1].value, Value::Bool(true));
        let filter = parse(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"E1\"",
        )
        .expect("parses");
        assert_eq!(filter.all[0].attribute, Attribute::EmployeeNumber);
    }

    #[test]
    fn what_is_not_supported_is_refused_clearly() {
        for bad in [
            r#"userName eq "a" or userName eq "b""#,
            r#"nickName eq "a""#,
            r#"userName gt "a""#,
            r#"userName eq "a"#,
            "userName eq anne",
            "userName",
            r#"(userName eq "a")"#,
        ] {
            let error = parse(bad).expect_err(bad);
            assert_eq!(error.scim_type, Some("invalidFilter"), "{bad}");
        }
    }

    #[test]
    fn user_names_compare_without_case_but_external_ids_exactly() {
        let user_name = parse(r#"userName eq "ANNE@example.nl""#).expect("parses");
        assert!(user_name.all[0].holds(&Value::Text("anne@example.nl".to_owned())));
        let external = parse(r#"externalId eq "ABC""#).expect("parses");
        assert!(!external.all[0].holds(&Value::Text("abc".to_owned())));
    }
}
