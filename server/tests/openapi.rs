//! The web client's types are generated from a copy of the OpenAPI document; it must be the
//! document the server serves.

#[test]
fn the_web_clients_copy_of_the_openapi_document_is_current() -> anyhow::Result<()> {
    let (_, document) = plein_server::app::api_router();
    let live = document.to_pretty_json()?;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../web/src/api/openapi.json");
    let copy = std::fs::read_to_string(path)?;
    assert!(
        copy.trim_end() == live.trim_end(),
        "web/src/api/openapi.json is out of date: run \
         `cargo run -- openapi > web/src/api/openapi.json` and `npm run api:types` in web/"
    );
    Ok(())
}

/// Generated clients name each operation by its id: two routes with one id would collide.
#[test]
fn every_operation_has_an_id_of_its_own() -> anyhow::Result<()> {
    let (_, document) = plein_server::app::api_router();
    let json: serde_json::Value = serde_json::from_str(&document.to_json()?)?;
    let mut seen = std::collections::BTreeMap::new();
    for (path, item) in json["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            if let Some(id) = operation["operationId"].as_str()
                && let Some(earlier) = seen.insert(id.to_owned(), format!("{method} {path}"))
            {
                anyhow::bail!("operation id {id} is used by {earlier} and {method} {path}");
            }
        }
    }
    assert!(seen.len() > 50, "{} operations", seen.len());
    Ok(())
}
