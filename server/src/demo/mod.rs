//! The demo company: a deterministic, believable Dutch organisation written as an HR CSV export
//! and loaded through the same import as real HR data.

pub mod social;

use rand::rngs::StdRng;
use rand::seq::IndexedRandom as _;
use rand::{Rng as _, SeedableRng as _};

use crate::directory::import::COLUMNS;

const GIVEN_NAMES: &[&str] = &[
    "Anne",
    "Sanne",
    "Lotte",
    "Femke",
    "Eva",
    "Anouk",
    "Lisa",
    "Iris",
    "Noor",
    "Julia",
    "Sophie",
    "Emma",
    "Fleur",
    "Maud",
    "Roos",
    "Lieke",
    "Marieke",
    "Esther",
    "Ingrid",
    "Karin",
    "Monique",
    "Petra",
    "Wendy",
    "Chantal",
    "Daniëlle",
    "Zoë",
    "Chloé",
    "Loïs",
    "Inge",
    "Marloes",
    "Hanneke",
    "Mirjam",
    "Yvonne",
    "Renée",
    "Saskia",
    "Ilse",
    "Joke",
    "Tineke",
    "Fatima",
    "Yasmina",
    "Elif",
    "Priya",
    "Agnieszka",
    "Ewa",
    "Sarita",
    "Naima",
    "Jeroen",
    "Bas",
    "Daan",
    "Sem",
    "Lucas",
    "Thijs",
    "Ruben",
    "Stijn",
    "Niels",
    "Joost",
    "Maarten",
    "Pieter",
    "Willem",
    "Jan",
    "Kees",
    "Hendrik",
    "Gerrit",
    "Bram",
    "Tim",
    "Thomas",
    "Sander",
    "Erik",
    "Martijn",
    "Wouter",
    "Rutger",
    "Koen",
    "Jasper",
    "Hugo",
    "Finn",
    "Milan",
    "Jesse",
    "Luuk",
    "Teun",
    "Gijs",
    "Floris",
    "Arjen",
    "Frank",
    "Marco",
    "Dennis",
    "Mohammed",
    "Youssef",
    "Mehmet",
    "Emre",
    "Rahul",
    "Piotr",
    "Tomasz",
    "Dewi",
    "Quinten",
    "Reinier",
    "Sjoerd",
    "Wietse",
    "Jelle",
    "Hidde",
    "Oene",
];

const FAMILY_NAMES: &[&str] = &[
    "de Vries",
    "van Rijnsoever",
    "van der Berg",
    "in 't Veld",
    "Jansen",
    "de Jong",
    "Bakker",
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
    "Dijkstra",
    "Smits",
    "de Graaf",
    "van der Meer",
    "van der Linden",
    "Kok",
    "Jacobs",
    "de Haan",
    "Vermeulen",
    "van den Heuvel",
    "van der Veen",
    "van den Broek",
    "de Bruijn",
    "de Bruin",
    "van der Heijden",
    "Schouten",
    "van Beek",
    "Willems",
    "van Vliet",
    "van de Ven",
    "Hoekstra",
    "Maas",
    "Verhoeven",
    "Koster",
    "van Dam",
    "van der Wal",
    "Prins",
    "Blom",
    "Huisman",
    "Peeters",
    "de Lange",
    "Kuipers",
    "van Wijk",
    "Post",
    "Kuiper",
    "Veenstra",
    "Kramer",
    "van den Brink",
    "Scholten",
    "van Wijngaarden",
    "Timmermans",
    "de Ruiter",
    "van 't Hof",
    "ter Horst",
    "van Dijk",
    "Wijnberg",
    "IJzerman",
    "van IJsseldijk",
    "Kroes",
    "Yılmaz",
    "Kaya",
    "El Amrani",
    "Bouzid",
    "Nowak",
    "Kowalski",
    "Sharma",
    "Nguyen",
    "Pinas",
    "Tjon A Fong",
    "van Oranje",
    "Zuidema",
    "Wiersma",
    "Bosma",
    "Terpstra",
    "Brinkman",
    "Verbeek",
    "Gerritsen",
    "Evers",
    "van Houten",
    "Sanders",
    "Molenaar",
    "Franken",
    "Hermans",
    "Claassen",
    "Groen",
    "van Rossum",
    "Aerts",
    "Martens",
    "Goossens",
    "Sijbrandij",
    "van Zanten",
    "de Wilde",
    "op den Kamp",
    "van der Sluis",
    "Roelofs",
];

