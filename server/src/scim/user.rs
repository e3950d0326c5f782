//! The SCIM User resource (RFC 7643 §4.1 plus the enterprise extension, §4.3) as Plein maps it:
//! `userName` is any unique name (compared without case); the person's one address comes from
//! `emails` (the primary entry, else the `work` one) or, failing that, from a `userName` that
//! is an address, and may be absent. `addresses[work].locality` is the location;
//! `employeeNumber`, `department` and `manager` come from the extension. Attribute names are
//! matched without regard to case, as the RFC asks.

use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::error::{ScimError, ScimResult};
use crate::directory::service::normalize_email;
use crate::entities::people;

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// Core and enterprise attributes that Plein does not keep: accepted in writes, never present
/// in filters.
pub const NOT_KEPT: &[&str] = &[
    "nickname",
    "profileurl",
    "usertype",
    "preferredlanguage",
    "locale",
    "timezone",
    "name.middlename",
    "name.honorificprefix",
    "name.honorificsuffix",
    "enterprise:costcenter",
    "enterprise:organization",
    "enterprise:division",
];

/// Multi-valued core attributes Plein does not keep.
pub const NOT_KEPT_MULTI_VALUED: &[&str] = &[
    "ims",
    "photos",
    "entitlements",
    "roles",
    "x509certificates",
    "groups",
];

/// What else a write may carry and Plein does not keep (passwords: people sign in through Plein
/// or single sign-on, never with a provisioned password).
const IGNORED: &[&str] = &["schemas", "id", "meta", "password"];

/// What a SCIM client controls about a person.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserState {
    pub user_name: String,
    /// The address `emails` gave (primary, else work); without one the address is the
    /// `userName` when that is an address.
    pub email: Option<String>,
    pub formatted: Option<String>,
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub title: Option<String>,
    pub active: bool,
    pub phone: Option<String>,
    pub location: Option<String>,
    pub employee_number: Option<String>,
    pub department: Option<String>,
    pub manager: Option<Uuid>,
}

impl UserState {
    /// A new resource before its attributes are applied: active unless it says otherwise.
    pub fn blank() -> Self {
        UserState {
            active: true,
            ..UserState::default()
        }
    }

    pub fn of(person: &people::Model) -> Self {
        let user_name = shown_user_name(person);
        // An address that is just the user name follows it when the user name changes.
        let email = person
            .email
            .clone()
            .filter(|email| normalize_email(email) != normalize_email(&user_name));
        UserState {
            user_name,
            email,
            formatted: None,
            external_id: person.external_id.clone(),
            display_name: Some(person.display_name.clone()),
            given_name: Some(person.given_name.clone()),
            family_name: Some(person.family_name.clone()),
            title: person.title.clone(),
            active: person.active,
            phone: person.phone.clone(),
            location: person.location.clone(),
            employee_number: person.employee_id.clone(),
            department: person.department.clone(),
            manager: person.manager_id,
        }
    }

    /// Applies a whole resource (POST, PUT, or a PATCH without a path).
    pub fn apply_object(&mut self, prefix: &str, object: &Map<String, Value>) -> ScimResult<()> {
        for (key, value) in object {
            let path = if prefix.is_empty() {
                key.to_owned()
            } else {
                format!("{prefix}.{key}")
            };
            self.set(&path, Some(value))?;
        }
        Ok(())
    }

