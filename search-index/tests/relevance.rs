//! The relevance suite: what people type, and whom they must find. Runs against a fixture of
//! named colleagues hidden among two thousand others.

// Fixture helpers panic on a broken index; that is a failed test, not a code path.
#![allow(clippy::expect_used)]

use plein_search::{PeopleIndex, PersonDocument, SearchRequest};

struct Person {
    id: &'static str,
    given: &'static str,
    preferred: Option<&'static str>,
    family: &'static str,
    email: &'static str,
    title: &'static str,
    department: &'static str,
    location: &'static str,
    skills: &'static [&'static str],
}

const fn person(
    id: &'static str,
    given: &'static str,
    family: &'static str,
    title: &'static str,
    department: &'static str,
    location: &'static str,
    skills: &'static [&'static str],
) -> Person {
    Person {
        id,
        given,
        preferred: None,
        family,
        email: "",
        title,
        department,
        location,
        skills,
    }
}

const PEOPLE: &[Person] = &[
    person(
        "rijnsoever",
        "Sanne",
        "van Rijnsoever",
        "Data Engineer",
        "IT",
        "Amsterdam",
        &["Rust", "Kafka"],
    ),
    person(
        "devries",
        "Pieter",
        "de Vries",
        "Accountant",
        "Finance",
        "Rotterdam",
        &["Excel", "IFRS"],
    ),
    person(
        "vdberg",
        "Lotte",
        "van der Berg",
        "HR Advisor",
        "HR",
        "Den Haag",
        &["Recruitment"],
    ),
    person(
        "intveld",
        "Koen",
        "in 't Veld",
        "Sales Manager",
        "Sales",
        "Groningen",
        &["Negotiation"],
    ),
    person(
        "dijkstra",
        "Femke",
        "Dijkstra",
        "Product Owner",
        "Digital",
        "Utrecht",
        &["Scrum"],
    ),
    person(
        "dykstra",
        "Bram",
        "Dykstra",
        "Field Engineer",
        "Network",
        "Eindhoven",
        &["Fiber"],
    ),
    person(
        "jansen",
        "Jan",
        "Jansen",
        "Engineer",
        "Network",
        "Amsterdam",
        &["Cisco"],
    ),
    person(
        "bakker",
        "Jan",
        "Bakker",
        "Planner",
        "Network",
        "Zwolle",
        &["Planning"],
    ),
    person(
        "janssen",
        "Anna",
        "Janssen",
        "Lawyer",
        "Legal",
        "Den Haag",
        &["Contracts"],
    ),
    person(
        "muller",
        "Zoë",
        "Müller",
        "Designer",
        "Marketing",
        "Amsterdam",
        &["Figma"],
    ),
    person(
        "weiss",
        "Thomas",
        "Weiß",
        "Security Officer",
        "IT",
        "Rotterdam",
        &["Security"],
    ),
    person(
        "ozturk",
        "Ayşe",
        "Öztürk",
        "Customer Service Agent",
        "Customer Care",
        "Groningen",
        &["Dutch", "Turkish"],
    ),
    person(
        "elamrani",
        "Mohammed",
        "El Amrani",
        "Network Architect",
        "Network",
        "Utrecht",
        &["5G"],
    ),
    person(
        "ijssel",
        "Eva",
        "IJsselmuiden",
        "Tester",
        "IT",
        "Amsterdam",
        &["Selenium"],
    ),
    person(
        "vanleeuwen",
        "Daan",
        "van Leeuwen",
        "CFO",
        "Finance",
        "Amsterdam",
        &["Strategy"],
    ),
    person(
        "bos",
        "Sophie",
        "Bos",
        "Recruiter",
        "HR",
        "Amsterdam",
        &["LinkedIn"],
    ),
    person(
        "debruijn",
        "Lars",
        "de Bruijn",
        "DevOps Engineer",
        "IT",
        "Rotterdam",
        &["Kubernetes"],
    ),
    person(
        "smit",
        "Emma",
        "Smit",
        "Data Scientist",
        "Digital",
        "Den Haag",
        &["Python"],
    ),
    person(
        "visser",
        "Tim",
        "Visser",
        "Data Engineer",
        "IT",
        "Groningen",
        &["Python", "Spark"],
    ),
    person(
        "mulder",
        "Lisa",
        "Mulder",
        "Finance Controller",
        "Finance",
        "Utrecht",
        &["SAP"],
    ),
    person(
        "vermeulen",
        "Noah",
        "Vermeulen",
        "Enterprise Architect",
        "IT",
        "Eindhoven",
        &["TOGAF"],
    ),
    person(
        "vandijk",
        "Fleur",
        "van Dijk",
        "Legal Counsel",
        "Legal",
        "Den Haag",
        &["Privacy"],
    ),
    person(
        "dekker",
        "Thijs",
        "Dekker",
        "Scrum Master",
        "Digital",
        "Utrecht",
        &["Scrum"],
    ),
    person(
        "vanderlinden",
        "Olivier",
        "van der Linden",
        "CTO",
        "IT",
        "Amsterdam",
        &["Leadership"],
    ),
    Person {
        id: "koster",
        given: "Johannes",
        preferred: Some("Hans"),
        family: "Koster",
        email: "",
        title: "Facility Manager",
        department: "Facilities",
        location: "Zwolle",
        skills: &["Buildings"],
    },
    Person {
        id: "schouten",
        given: "Wouter",
        preferred: None,
        family: "Schouten",
        email: "w.schouten@plein.example",
        title: "Controller",
        department: "Finance",
        location: "Arnhem",
        skills: &[],
    },
];