const OFFICES: &[(&str, u32)] = &[
    ("Amsterdam", 30),
    ("Den Haag", 22),
    ("Rotterdam", 16),
    ("Groningen", 8),
    ("Utrecht", 10),
    ("Eindhoven", 6),
    ("Zwolle", 4),
    ("Maastricht", 4),
];

struct Department {
    name: &'static str,
    weight: u32,
    roles: &'static [&'static str],
    skills: &'static [&'static str],
}

const DEPARTMENTS: &[Department] = &[
    Department {
        name: "Klantenservice",
        weight: 22,
        roles: &[
            "Klantadviseur",
            "Senior klantadviseur",
            "Specialist klantcontact",
        ],
        skills: &[
            "Klantcontact",
            "Zendesk",
            "Coaching",
            "Klachtafhandeling",
            "Chat",
        ],
    },
    Department {
        name: "Netwerk",
        weight: 16,
        roles: &[
            "Netwerkspecialist",
            "Glasvezelmonteur",
            "Radio-engineer",
            "NOC-engineer",
        ],
        skills: &[
            "Glasvezel",
            "5G",
            "BGP",
            "Cisco",
            "Nokia",
            "MPLS",
            "Storingen",
        ],
    },
    Department {
        name: "IT",
        weight: 14,
        roles: &[
            "Software engineer",
            "Data engineer",
            "DevOps-engineer",
            "Product owner",
        ],
        skills: &[
            "Rust",
            "Java",
            "Python",
            "Kubernetes",
            "PostgreSQL",
            "TypeScript",
            "Scrum",
        ],
    },
    Department {
        name: "Sales Zakelijk",
        weight: 9,
        roles: &["Accountmanager", "Solution architect", "Bid manager"],
        skills: &["Salesforce", "Onderhandelen", "Aanbestedingen", "Cloud"],
    },
    Department {
        name: "Sales Consument",
        weight: 8,
        roles: &["Winkelmedewerker", "Verkoopadviseur", "Shopmanager"],
        skills: &["Verkoop", "Kassa", "Smartphones", "Klantcontact"],
    },
    Department {
        name: "Marketing",
        weight: 6,
        roles: &[
            "Marketeer",
            "Contentspecialist",
            "Campagnemanager",
            "UX-onderzoeker",
        ],
        skills: &["SEO", "Campagnes", "Copywriting", "Figma", "Analytics"],
    },
    Department {
        name: "Finance",
        weight: 6,
        roles: &[
            "Controller",
            "Financieel analist",
            "Crediteurenadministrateur",
        ],
        skills: &["SAP", "Excel", "Rapportage", "IFRS", "Budgettering"],
    },
    Department {
        name: "HR",
        weight: 4,
        roles: &["HR-adviseur", "Recruiter", "Salarisadministrateur"],
        skills: &["Werving", "Arbeidsrecht", "AFAS", "Verzuim", "Coaching"],
    },
    Department {
        name: "Juridische Zaken",
        weight: 2,
        roles: &["Jurist", "Privacy officer", "Compliance officer"],
        skills: &["AVG", "Contracten", "Telecomwet", "Mededinging"],
    },
    Department {
        name: "Security",
        weight: 3,
        roles: &["Security officer", "Pentester", "SOC-analist"],
        skills: &["ISO 27001", "SIEM", "Pentesten", "Incidentrespons"],
    },
    Department {
        name: "Inkoop",
        weight: 3,
        roles: &["Inkoper", "Contractmanager", "Leveranciersmanager"],
        skills: &["Onderhandelen", "Contracten", "SAP", "Aanbestedingen"],
    },
    Department {
        name: "Facilitair",
        weight: 3,
        roles: &["Facilitair medewerker", "Receptionist", "Huismeester"],
        skills: &["Gebouwbeheer", "Catering", "Planning", "BHV"],
    },
];