    /// Sets (or with `None`, removes) one attribute given by its SCIM path.
    pub fn set(&mut self, path: &str, value: Option<&Value>) -> ScimResult<()> {
        let key = normalise_path(path);
        if IGNORED.contains(&key.as_str())
            || NOT_KEPT.contains(&key.as_str())
            || NOT_KEPT_MULTI_VALUED.contains(&key.as_str())
        {
            return Ok(());
        }
        let value = value.filter(|value| !value.is_null());
        match key.as_str() {
            "username" => match text(path, value)? {
                Some(user_name) => self.user_name = user_name,
                None if value.is_some() => {
                    return Err(ScimError::invalid_value("userName must not be blank"));
                }
                None => {
                    return Err(ScimError::new(
                        axum::http::StatusCode::BAD_REQUEST,
                        Some("mutability"),
                        "userName is required and cannot be removed",
                    ));
                }
            },
            "externalid" => self.external_id = text(path, value)?,
            "displayname" => self.display_name = text(path, value)?,
            "title" => self.title = text(path, value)?,
            "active" => self.active = boolean(path, value)?.unwrap_or(false),
            "name" => match value {
                Some(Value::Object(name)) => self.apply_object("name", name)?,
                None => {
                    self.given_name = None;
                    self.family_name = None;
                    self.formatted = None;
                }
                Some(_) => return Err(wrong_type(path, "an object")),
            },
            "name.givenname" => self.given_name = text(path, value)?,
            "name.formatted" => self.formatted = text(path, value)?,
            "name.familyname" => self.family_name = text(path, value)?,
            "emails" => {
                self.email = pick_address(path, value)?.and_then(|entry| text_of(&entry, "value"));
            }
            "emails.value" | "emails[work].value" => self.email = text(path, value)?,
            "emails[work]" => {
                self.email = match value {
                    None => None,
                    Some(entry) => text_of(entry, "value"),
                };
            }
            "phonenumbers" => {
                self.phone = pick(path, value, "work")?.and_then(|entry| text_of(&entry, "value"));
            }
            "phonenumbers.value" | "phonenumbers[work].value" => self.phone = text(path, value)?,
            "addresses" => {
                self.location = pick(path, value, "work")?.and_then(|entry| {
                    text_of(&entry, "locality").or_else(|| text_of(&entry, "formatted"))
                });
            }
            "addresses.locality"
            | "addresses[work].locality"
            | "addresses.formatted"
            | "addresses[work].formatted" => self.location = text(path, value)?,
            "enterprise" => match value {
                Some(Value::Object(extension)) => {
                    for (name, inner) in extension {
                        self.set(&format!("{ENTERPRISE_SCHEMA}:{name}"), Some(inner))?;
                    }
                }
                None => {
                    self.employee_number = None;
                    self.department = None;
                    self.manager = None;
                }
                Some(_) => return Err(wrong_type(path, "an object")),
            },
            "enterprise:employeenumber" => self.employee_number = text(path, value)?,
            "enterprise:department" => self.department = text(path, value)?,
            "enterprise:manager" => self.manager = manager_id(path, value)?,
            "enterprise:manager.value" => self.manager = manager_id(path, value)?,
            _ if key.starts_with("phonenumbers[")
                || key.starts_with("addresses[")
                || key.starts_with("emails[") =>
            {
                // Other kinds (mobile, fax, home) are not part of a work directory.
            }
            _ => {
                return Err(ScimError::invalid_path(format!(
                    "attribute {path} is not part of Plein's User resource"
                )));
            }
        }
        Ok(())
    }
}

/// Lower-cases a path, shortens the enterprise URN to `enterprise`, drops the core URN, and
/// reduces `[type eq "work"]` to `[work]`.
fn normalise_path(path: &str) -> String {
    let mut lower = path.trim().to_ascii_lowercase();
    let enterprise = ENTERPRISE_SCHEMA.to_ascii_lowercase();
    if lower == enterprise {
        return "enterprise".to_owned();
    }
    if let Some(rest) = lower.strip_prefix(&format!("{enterprise}:")) {
        lower = format!("enterprise:{rest}");
    }
    let core = format!("{}:", USER_SCHEMA.to_ascii_lowercase());
    if let Some(rest) = lower.strip_prefix(&core) {
        lower = rest.to_owned();
    }
    if let (Some(open), Some(close)) = (lower.find('['), lower.find(']'))
        && open < close
    {
        let inside: String = lower[open + 1..close]
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '"')
            .collect();
        // The one address, phone number and location Plein keeps is both `work` and primary.
        let kind = match inside.as_str() {
            "primaryeqtrue" | "typeeqworkandprimaryeqtrue" | "primaryeqtrueandtypeeqwork" => {
                "work".to_owned()
            }
            _ => inside.strip_prefix("typeeq").unwrap_or(&inside).to_owned(),
        };
        lower = format!("{}[{kind}]{}", &lower[..open], &lower[close + 1..]);
    }
    lower
}

fn wrong_type(path: &str, expected: &str) -> ScimError {
    ScimError::invalid_value(format!("{path} must be {expected}"))
}

fn text(path: &str, value: Option<&Value>) -> ScimResult<Option<String>> {
    match value {
        None => Ok(None),
        Some(Value::String(text)) => {
            let trimmed = text.trim();
            Ok((!trimmed.is_empty()).then(|| trimmed.to_owned()))
        }
        // Some clients wrap a single value as [{"value": ...}].
        Some(Value::Array(items)) if items.len() == 1 => text(path, items.first()),
        Some(Value::Object(object)) if object.contains_key("value") => {
            text(path, object.get("value"))
        }
        Some(_) => Err(wrong_type(path, "a string")),
    }
}

