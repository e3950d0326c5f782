//! The SCIM User resource (RFC 7643 §4.1 plus the enterprise extension, §4.3) as Plein maps it:
//! `userName` and the work email are the person's email, `addresses[work].locality` the location,
//! `employeeNumber`, `department` and `manager` from the extension. Attribute names are matched
//! without regard to case, as the RFC asks.

use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::error::{ScimError, ScimResult};
use crate::entities::people;

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// Core attributes Plein accepts and does not keep (passwords: people sign in through Plein or
/// single sign-on, never with a provisioned password).
const IGNORED: &[&str] = &[
    "schemas",
    "id",
    "meta",
    "password",
    "nickname",
    "profileurl",
    "usertype",
    "preferredlanguage",
    "locale",
    "timezone",
    "ims",
    "photos",
    "groups",
    "entitlements",
    "roles",
    "x509certificates",
    "name.formatted",
    "name.middlename",
    "name.honorificprefix",
    "name.honorificsuffix",
    "enterprise:costcenter",
    "enterprise:organization",
    "enterprise:division",
];

/// What a SCIM client controls about a person.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserState {
    pub user_name: String,
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
        UserState {
            user_name: person.email.clone(),
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
        if IGNORED.contains(&key.as_str()) {
            return Ok(());
        }
        let value = value.filter(|value| !value.is_null());
        match key.as_str() {
            "username" => match text(path, value)? {
                Some(user_name) => self.user_name = user_name,
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
                }
                Some(_) => return Err(wrong_type(path, "an object")),
            },
            "name.givenname" => self.given_name = text(path, value)?,
            "name.familyname" => self.family_name = text(path, value)?,
            "emails" => {
                // The person's one address is their userName; a client may send it here too.
                if let Some(email) =
                    pick(path, value, "work")?.and_then(|entry| text_of(&entry, "value"))
                {
                    self.user_name = email;
                }
            }
            "emails.value" | "emails[work].value" => {
                if let Some(email) = text(path, value)? {
                    self.user_name = email;
                }
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
            _ if key.starts_with("phonenumbers[") || key.starts_with("addresses[") => {
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
        let kind = inside.strip_prefix("typeeq").unwrap_or(&inside).to_owned();
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
        "userName": person.email,
        "name": {
            "givenName": person.given_name,
            "familyName": person.family_name,
            "formatted": person.display_name,
        },
        "displayName": person.display_name,
        "active": person.active,
        "emails": [{"value": person.email, "type": "work", "primary": true}],
        "meta": {
            "resourceType": "User",
            "created": person.created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "lastModified": person.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "location": location,
            "version": version(person),
        },
    });
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
        assert_eq!(user.user_name, "anne.devries@example.nl");
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
