//! What a SCIM client reads to learn what Plein supports (RFC 7644 §4): the service provider
//! configuration, the resource types and the schemas.

use serde_json::{Value, json};

use super::user::{ENTERPRISE_SCHEMA, USER_SCHEMA};

pub const MAX_RESULTS: u64 = 200;

pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": format!("{base}/api/docs"),
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "API token",
            "description": "An API token with the scope `scim`, created by an admin in Plein, sent as `Authorization: Bearer …`",
            "primary": true
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/scim/v2/ServiceProviderConfig")
        }
    })
}

pub fn user_resource_type(base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "A person in the Plein directory",
        "schema": USER_SCHEMA,
        "schemaExtensions": [{"schema": ENTERPRISE_SCHEMA, "required": false}],
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{base}/scim/v2/ResourceTypes/User")
        }
    })
}

fn attribute(name: &str, kind: &str, required: bool, description: &str) -> Value {
    json!({
        "name": name,
        "type": kind,
        "multiValued": false,
        "description": description,
        "required": required,
        "caseExact": false,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none"
    })
}

fn with(mut attribute: Value, key: &str, value: Value) -> Value {
    attribute[key] = value;
    attribute
}

fn multi(name: &str, description: &str, sub: Vec<Value>) -> Value {
    let mut value = attribute(name, "complex", false, description);
    value["multiValued"] = json!(true);
    value["subAttributes"] = json!(sub);
    value
}

pub fn user_schema(base: &str) -> Value {
    let kind = || {
        with(
            attribute("type", "string", false, "work, home or other"),
            "canonicalValues",
            json!(["work", "home", "other"]),
        )
    };
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": USER_SCHEMA,
        "name": "User",
        "description": "A person in the Plein directory",
        "attributes": [
            with(attribute("userName", "string", true, "Any name the identity provider gives, unique without regard to case; without emails, a userName that is an address is the person's address"), "uniqueness", json!("server")),
            with(
                with(attribute("externalId", "string", false, "The identity provider's id"), "caseExact", json!(true)),
                "uniqueness",
                json!("server")
            ),
            with(attribute("name", "complex", false, "The person's name"), "subAttributes", json!([
                attribute("givenName", "string", false, "Given name"),
                attribute("familyName", "string", false, "Family name with its particle, e.g. van Rijnsoever"),
                attribute("formatted", "string", false, "The full name; shown when there is no displayName"),
            ])),
            attribute("displayName", "string", false, "The name shown in Plein; without it name.formatted, the given and family names, or the userName"),
            attribute("title", "string", false, "Job title"),
            attribute("active", "boolean", false, "Inactive people cannot sign in and are not listed"),
            multi("emails", "The person's one address: the primary entry, else the work one; optional (people without one sign in through single sign-on)", vec![
                attribute("value", "string", false, "Address"),
                kind(),
                attribute("primary", "boolean", false, "Primary address"),
            ]),
            multi("phoneNumbers", "Work phone; sets the number when the person has none", vec![
                attribute("value", "string", false, "Number"),
                kind(),
            ]),
            multi("addresses", "The work address; its locality is the person's office", vec![
                attribute("locality", "string", false, "City or office"),
                attribute("formatted", "string", false, "Used when there is no locality"),
                kind(),
            ]),
        ],
        "meta": {"resourceType": "Schema", "location": format!("{base}/scim/v2/Schemas/{USER_SCHEMA}")}
    })
}

pub fn enterprise_schema(base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": ENTERPRISE_SCHEMA,
        "name": "EnterpriseUser",
        "description": "Enterprise user",
        "attributes": [
            with(attribute("employeeNumber", "string", false, "The HR employee number, unique"), "uniqueness", json!("server")),
            attribute("department", "string", false, "Department"),
            with(attribute("manager", "complex", false, "The person's manager"), "subAttributes", json!([
                attribute("value", "string", false, "The manager's id"),
                with(attribute("$ref", "reference", false, "The manager's URI"), "mutability", json!("readOnly")),
            ])),
        ],
        "meta": {"resourceType": "Schema", "location": format!("{base}/scim/v2/Schemas/{ENTERPRISE_SCHEMA}")}
    })
}