/// Entra ID sends booleans as the strings "True" and "False".
fn boolean(path: &str, value: Option<&Value>) -> ScimResult<Option<bool>> {
    match value {
        None => Ok(None),
        Some(Value::Bool(flag)) => Ok(Some(*flag)),
        Some(Value::String(text)) if text.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(text)) if text.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(_) => Err(wrong_type(path, "true or false")),
    }
}

fn manager_id(path: &str, value: Option<&Value>) -> ScimResult<Option<Uuid>> {
    match text(path, value)? {
        None => Ok(None),
        Some(id) => id
            .parse()
            .map(Some)
            .map_err(|_| ScimError::invalid_value(format!("{path}: no user has id {id}"))),
    }
}

fn text_of(entry: &Value, key: &str) -> Option<String> {
    entry
        .as_object()?
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(key))
        .and_then(|(_, value)| value.as_str())
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

/// From a multi-valued attribute, the entry of `kind`, else the primary one, else the first.
fn pick(path: &str, value: Option<&Value>, kind: &str) -> ScimResult<Option<Value>> {
    let entries = match value {
        None => return Ok(None),
        Some(Value::Array(entries)) => entries.clone(),
        Some(entry @ Value::Object(_)) => vec![entry.clone()],
        Some(_) => return Err(wrong_type(path, "a list of objects")),
    };
    let of_kind = entries
        .iter()
        .find(|entry| text_of(entry, "type").is_some_and(|t| t.eq_ignore_ascii_case(kind)));
    let primary = entries
        .iter()
        .find(|entry| entry.get("primary").and_then(Value::as_bool) == Some(true));
    Ok(of_kind.or(primary).or(entries.first()).cloned())
}

/// From `emails`, the primary entry, else the `work` one (RFC 7643 §4.1.2).
fn pick_address(path: &str, value: Option<&Value>) -> ScimResult<Option<Value>> {
    let entries = match value {
        None => return Ok(None),
        Some(Value::Array(entries)) => entries.clone(),
        Some(entry @ Value::Object(_)) => vec![entry.clone()],
        Some(_) => return Err(wrong_type(path, "a list of objects")),
    };
    let primary = entries.iter().find(|entry| {
        let flag = entry
            .as_object()
            .and_then(|object| {
                object
                    .iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case("primary"))
            })
            .map(|(_, flag)| flag);
        matches!(flag, Some(Value::Bool(true)))
            || matches!(flag, Some(Value::String(text)) if text.eq_ignore_ascii_case("true"))
    });
    let work = entries
        .iter()
        .find(|entry| text_of(entry, "type").is_some_and(|t| t.eq_ignore_ascii_case("work")));
    Ok(primary.or(work).cloned())
}

/// The name a SCIM client knows a person by: the one it gave, else their address (a person
/// has one or the other).
pub fn shown_user_name(person: &people::Model) -> String {
    person
        .user_name
        .clone()
        .or_else(|| person.email.clone())
        .unwrap_or_else(|| person.id.to_string())
}

/// The version of a person for ETags: it changes whenever the row does.
pub fn version(person: &people::Model) -> String {
    format!("W/\"{:x}\"", person.updated_at.timestamp_micros())
}

/// A person as a SCIM User resource.
pub fn resource(person: &people::Model, base: &str) -> Value {
    let location = format!("{base}/scim/v2/Users/{}", person.id);
    let mut user = json!({
        "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
        "id": person.id,
        "userName": shown_user_name(person),
        "name": {
            "givenName": person.given_name,
            "familyName": person.family_name,
            "formatted": person.display_name,
        },
        "displayName": person.display_name,
        "active": person.active,
        "meta": {
            "resourceType": "User",
            "created": person.created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "lastModified": person.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "location": location,
            "version": version(person),
        },
    });
    if let Some(email) = &person.email {
        user["emails"] = json!([{"value": email, "type": "work", "primary": true}]);
    }
    if let Some(external_id) = &person.external_id {
        user["externalId"] = json!(external_id);
    }
    if let Some(title) = &person.title {
        user["title"] = json!(title);
    }
    if let Some(phone) = &person.phone {
        user["phoneNumbers"] = json!([{"value": phone, "type": "work"}]);
    }
    if let Some(location) = &person.location {
        user["addresses"] = json!([{"type": "work", "locality": location, "primary": true}]);
    }
    let mut enterprise = Map::new();
    if let Some(number) = &person.employee_id {
        enterprise.insert("employeeNumber".to_owned(), json!(number));
    }
    if let Some(department) = &person.department {
        enterprise.insert("department".to_owned(), json!(department));
    }
    if let Some(manager) = person.manager_id {
        enterprise.insert(
            "manager".to_owned(),
            json!({"value": manager, "$ref": format!("{base}/scim/v2/Users/{manager}")}),
        );
    }
    user[ENTERPRISE_SCHEMA] = Value::Object(enterprise);
    user
}

