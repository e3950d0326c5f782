//! The index on disk: it remembers the last applied event and starts over on a schema change.

use plein_search::{OpenState, PeopleIndex, PersonDocument, SearchRequest};

fn person(id: &str, family: &str) -> PersonDocument {
    PersonDocument {
        id: id.to_owned(),
        display_name: format!("Kim {family}"),
        given_name: "Kim".to_owned(),
        family_name: family.to_owned(),
        email: format!("{id}@plein.example"),
        ..PersonDocument::default()
    }
}

fn find(index: &PeopleIndex, query: &str) -> Result<Vec<String>, plein_search::SearchError> {
    Ok(index
        .search(&SearchRequest {
            query: query.to_owned(),
            limit: 10,
            ..SearchRequest::default()
        })?
        .ids)
}

#[test]
fn a_new_index_needs_a_rebuild_and_a_committed_one_resumes_after_its_last_event()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (index, state) = PeopleIndex::open(dir.path())?;
    assert_eq!(state, OpenState::NeedsRebuild);
    index.upsert(&[person("a", "Hoogendoorn")])?;
    index.commit(42)?;
    drop(index);

    let (reopened, state) = PeopleIndex::open(dir.path())?;
    assert_eq!(state, OpenState::UpToSeq(42));
    assert_eq!(find(&reopened, "hoogendoorn")?, ["a"]);
    Ok(())
}

#[test]
fn an_index_of_another_schema_version_is_wiped_and_rebuilt() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (index, _) = PeopleIndex::open(dir.path())?;
    index.upsert(&[person("a", "Hoogendoorn")])?;
    index.commit(7)?;
    drop(index);

    // Rewrite the commit as an older version of Plein would have left it.
    let raw = tantivy::Index::open_in_dir(dir.path())?;
    let mut writer: tantivy::IndexWriter = raw.writer(15_000_000)?;
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(r#"{"schema_version":0,"last_seq":7}"#);
    prepared.commit()?;
    drop(writer);
    drop(raw);

    let (reopened, state) = PeopleIndex::open(dir.path())?;
    assert_eq!(state, OpenState::NeedsRebuild);
    assert!(reopened.is_empty());
    Ok(())
}

#[test]
fn merging_leaves_one_segment_and_every_person_findable() -> anyhow::Result<()> {
    let index = PeopleIndex::in_memory()?;
    for batch in 0..3 {
        index.upsert(&[person(&format!("p{batch}"), &format!("Achternaam{batch}"))])?;
        index.commit(batch)?;
    }
    assert!(index.index().searchable_segment_ids()?.len() > 1);
    index.merge_segments()?;
    assert_eq!(index.index().searchable_segment_ids()?.len(), 1);
    // The others are one edit away, so they follow as typo matches.
    assert_eq!(
        find(&index, "achternaam1")?.first().map(String::as_str),
        Some("p1")
    );
    assert_eq!(index.len(), 3);
    Ok(())
}