const FILLER_GIVEN: &[&str] = &[
    "Aart",
    "Bertus",
    "Cornelis",
    "Dirkje",
    "Evert",
    "Floris",
    "Gerrit",
    "Hendrika",
    "Ineke",
    "Joost",
    "Klaas",
    "Leendert",
    "Marijke",
    "Nicolaas",
    "Otto",
    "Petronella",
    "Quirijn",
    "Rutger",
    "Sjoerd",
    "Teun",
];
const FILLER_FAMILY: &[&str] = &[
    "Aalders",
    "Boekhout",
    "Claassen",
    "Dorrestein",
    "Ekkelboom",
    "Franken",
    "Gortzak",
    "Hulsbosch",
    "Kolkman",
    "Lamberts",
    "Mooijman",
    "Nijhuis",
    "Oosterhout",
    "Pronk",
    "Rademaker",
    "Spijker",
    "Terpstra",
    "Uitdehaag",
    "Valkenburg",
    "Wolters",
    "ter Horst",
    "van Gool",
    "de Kok",
    "van 't Wout",
];

fn document(person: &Person) -> PersonDocument {
    let given = person.preferred.unwrap_or(person.given);
    let email = if person.email.is_empty() {
        format!("{}@plein.example", person.id)
    } else {
        person.email.to_owned()
    };
    PersonDocument {
        id: person.id.to_owned(),
        display_name: format!("{given} {}", person.family),
        given_name: person.given.to_owned(),
        preferred_name: person.preferred.map(str::to_owned),
        family_name: person.family.to_owned(),
        email,
        title: Some(person.title.to_owned()),
        department: Some(person.department.to_owned()),
        location: Some(person.location.to_owned()),
        skills: person
            .skills
            .iter()
            .map(|skill| (*skill).to_owned())
            .collect(),
        ..PersonDocument::default()
    }
}

fn fillers() -> Vec<PersonDocument> {
    let mut documents = Vec::new();
    for n in 0..2000 {
        let given = FILLER_GIVEN[n % FILLER_GIVEN.len()];
        let family = FILLER_FAMILY[(n / FILLER_GIVEN.len()) % FILLER_FAMILY.len()];
        documents.push(PersonDocument {
            id: format!("filler-{n:04}"),
            display_name: format!("{given} {family}"),
            given_name: given.to_owned(),
            family_name: family.to_owned(),
            email: format!("medewerker{n}@plein.example"),
            title: Some("Officemanager".to_owned()),
            department: Some("Facilities".to_owned()),
            location: Some(["Maastricht", "Arnhem", "Zwolle"][n % 3].to_owned()),
            skills: vec!["Planning".to_owned()],
            ..PersonDocument::default()
        });
    }
    documents
}

fn index() -> PeopleIndex {
    let index = PeopleIndex::in_memory().expect("index");
    let mut documents: Vec<PersonDocument> = PEOPLE.iter().map(document).collect();
    documents.extend(fillers());
    index.upsert(&documents).expect("upsert");
    index.commit(1).expect("commit");
    index
}

fn search(index: &PeopleIndex, query: &str) -> Vec<String> {
    search_with(
        index,
        SearchRequest {
            query: query.to_owned(),
            limit: 20,
            ..SearchRequest::default()
        },
    )
}

