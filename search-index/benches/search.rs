//! In-process search latency over 30,000 people: exact, prefix, one-typo and two-typo queries.
//!
//! cargo bench -p plein-search --bench search
//! BENCH_QUERY=rijns cargo bench -p plein-search --bench search   (one case, e.g. under perf)

use std::time::{Duration, Instant};

use plein_search::{PeopleIndex, PersonDocument, SearchRequest};

// The allocator the server runs with: scorers allocate per query and glibc malloc shows up.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PEOPLE: usize = 30_000;
const ROUNDS: usize = 20_000;

const GIVEN: &[&str] = &[
    "Sanne", "Pieter", "Lotte", "Koen", "Femke", "Bram", "Jan", "Anna", "Zoë", "Thomas", "Ayşe",
    "Mohammed", "Eva", "Daan", "Sophie", "Lars", "Emma", "Tim", "Lisa", "Noah", "Fleur", "Thijs",
    "Olivier", "Hans", "Wouter", "Julia", "Ruben", "Isa", "Max", "Sara", "Roos", "Jesse", "Mila",
    "Sem", "Tess", "Luuk", "Nina", "Milan", "Yara", "Finn", "Iris", "Stijn", "Lieke", "Gijs",
    "Noor", "Joris", "Fenna", "Sven", "Maud", "Hidde",
];
const FAMILY: &[&str] = &[
    "van Rijnsoever",
    "de Vries",
    "van der Berg",
    "in 't Veld",
    "Dijkstra",
    "Jansen",
    "Bakker",
    "Janssen",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Leeuwen",
    "Dekker",
    "Brouwer",
    "de Wit",
    "Dijkman",
    "van Dijk",
    "Kramer",
    "Schouten",
    "van der Linden",
    "Koster",
    "Vermeulen",
    "van den Broek",
    "de Bruijn",
    "Willems",
    "Hoekstra",
    "Verhoeven",
    "van Beek",
    "Kok",
    "van der Meer",
    "Post",
    "Kuipers",
    "Huisman",
    "Veenstra",
    "Boersma",
    "Prins",
    "Blom",
    "van Wijk",
    "Timmermans",
    "Groen",
    "Koning",
    "Sanders",
    "Evers",
    "van Loon",
    "Bosman",
    "Molenaar",
    "van Vliet",
    "Wouters",
    "El Amrani",
    "Öztürk",
];
const DEPARTMENTS: &[&str] = &[
    "IT",
    "Finance",
    "HR",
    "Sales",
    "Network",
    "Legal",
    "Marketing",
    "Customer Care",
    "Digital",
];
const LOCATIONS: &[&str] = &[
    "Amsterdam",
    "Den Haag",
    "Rotterdam",
    "Groningen",
    "Utrecht",
    "Eindhoven",
    "Zwolle",
    "Arnhem",
];
const TITLES: &[&str] = &[
    "Engineer",
    "Data Engineer",
    "Accountant",
    "Advisor",
    "Manager",
    "Architect",
    "Designer",
    "Specialist",
];
const SKILLS: &[&str] = &[
    "Rust",
    "Python",
    "Excel",
    "Scrum",
    "Kubernetes",
    "SAP",
    "Figma",
    "Negotiation",
    "Cisco",
    "Privacy",
];

/// A deterministic pseudo-random sequence (xorshift), so every run indexes the same company.
struct Sequence(u64);

impl Sequence {
    fn next(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % bound as u64) as usize
    }
}

fn company() -> Vec<PersonDocument> {
    let mut sequence = Sequence(0x005e_ed0f_91e1);
    (0..PEOPLE)
        .map(|n| {
            let given = GIVEN[sequence.next(GIVEN.len())];
            let family = FAMILY[sequence.next(FAMILY.len())];
            PersonDocument {
                id: format!("person-{n:05}"),
                display_name: format!("{given} {family}"),
                given_name: given.to_owned(),
                family_name: family.to_owned(),
                email: format!("p{n}@plein.example"),
                title: Some(TITLES[sequence.next(TITLES.len())].to_owned()),
                department: Some(DEPARTMENTS[sequence.next(DEPARTMENTS.len())].to_owned()),
                location: Some(LOCATIONS[sequence.next(LOCATIONS.len())].to_owned()),
                skills: vec![
                    SKILLS[sequence.next(SKILLS.len())].to_owned(),
                    SKILLS[sequence.next(SKILLS.len())].to_owned(),
                ],
                ..PersonDocument::default()
            }
        })
        .collect()
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() -> Result<(), plein_search::SearchError> {
    let index = PeopleIndex::in_memory()?;
    let people = company();
    let started = Instant::now();
    index.upsert(&people)?;
    index.commit(1)?;
    index.merge_segments()?;
    println!(
        "indexed {} people in {:.2} s",
        index.len(),
        started.elapsed().as_secs_f64()
    );
    println!();
    println!("| query kind | query | hits (total) | p50 | p99 |");
    println!("|---|---|---|---|---|");
    let cases = [
        ("exact", "rijnsoever"),
        ("exact, two words", "sanne rijnsoever"),
        ("prefix (typeahead)", "rijns"),
        ("prefix, first name + surname", "sanne van r"),
        ("1 typo", "rijnsoevr"),
        ("2 typos", "rijnsovre"),
        ("first name + department", "lotte finance"),
    ];
    // `BENCH_QUERY=rijns` runs one case alone (for profiling).
    let only = std::env::var("BENCH_QUERY").ok();
    for (kind, query) in cases {
        if only.as_deref().is_some_and(|wanted| wanted != query) {
            continue;
        }
        let request = SearchRequest {
            query: query.to_owned(),
            limit: 20,
            ..SearchRequest::default()
        };
        let total = index.search(&request)?.total;
        let mut timings = Vec::with_capacity(ROUNDS);
        for _ in 0..ROUNDS {
            let started = Instant::now();
            let results = index.search(&request)?;
            timings.push(started.elapsed());
            std::hint::black_box(results);
        }
        timings.sort();
        println!(
            "| {kind} | `{query}` | {total} | {:.0} µs | {:.0} µs |",
            percentile(&timings, 0.5).as_secs_f64() * 1e6,
            percentile(&timings, 0.99).as_secs_f64() * 1e6
        );
    }
    Ok(())
}
