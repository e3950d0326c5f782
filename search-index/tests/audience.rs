//! Deactivated people are in the index for admins, never in colleague search; admins filter
//! by status and role, and page through results.

use plein_search::{Audience, PeopleIndex, PersonDocument, SearchRequest};

fn person(id: &str, family: &str, inactive: bool, role: &str) -> PersonDocument {
    PersonDocument {
        id: id.to_owned(),
        display_name: format!("Kim {family}"),
        given_name: "Kim".to_owned(),
        family_name: family.to_owned(),
        email: format!("{id}@plein.example"),
        department: Some("Netwerk".to_owned()),
        inactive,
        role: Some(role.to_owned()),
        ..PersonDocument::default()
    }
}

fn ids(index: &PeopleIndex, request: SearchRequest) -> anyhow::Result<(Vec<String>, u64)> {
    let results = index.search(&SearchRequest {
        limit: request.limit.max(1),
        ..request
    })?;
    Ok((results.ids, results.total as u64))
}

#[test]
fn colleague_search_leaves_deactivated_people_out_and_admins_filter_on_status_and_role()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (index, _) = PeopleIndex::open(dir.path())?;
    index.upsert(&[
        person("a", "Aalders", false, "employee"),
        person("b", "Bakker", true, "employee"),
        person("c", "Claassen", false, "admin"),
        person("d", "Dekker", true, "hr"),
    ])?;
    index.commit(1)?;
    let kim = |audience, role: Option<&str>| SearchRequest {
        query: "kim".to_owned(),
        audience,
        role: role.map(str::to_owned),
        limit: 10,
        ..SearchRequest::default()
    };
    assert_eq!(
        ids(&index, kim(Audience::Active, None))?,
        (vec!["a".into(), "c".into()], 2)
    );
    assert_eq!(
        ids(&index, kim(Audience::Inactive, None))?,
        (vec!["b".into(), "d".into()], 2)
    );
    assert_eq!(ids(&index, kim(Audience::Everyone, None))?.1, 4);
    assert_eq!(
        ids(&index, kim(Audience::Everyone, Some("hr")))?,
        (vec!["d".into()], 1)
    );
    assert_eq!(ids(&index, kim(Audience::Active, Some("hr")))?.1, 0);
    // Browsing (no words) with filters, in name order, a page at a time.
    let browse = |offset| SearchRequest {
        department: Some("Netwerk".to_owned()),
        audience: Audience::Everyone,
        limit: 3,
        offset,
        ..SearchRequest::default()
    };
    assert_eq!(
        ids(&index, browse(0))?,
        (vec!["a".into(), "b".into(), "c".into()], 4)
    );
    assert_eq!(ids(&index, browse(3))?, (vec!["d".into()], 4));
    Ok(())
}