/// Which attributes an answer carries (RFC 7644 §3.4.2.5, §3.9): `attributes` names the only
/// ones wanted, `excludedAttributes` the ones not wanted; `id` and `schemas` always come.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Projection {
    /// Paths as lower-cased segments from the resource's root, e.g. `["name", "givenname"]`.
    only: Option<Vec<Vec<String>>>,
    without: Vec<Vec<String>>,
}

const ALWAYS_RETURNED: &[&str] = &["id", "schemas"];

impl Projection {
    /// From the two parameters as lists of attribute paths; `attributes` wins when both come.
    pub fn new<'a>(
        attributes: impl IntoIterator<Item = &'a str>,
        excluded: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let paths = |names: &mut dyn Iterator<Item = &'a str>| -> Vec<Vec<String>> {
            names
                .flat_map(|names| names.split(','))
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(segments)
                .collect()
        };
        let only = paths(&mut attributes.into_iter());
        Projection {
            without: if only.is_empty() {
                paths(&mut excluded.into_iter())
            } else {
                Vec::new()
            },
            only: (!only.is_empty()).then_some(only),
        }
    }

    /// The resource with only the wanted attributes.
    pub fn apply(&self, mut resource: Value) -> Value {
        if let Some(only) = &self.only {
            let mut paths = only.clone();
            paths.extend(ALWAYS_RETURNED.iter().map(|name| vec![(*name).to_owned()]));
            keep(&mut resource, &paths);
        } else if !self.without.is_empty() {
            let paths: Vec<Vec<String>> = self
                .without
                .iter()
                .filter(|path| !(path.len() == 1 && ALWAYS_RETURNED.contains(&path[0].as_str())))
                .cloned()
                .collect();
            drop_paths(&mut resource, &paths);
        }
        resource
    }
}

/// `name.givenName` → `["name", "givenname"]`; the core schema's URN is dropped; the enterprise
/// extension's URN is one segment.
fn segments(path: &str) -> Vec<String> {
    let lower = path.to_ascii_lowercase();
    let core = format!("{}:", USER_SCHEMA.to_ascii_lowercase());
    let enterprise = ENTERPRISE_SCHEMA.to_ascii_lowercase();
    if lower == enterprise {
        return vec![enterprise];
    }
    if let Some(rest) = lower.strip_prefix(&format!("{enterprise}:")) {
        let mut segments = vec![enterprise];
        segments.extend(rest.split('.').map(str::to_owned));
        return segments;
    }
    let rest = lower.strip_prefix(&core).unwrap_or(&lower);
    rest.split('.').map(str::to_owned).collect()
}

/// The paths that continue below `key`; `None` when one of them is `key` itself (keep it all).
fn below(paths: &[Vec<String>], key: &str) -> Option<Vec<Vec<String>>> {
    let mut tails = Vec::new();
    for path in paths {
        if path
            .first()
            .is_some_and(|first| first.eq_ignore_ascii_case(key))
        {
            if path.len() == 1 {
                return None;
            }
            tails.push(path[1..].to_vec());
        }
    }
    Some(tails)
}

fn keep(value: &mut Value, paths: &[Vec<String>]) {
    match value {
        Value::Object(object) => {
            object.retain(|key, inner| match below(paths, key) {
                None => true,
                Some(tails) if tails.is_empty() => false,
                Some(tails) => {
                    keep(inner, &tails);
                    true
                }
            });
        }
        Value::Array(items) => items.iter_mut().for_each(|item| keep(item, paths)),
        _ => {}
    }
}

fn drop_paths(value: &mut Value, paths: &[Vec<String>]) {
    match value {
        Value::Object(object) => {
            object.retain(|key, inner| match below(paths, key) {
                None => false,
                Some(tails) => {
                    if !tails.is_empty() {
                        drop_paths(inner, &tails);
                    }
                    true
                }
            });
        }
        Value::Array(items) => items.iter_mut().for_each(|item| drop_paths(item, paths)),
        _ => {}
    }
}

