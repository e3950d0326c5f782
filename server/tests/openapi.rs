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