const EXTRA_LANGUAGES: &[&str] = &[
    "Engels", "Duits", "Frans", "Turks", "Arabisch", "Pools", "Spaans",
];
/// Reports per manager; a believable span of control.
const SPAN: usize = 8;

/// One generated employee.
pub struct DemoPerson {
    pub employee_id: String,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    pub title: String,
    pub department: String,
    pub location: String,
    pub manager_employee_id: Option<String>,
    pub phone: String,
    pub skills: Vec<String>,
    pub languages: Vec<String>,
}

/// The email domain of the demo company.
pub const EMAIL_DOMAIN: &str = "demo.plein.nl";

fn weighted<'a, T>(rng: &mut StdRng, items: &'a [T], weight: impl Fn(&T) -> u32) -> &'a T {
    let total: u32 = items.iter().map(&weight).sum();
    let mut pick = rng.random_range(0..total);
    for item in items {
        let item_weight = weight(item);
        if pick < item_weight {
            return item;
        }
        pick -= item_weight;
    }
    &items[items.len() - 1]
}

/// The local part of an address: letters only, folded ("Daniëlle van 't Hof" → "danielle.vanthof").
fn mailbox(given: &str, family: &str) -> String {
    let fold = |text: &str| -> String {
        plein_search::text::tokens(text)
            .concat()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect()
    };
    format!("{}.{}", fold(given), fold(family))
}

/// Generates `count` people (at least 1): a CEO, a director per department and teams below,
/// the same company for the same seed.
pub fn generate(count: usize, seed: u64) -> Vec<DemoPerson> {
    let count = count.max(1);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut used_mailboxes = std::collections::HashMap::<String, usize>::new();
    let mut person = |rng: &mut StdRng, number: usize, department: &Department| {
        let given = *GIVEN_NAMES.choose(rng).unwrap_or(&"Anne");
        let family = *FAMILY_NAMES.choose(rng).unwrap_or(&"de Vries");
        let base = mailbox(given, family);
        let seen = used_mailboxes.entry(base.clone()).or_insert(0);
        *seen += 1;
        let local = if *seen == 1 {
            base
        } else {
            format!("{base}{seen}")
        };
        let how_many = rng.random_range(2..=4);
        let mut skills: Vec<String> = department
            .skills
            .choose_multiple(rng, how_many)
            .map(|skill| (*skill).to_owned())
            .collect();
        skills.sort();
        let mut languages = vec!["Nederlands".to_owned()];
        if rng.random_bool(0.7) {
            languages.push("Engels".to_owned());
        }
        if rng.random_bool(0.2) {
            let extra = *EXTRA_LANGUAGES.choose(rng).unwrap_or(&"Duits");
            if !languages.iter().any(|language| language == extra) {
                languages.push(extra.to_owned());
            }
        }
        DemoPerson {
            employee_id: format!("E{number:06}"),
            given_name: given.to_owned(),
            family_name: family.to_owned(),
            email: format!("{local}@{EMAIL_DOMAIN}"),
            title: String::new(),
            department: department.name.to_owned(),
            location: weighted(rng, OFFICES, |office| office.1).0.to_owned(),
            manager_employee_id: None,
            phone: format!(
                "+31 6 {:04} {:04}",
                rng.random_range(0..10_000),
                rng.random_range(0..10_000)
            ),
            skills,
            languages,
        }
    };

    let board = &DEPARTMENTS[2];
    let mut ceo = person(&mut rng, 1, board);
    ceo.title = "Algemeen directeur".to_owned();
    ceo.department = "Directie".to_owned();
    ceo.location = "Den Haag".to_owned();
    ceo.skills = vec!["Leiderschap".to_owned(), "Strategie".to_owned()];
    let ceo_id = ceo.employee_id.clone();
    let mut people = vec![ceo];

    // Members per department, in proportion to the weights, every department at least one.
    let remaining = count - 1;
    let total_weight: usize = DEPARTMENTS.iter().map(|d| d.weight as usize).sum();
    let mut sizes: Vec<usize> = DEPARTMENTS
        .iter()
        .map(|department| remaining * department.weight as usize / total_weight)
        .collect();
    let mut shortfall = remaining - sizes.iter().sum::<usize>();
    for size in sizes.iter_mut() {
        if shortfall == 0 {
            break;
        }
        *size += 1;
        shortfall -= 1;
    }

    for (department, size) in DEPARTMENTS.iter().zip(sizes) {
        let first = people.len();
        for member in 0..size {
            let number = people.len() + 1;
            let mut employee = person(&mut rng, number, department);
            // A SPAN-ary tree per department: member k reports to member (k - 1) / SPAN.
            let (manager, depth) = if member == 0 {
                (Some(ceo_id.clone()), 0)
            } else {
                let boss = first + (member - 1) / SPAN;
                (
                    Some(people[boss].employee_id.clone()),
                    depth_in_tree(member),
                )
            };
            employee.manager_employee_id = manager;
            let leads_others = member * SPAN + 1 < size;
            employee.title = match (depth, leads_others) {
                (0, _) => format!("Directeur {}", department.name),
                (1, true) => format!("Manager {}", department.name),
                (_, true) => format!("Teamleider {}", department.name),
                _ => (*department.roles.choose(&mut rng).unwrap_or(&"Medewerker")).to_owned(),
            };
            people.push(employee);
        }
    }
    people
}