fn search_with(index: &PeopleIndex, request: SearchRequest) -> Vec<String> {
    index.search(&request).expect("search").ids
}

/// Query → the person who must come first.
const FIRST: &[(&str, &str)] = &[
    ("rijnsoever", "rijnsoever"),
    ("Rijnsoever", "rijnsoever"),
    ("van rijnsoever", "rijnsoever"),
    ("vanrijnsoever", "rijnsoever"),
    ("rijnsoevr", "rijnsoever"),
    ("rynsoever", "rijnsoever"),
    ("rijnsoeevr", "rijnsoever"),
    ("rijnsovre", "rijnsoever"),
    ("sanne van r", "rijnsoever"),
    ("sanne", "rijnsoever"),
    ("devries", "devries"),
    ("de vries", "devries"),
    ("vries", "devries"),
    ("vreis", "devries"),
    ("pieter", "devries"),
    ("piter", "devries"),
    ("van der berg", "vdberg"),
    ("vanderberg", "vdberg"),
    ("berg", "vdberg"),
    ("lotte berg", "vdberg"),
    ("in t veld", "intveld"),
    ("in 't veld", "intveld"),
    ("intveld", "intveld"),
    ("veld", "intveld"),
    ("koen in", "intveld"),
    ("femke dykstra", "dijkstra"),
    ("bram dijkstra", "dykstra"),
    ("jansen", "jansen"),
    ("janssen", "janssen"),
    ("zoe muller", "muller"),
    ("zoë müller", "muller"),
    ("ZOË MÜLLER", "muller"),
    ("weiss", "weiss"),
    ("weiß", "weiss"),
    ("ayse ozturk", "ozturk"),
    ("öztürk", "ozturk"),
    ("el amrani", "elamrani"),
    ("elamrani", "elamrani"),
    ("amrani", "elamrani"),
    ("ijsselmuiden", "ijssel"),
    ("ysselmuiden", "ijssel"),
    ("eva ijssel", "ijssel"),
    ("rust", "rijnsoever"),
    ("kubernetes", "debruijn"),
    ("kubernets", "debruijn"),
    ("lotte hr", "vdberg"),
    ("tim groningen", "visser"),
    ("daan finance", "vanleeuwen"),
    ("sophie amsterdam", "bos"),
    ("thijs scrum", "dekker"),
    ("femke digital", "dijkstra"),
    ("hans", "koster"),
    ("johannes koster", "koster"),
    ("w.schouten", "schouten"),
    ("wschouten", "schouten"),
    ("schouten", "schouten"),
    ("vremeulan", "vermeulen"),
    ("smti", "smit"),
    ("olivier van der linden", "vanderlinden"),
    ("linden cto", "vanderlinden"),
    ("fleur van dijk", "vandijk"),
    ("security officer", "weiss"),
];