/// Applies a PatchOp request body (RFC 7644 §3.5.2) in order: `add`, `replace` and `remove`,
/// with or without a path, in the shapes Entra ID and Okta send.
pub fn apply_patch(state: &mut UserState, body: &Value) -> ScimResult<()> {
    let schemas_ok = body
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|schemas| schemas.iter().any(|schema| schema == PATCH_SCHEMA));
    if !schemas_ok {
        return Err(ScimError::invalid_syntax(format!(
            "a PATCH body names the schema {PATCH_SCHEMA}"
        )));
    }
    let operations = body
        .as_object()
        .and_then(|object| {
            object
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case("operations"))
        })
        .and_then(|(_, operations)| operations.as_array())
        .ok_or_else(|| ScimError::invalid_syntax("Operations must be a list"))?;
    for operation in operations {
        let field = |name: &str| {
            operation.as_object().and_then(|object| {
                object
                    .iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case(name))
                    .map(|(_, value)| value)
            })
        };
        let op = field("op")
            .and_then(Value::as_str)
            .ok_or_else(|| ScimError::invalid_syntax("each operation needs an op"))?
            .to_ascii_lowercase();
        let path = field("path")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty());
        let value = field("value");
        match (op.as_str(), path) {
            ("add" | "replace", Some(path)) => {
                let value = value.ok_or_else(|| {
                    ScimError::invalid_syntax(format!("{op} of {path} needs a value"))
                })?;
                state.set(path, Some(value))?;
            }
            ("add" | "replace", None) => match value {
                Some(Value::Object(object)) => state.apply_object("", object)?,
                _ => {
                    return Err(ScimError::invalid_syntax(format!(
                        "{op} without a path needs an object value"
                    )));
                }
            },
            ("remove", Some(path)) => state.set(path, None)?,
            ("remove", None) => {
                return Err(ScimError::new(
                    axum::http::StatusCode::BAD_REQUEST,
                    Some("noTarget"),
                    "remove needs a path",
                ));
            }
            (other, _) => {
                return Err(ScimError::invalid_syntax(format!(
                    "op {other} is not add, replace or remove"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> UserState {
        UserState {
            user_name: "anne@example.nl".to_owned(),
            given_name: Some("Anne".to_owned()),
            family_name: Some("de Vries".to_owned()),
            active: true,
            ..UserState::default()
        }
    }

    #[test]
    fn entra_id_patch_shapes_apply() {
        let mut user = state();
        let body = json!({
            "schemas": [PATCH_SCHEMA],
            "Operations": [
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "anne.devries@example.nl"},
                {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Netwerk"},
                {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "0190a1b2-0000-7000-8000-000000000001"},
                {"op": "Replace", "path": "name.familyName", "value": "van Rijnsoever"},
                {"op": "Add", "path": "addresses[type eq \"work\"].locality", "value": "Groningen"},
                {"op": "Add", "path": "preferredLanguage", "value": "nl-NL"}
            ]
        });
        apply_patch(&mut user, &body).expect("applies");
        assert!(!user.active);
        assert_eq!(user.email.as_deref(), Some("anne.devries@example.nl"));
        assert_eq!(user.user_name, "anne@example.nl", "the userName stays");
        assert_eq!(user.department.as_deref(), Some("Netwerk"));
        assert!(user.manager.is_some());
        assert_eq!(user.family_name.as_deref(), Some("van Rijnsoever"));
        assert_eq!(user.location.as_deref(), Some("Groningen"));
        let remove = json!({"schemas": [PATCH_SCHEMA], "Operations": [
            {"op": "Remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}
        ]});
        apply_patch(&mut user, &remove).expect("applies");
        assert!(user.manager.is_none());
    }

    #[test]
    fn okta_patch_shapes_apply() {
        let mut user = state();
        let body = json!({
            "schemas": [PATCH_SCHEMA],
            "Operations": [
                {"op": "replace", "value": {"active": false}},
                {"op": "replace", "value": {
                    "name": {"givenName": "Anna"},
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "E42"}
                }}
            ]
        });
        apply_patch(&mut user, &body).expect("applies");
        assert!(!user.active);
        assert_eq!(user.given_name.as_deref(), Some("Anna"));
        assert_eq!(user.employee_number.as_deref(), Some("E42"));
    }

    #[test]
    fn bad_patches_are_refused_with_the_right_scim_type() {
        let cases = [
            (json!({"Operations": []}), "invalidSyntax"),
            (
                json!({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "move", "path": "title", "value": "x"}]}),
                "invalidSyntax",
            ),
            (
                json!({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "path": "shoeSize", "value": 44}]}),
                "invalidPath",
            ),
            (
                json!({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "path": "active", "value": "maybe"}]}),
                "invalidValue",
            ),
            (
                json!({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "remove", "path": "userName"}]}),
                "mutability",
            ),
            (
                json!({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "remove"}]}),
                "noTarget",
            ),
        ];
        for (body, scim_type) in cases {
            let error = apply_patch(&mut state(), &body).expect_err("refused");
            assert_eq!(error.scim_type, Some(scim_type), "{body}");
        }
    }
}