/// Depth of member `k` in a SPAN-ary heap-ordered tree rooted at member 0.
fn depth_in_tree(member: usize) -> usize {
    let mut depth = 0;
    let mut current = member;
    while current > 0 {
        current = (current - 1) / SPAN;
        depth += 1;
    }
    depth
}

/// The people as an HR CSV export, `;`-separated as Dutch spreadsheets write it.
pub fn to_csv(people: &[DemoPerson]) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(Vec::new());
    writer.write_record(COLUMNS)?;
    for person in people {
        writer.write_record([
            person.employee_id.as_str(),
            &person.given_name,
            &person.family_name,
            &person.email,
            &person.title,
            &person.department,
            &person.location,
            person.manager_employee_id.as_deref().unwrap_or(""),
            &person.phone,
            &person.skills.join(";"),
            &person.languages.join(";"),
        ])?;
    }
    Ok(writer.into_inner()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_company() {
        let first = to_csv(&generate(500, 7)).expect("csv");
        let second = to_csv(&generate(500, 7)).expect("csv");
        let other = to_csv(&generate(500, 8)).expect("csv");
        assert_eq!(first, second);
        assert_ne!(first, other);
    }

    #[test]
    fn everyone_but_the_ceo_has_a_manager_who_exists() {
        let people = generate(2_000, 1);
        let ids: std::collections::HashSet<&str> =
            people.iter().map(|p| p.employee_id.as_str()).collect();
        assert_eq!(people.len(), 2_000);
        assert!(people[0].manager_employee_id.is_none());
        assert!(people[1..].iter().all(|p| {
            p.manager_employee_id
                .as_deref()
                .is_some_and(|manager| ids.contains(manager))
        }));
    }

    #[test]
    fn the_generated_file_passes_the_import_checks() {
        let csv = to_csv(&generate(1_000, 3)).expect("csv");
        let rows = crate::directory::import::parse(&csv).expect("valid import file");
        assert_eq!(rows.len(), 1_000);
    }
}