#[test]
fn each_query_finds_its_person_first() {
    let index = index();
    let mut failures = Vec::new();
    for (query, expected) in FIRST {
        let ids = search(&index, query);
        if ids.first().map(String::as_str) != Some(*expected) {
            failures.push(format!(
                "{query:?}: expected {expected}, got {:?}",
                ids.iter().take(3).collect::<Vec<_>>()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        FIRST.len(),
        failures.join("\n")
    );
}

fn top(index: &PeopleIndex, query: &str, n: usize) -> Vec<String> {
    let mut ids: Vec<String> = search(index, query).into_iter().take(n).collect();
    ids.sort();
    ids
}

#[test]
fn ij_and_y_spellings_find_both_dijkstra_and_dykstra() {
    let index = index();
    assert_eq!(top(&index, "dijkstra", 2), ["dijkstra", "dykstra"]);
    assert_eq!(top(&index, "dykstra", 2), ["dijkstra", "dykstra"]);
}

#[test]
fn exact_first_names_come_before_prefixes_and_ties_go_by_surname() {
    let index = index();
    let ids = search(&index, "jan");
    assert_eq!(&ids[..2], ["bakker", "jansen"], "{ids:?}");
    let janssen = ids.iter().position(|id| id == "janssen");
    assert!(janssen.is_some_and(|position| position >= 2), "{ids:?}");
}

#[test]
fn an_exact_surname_comes_before_a_one_letter_typo_of_it() {
    let index = index();
    let ids = search(&index, "jansen");
    assert_eq!(ids.first().map(String::as_str), Some("jansen"));
    assert!(ids.contains(&"janssen".to_owned()), "{ids:?}");
}

#[test]
fn every_word_must_match() {
    let index = index();
    assert!(search(&index, "sanne vries").is_empty());
    assert!(search(&index, "xyzzy").is_empty());
    assert!(search(&index, "rijnsoever finance").is_empty());
}

#[test]
fn short_words_are_not_matched_fuzzily() {
    let index = index();
    assert!(!search(&index, "bas").contains(&"bos".to_owned()));
    assert!(!search(&index, "tom").contains(&"visser".to_owned()));
}

#[test]
fn three_edits_are_too_many() {
    let index = index();
    assert!(search(&index, "rxjnsxevxr").is_empty());
}

#[test]
fn skills_and_titles_are_searchable() {
    let index = index();
    assert_eq!(top(&index, "python", 5), ["smit", "visser"]);
    assert_eq!(top(&index, "data engineer", 2), ["rijnsoever", "visser"]);
    assert_eq!(
        top(&index, "finance", 4),
        ["devries", "mulder", "schouten", "vanleeuwen"]
    );
}

#[test]
fn empty_query_with_a_filter_browses_in_dutch_name_order() {
    let index = index();
    let request = SearchRequest {
        department: Some("Finance".into()),
        limit: 10,
        ..SearchRequest::default()
    };
    // van Leeuwen under L, Mulder, Schouten, de Vries under V.
    assert_eq!(
        search_with(&index, request),
        ["vanleeuwen", "mulder", "schouten", "devries"]
    );
    let it = SearchRequest {
        department: Some("IT".into()),
        limit: 3,
        ..SearchRequest::default()
    };
    assert_eq!(
        search_with(&index, it),
        ["debruijn", "vanderlinden", "rijnsoever"]
    );
}

#[test]
fn filters_combine_with_words_and_with_each_other() {
    let index = index();
    let request = SearchRequest {
        query: "engineer".into(),
        location: Some("Rotterdam".into()),
        limit: 10,
        ..SearchRequest::default()
    };
    assert_eq!(search_with(&index, request), ["debruijn"]);
    let both = SearchRequest {
        department: Some("Finance".into()),
        location: Some("Amsterdam".into()),
        limit: 10,
        ..SearchRequest::default()
    };
    assert_eq!(search_with(&index, both), ["vanleeuwen"]);
    let skill = SearchRequest {
        skill: Some("Python".into()),
        limit: 10,
        ..SearchRequest::default()
    };
    assert_eq!(search_with(&index, skill).len(), 2);
}

#[test]
fn totals_and_facets_count_every_match() -> Result<(), plein_search::SearchError> {
    let index = index();
    let results = index.search(&SearchRequest {
        query: "data".into(),
        limit: 1,
        ..SearchRequest::default()
    })?;
    assert_eq!(results.ids.len(), 1);
    // Two data engineers, a data scientist, and Daan as a one-edit typeahead match ("daa…").
    assert_eq!(results.total, 4);
    let departments: Vec<(&str, u64)> = results
        .facets
        .department
        .iter()
        .map(|f| (f.value.as_str(), f.count))
        .collect();
    assert_eq!(departments, [("IT", 2), ("Digital", 1), ("Finance", 1)]);
    let python = results
        .facets
        .skill
        .iter()
        .find(|f| f.value == "Python")
        .map(|f| f.count);
    assert_eq!(python, Some(2));
    Ok(())
}

#[test]
fn removed_people_are_no_longer_found() -> Result<(), plein_search::SearchError> {
    let index = index();
    index.remove(&["rijnsoever".to_owned()])?;
    index.commit(2)?;
    assert!(search(&index, "rijnsoever").is_empty());
    assert_eq!(search(&index, "sanne"), Vec::<String>::new());
    Ok(())
}

#[test]
fn an_update_replaces_the_old_document() -> Result<(), plein_search::SearchError> {
    let index = index();
    let mut renamed = document(&PEOPLE[0]);
    renamed.family_name = "Hoekstra".into();
    renamed.display_name = "Sanne Hoekstra".into();
    index.upsert(&[renamed])?;
    index.commit(2)?;
    assert_eq!(search(&index, "hoekstra"), ["rijnsoever"]);
    assert!(search(&index, "van rijnsoever").is_empty());
    Ok(())
}

#[test]
fn the_suite_has_at_least_sixty_cases() {
    assert!(FIRST.len() >= 60, "{}", FIRST.len());
}
