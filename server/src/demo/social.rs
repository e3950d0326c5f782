//! The demo company's social life: a work group per department and casual clubs, months of
//! posts with comments and reactions, and announcements, some acknowledged. Everything is
//! written with its event, as the API would, so search, notifications and other nodes see it.
//! The amount does not grow with the company: a newcomer sees a living intranet either way.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, SubsecRound as _, Utc};
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom as _, SliceRandom as _};
use rand::{Rng as _, SeedableRng as _};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait as _, DatabaseConnection, EntityTrait as _, QueryFilter as _};
use uuid::Uuid;

use crate::announcements::dto::{Audience, CreateAnnouncementRequest};
use crate::auth::AuthenticatedPerson;
use crate::db;
use crate::directory::dto::Role;
use crate::entities::{announcement_recipients, comments, group_members, people, posts, reactions};
use crate::events::{self, Doorbell, Event};
use crate::groups::dto::CreateGroupRequest;
use crate::groups::policy::{GroupRole, Kind, MemberState, Visibility};
use crate::posts::dto::{PostEvent, Reaction};

/// Casual groups: name, description, visibility.
const CLUBS: &[(&str, &str, Visibility)] = &[
    (
        "Hardloopclub",
        "Elke dinsdag en donderdag een rondje van vijf of tien kilometer, vanaf de hoofdingang.",
        Visibility::Public,
    ),
    (
        "Fotografie",
        "Foto's delen, samen op pad, en tips over licht en compositie.",
        Visibility::Public,
    ),
    (
        "Bordspellen",
        "Vrijdagmiddag spellen in de kantine. Nieuwe spellen altijd welkom.",
        Visibility::Public,
    ),
    (
        "Fietsen naar het werk",
        "Routes, regenkleding en wie er mee wil fietsen.",
        Visibility::Public,
    ),
    (
        "Koor",
        "We zingen op woensdagavond; geen ervaring nodig.",
        Visibility::Public,
    ),
    (
        "Moestuin op het dak",
        "Tomaten, kruiden en wie er deze week water geeft.",
        Visibility::Public,
    ),
    (
        "Borrelcommissie",
        "Wij organiseren de vrijdagmiddagborrel. Aanmelden om mee te helpen.",
        Visibility::Private,
    ),
    (
        "Ondernemingsraad",
        "Overleg van de OR; vertrouwelijk.",
        Visibility::Secret,
    ),
];

const POSTS: &[&str] = &[
    "Wie heeft er zin om volgende week mee te doen? Laat het even weten!",
    "Dank aan iedereen die gisteren is gekomen, het was een succes 🎉",
    "Korte update: de planning voor dit kwartaal staat in de gedeelde map.",
    "Heeft iemand tips voor een goede **tweedehands** racefiets?",
    "Vanaf maandag zitten we op de derde verdieping. Koffie staat klaar.",
    "Mooie foto van de zonsondergang bij het kantoor in Rotterdam vanavond.",
    "Herinnering: de deadline voor de aanvragen is vrijdag om 17:00.",
    "We zoeken nog twee mensen voor het team van de bedrijfsloop.",
    "Nieuwe versie van de handleiding staat online. Feedback welkom!",
    "Wie neemt er volgende keer de taart mee? 🍰",
    "Lunchwandeling om 12:30 bij de draaideur, iedereen welkom.",
    "Interessant artikel over hybride werken gelezen, aanrader.",
];

const COMMENTS: &[&str] = &[
    "Ik doe mee!",
    "Goed idee 👍",
    "Helaas kan ik niet, volgende keer graag.",
    "Dank voor het delen.",
    "Waar precies?",
    "Top, zie je daar!",
    "Kunnen we het ook online volgen?",
    "Super gedaan allemaal.",
];

/// Days of history the posts spread over.
const HISTORY_DAYS: i64 = 120;

/// What was made.
#[derive(Debug, Default, Clone, Copy)]
pub struct Summary {
    pub groups: usize,
    pub posts: usize,
    pub comments: usize,
    pub reactions: usize,
    pub announcements: usize,
    pub messages: usize,
}

fn id_at(rng: &mut StdRng, at: DateTime<Utc>) -> Uuid {
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or_default();
    uuid::Builder::from_unix_timestamp_millis(millis, &rng.random()).into_uuid()
}

fn acting(person: &people::Model) -> AuthenticatedPerson {
    AuthenticatedPerson {
        id: person.id,
        role: if person.role == "admin" {
            Role::Admin
        } else {
            Role::Employee
        },
        session_id: Uuid::nil(),
    }
}

fn error(failure: crate::error::ApiError) -> anyhow::Error {
    anyhow::anyhow!("{}: {}", failure.code, failure.message)
}

/// What people say in chat: short lines, answered.
const CHAT_LINES: [&str; 10] = [
    "Heb je even tijd voor een korte call?",
    "Zeker, over tien minuten?",
    "Top, ik bel je dan.",
    "Zullen we vrijdag samen lunchen?",
    "Goed plan! Bij de kantine om twaalf uur?",
    "Kun je even naar de **planning** kijken?",
    "Ik stuur je de slides straks door.",
    "Dank je, ziet er goed uit 👍",
    "Wie neemt er taart mee voor de borrel?",
    "Ik! Appeltaart van de bakker om de hoek.",
];

/// A few conversations for the first login: direct ones with colleagues (one still unread)
/// and a named group conversation, so the chat screen is not empty.
async fn chat(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    me: &AuthenticatedPerson,
    everyone: &[people::Model],
    rng: &mut StdRng,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    use crate::chat::dto::{CreateConversation, SendMessage};
    let colleagues: Vec<&people::Model> = everyone
        .iter()
        .filter(|person| person.id != me.id)
        .take(4)
        .collect();
    let mut talks: Vec<(Uuid, Vec<&people::Model>)> = Vec::new();
    for colleague in colleagues.iter().take(3) {
        let (conversation, _) = crate::chat::service::create(
            db,
            doorbell,
            me,
            CreateConversation {
                person_ids: vec![colleague.id],
                name: None,
            },
        )
        .await
        .map_err(error)?;
        talks.push((conversation.id, vec![colleague]));
    }
    if colleagues.len() >= 3 {
        let (conversation, _) = crate::chat::service::create(
            db,
            doorbell,
            me,
            CreateConversation {
                person_ids: colleagues.iter().map(|person| person.id).collect(),
                name: Some("Borrelcommissie".to_owned()),
            },
        )
        .await
        .map_err(error)?;
        talks.push((conversation.id, colleagues.clone()));
    }
    for (number, (conversation, others)) in talks.iter().enumerate() {
        let lines = rng.random_range(3..=6);
        let start = rng.random_range(0..CHAT_LINES.len());
        for line in 0..lines {
            // Turns: me, then one of the others; the second conversation ends with theirs
            // (unread).
            let speaker = if line % 2 == 0 && !(number == 1 && line + 1 == lines) {
                me.id
            } else {
                others[line % others.len()].id
            };
            let author = AuthenticatedPerson {
                id: speaker,
                role: Role::Employee,
                session_id: Uuid::nil(),
            };
            crate::chat::service::send(
                db,
                doorbell,
                &author,
                *conversation,
                SendMessage {
                    body: CHAT_LINES[(start + line) % CHAT_LINES.len()].to_owned(),
                    client_id: format!("demo-{number}-{line}"),
                    reply_to: None,
                    attachments: Vec::new(),
                },
            )
            .await
            .map_err(error)?;
            summary.messages += 1;
        }
    }
    Ok(())
}

/// Adds members to a group in one transaction, each with its event.
async fn add_members(
    db: &DatabaseConnection,
    group: Uuid,
    members: &[Uuid],
    since: DateTime<Utc>,
) -> anyhow::Result<()> {
    let tx = db::begin_write(db).await?;
    let mut added = Vec::new();
    for &person in members {
        let row = group_members::Model {
            group_id: group,
            person_id: person,
            role: GroupRole::Member.as_str().to_owned(),
            state: MemberState::Member.as_str().to_owned(),
            invited_by: None,
            created_at: since,
            updated_at: since,
        };
        if group_members::Entity::find_by_id((group, person))
            .one(&tx)
            .await?
            .is_some()
        {
            continue;
        }
        crate::groups::repo::put_membership(&tx, row).await?;
        added.push(Event::GroupMembershipChanged {
            group_id: group,
            person_id: person,
            role: Some(GroupRole::Member),
            state: Some(MemberState::Member),
            previous: None,
            by: None,
        });
    }
    events::append_many(&tx, added).await?;
    tx.commit().await?;
    Ok(())
}

/// Months of posts in a group, with comments and reactions from its members.
async fn converse(
    db: &DatabaseConnection,
    rng: &mut StdRng,
    group: Uuid,
    members: &[Uuid],
    summary: &mut Summary,
) -> anyhow::Result<()> {
    let now = Utc::now().trunc_subsecs(6);
    let count = rng.random_range(6..=16);
    let mut moments: Vec<DateTime<Utc>> = (0..count)
        .map(|_| now - Duration::minutes(rng.random_range(60..HISTORY_DAYS * 24 * 60)))
        .collect();
    moments.sort();
    let tx = db::begin_write(db).await?;
    let mut happened = Vec::new();
    for at in moments {
        let Some(&author) = members.choose(rng) else {
            break;
        };
        let post = posts::Model {
            id: id_at(rng, at),
            group_id: group,
            author_id: author,
            body: (*POSTS.choose(rng).unwrap_or(&POSTS[0])).to_owned(),
            created_at: at,
            edited_at: None,
            deleted_at: None,
            pinned_at: None,
        };
        crate::posts::repo::insert_post(&tx, post.clone()).await?;
        let named = PostEvent {
            id: post.id,
            group_id: group,
            author_id: author,
        };
        happened.push(Event::PostCreated {
            post: named.clone(),
        });
        summary.posts += 1;
        for _ in 0..rng.random_range(0..=4) {
            let Some(&writer) = members.choose(rng) else {
                break;
            };
            let later = (at + Duration::minutes(rng.random_range(5..600))).min(now);
            let comment = comments::Model {
                id: id_at(rng, later),
                post_id: post.id,
                author_id: writer,
                reply_to: None,
                body: (*COMMENTS.choose(rng).unwrap_or(&COMMENTS[0])).to_owned(),
                created_at: later,
                edited_at: None,
                deleted_at: None,
            };
            crate::posts::repo::insert_comment(&tx, comment.clone()).await?;
            happened.push(Event::CommentCreated {
                comment_id: comment.id,
                post: named.clone(),
                reply_to: None,
            });
            summary.comments += 1;
        }
        let mut reactors: Vec<Uuid> = members.to_vec();
        reactors.shuffle(rng);
        for person in reactors.into_iter().take(rng.random_range(0..=10)) {
            let reaction = *[
                Reaction::Like,
                Reaction::Like,
                Reaction::Love,
                Reaction::Celebrate,
                Reaction::Laugh,
                Reaction::Insightful,
            ]
            .choose(rng)
            .unwrap_or(&Reaction::Like);
            let row = reactions::Model {
                post_id: post.id,
                person_id: person,
                reaction: reaction.as_str().to_owned(),
                created_at: (at + Duration::minutes(rng.random_range(1..300))).min(now),
            };
            if crate::posts::repo::add_reaction(&tx, row).await? {
                happened.push(Event::ReactionChanged {
                    post: named.clone(),
                    person_id: person,
                    reaction: reaction.as_str().to_owned(),
                    on: true,
                });
                summary.reactions += 1;
            }
        }
    }
    events::append_many(&tx, happened).await?;
    tx.commit().await?;
    Ok(())
}

/// Fills the demo company (already imported) with groups, posts and announcements, unless there
/// are groups already. `hr` writes the announcements (the demo admin).
pub async fn populate(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    hr: Uuid,
    seed: u64,
) -> anyhow::Result<Summary> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed_50c1);
    // Once is enough: a second run leaves the intranet as it is.
    if crate::entities::groups::Entity::find()
        .one(db)
        .await?
        .is_some()
    {
        return Ok(Summary::default());
    }
    let everyone: Vec<people::Model> = people::Entity::find()
        .filter(people::Column::Active.eq(true))
        .all(db)
        .await?;
    let mut summary = Summary::default();
    if everyone.is_empty() {
        return Ok(summary);
    }
    let mut by_department: BTreeMap<String, Vec<&people::Model>> = BTreeMap::new();
    for person in &everyone {
        if let Some(department) = &person.department {
            by_department
                .entry(department.clone())
                .or_default()
                .push(person);
        }
    }
    let since = Utc::now().trunc_subsecs(6) - Duration::days(HISTORY_DAYS + 30);

    // A public work group per department, started by its first person, with up to 120 of them.
    for (department, staff) in &by_department {
        let Some(owner) = staff.first() else { continue };
        let group = crate::groups::service::create(
            db,
            doorbell,
            &acting(owner),
            CreateGroupRequest {
                name: department.clone(),
                slug: None,
                description: Some(format!("Nieuws en overleg van **{department}**.")),
                kind: Kind::Work,
                visibility: Visibility::Public,
                posting: None,
            },
        )
        .await
        .map_err(error)?;
        let members: Vec<Uuid> = staff.iter().take(120).map(|person| person.id).collect();
        add_members(db, group.id, &members, since).await?;
        converse(db, &mut rng, group.id, &members, &mut summary).await?;
        summary.groups += 1;
    }

    // Casual clubs across the company.
    for (name, description, visibility) in CLUBS {
        let mut members: Vec<&people::Model> = everyone.iter().collect();
        members.shuffle(&mut rng);
        members.truncate(rng.random_range(12..=60).min(everyone.len()));
        let Some(owner) = members.first() else {
            continue;
        };
        let group = crate::groups::service::create(
            db,
            doorbell,
            &acting(owner),
            CreateGroupRequest {
                name: (*name).to_owned(),
                slug: None,
                description: Some((*description).to_owned()),
                kind: if *visibility == Visibility::Secret {
                    Kind::Work
                } else {
                    Kind::Casual
                },
                visibility: *visibility,
                posting: None,
            },
        )
        .await
        .map_err(error)?;
        let ids: Vec<Uuid> = members.iter().map(|person| person.id).collect();
        add_members(db, group.id, &ids, since).await?;
        converse(db, &mut rng, group.id, &ids, &mut summary).await?;
        summary.groups += 1;
    }

    // Announcements: one for everyone that asks for acknowledgement, most have; one for a
    // department; and one draft.
    let author = AuthenticatedPerson {
        id: hr,
        role: Role::Admin,
        session_id: Uuid::nil(),
    };
    chat(db, doorbell, &author, &everyone, &mut rng, &mut summary).await?;
    let first_department = by_department.keys().next().cloned();
    let plans = [
        (
            "Nieuwe thuiswerkregeling",
            "Vanaf 1 januari werk je **twee dagen per week** thuis als je werk dat toelaat. Lees de regeling en bevestig dat je hem hebt gelezen.",
            Audience::default(),
            true,
            true,
        ),
        (
            "Verhuizing van de serverruimte",
            "Zaterdag zijn de systemen tussen 8:00 en 12:00 niet bereikbaar.",
            Audience {
                departments: first_department.into_iter().collect(),
                locations: Vec::new(),
            },
            false,
            true,
        ),
        (
            "Kerstborrel",
            "Save the date: vrijdag 19 december in de kantine.",
            Audience::default(),
            false,
            false,
        ),
    ];
    for (title, body, audience, requires_ack, publish) in plans {
        let created = crate::announcements::service::create(
            db,
            &author,
            CreateAnnouncementRequest {
                title: title.to_owned(),
                body: body.to_owned(),
                language: Some("nl".to_owned()),
                translation: None,
                audience,
                requires_ack,
                comments_enabled: Some(true),
                publish_at: None,
                expires_at: None,
                due_at: None,
                attachments: Vec::new(),
            },
        )
        .await
        .map_err(error)?;
        summary.announcements += 1;
        if !publish {
            continue;
        }
        crate::announcements::service::publish(db, doorbell, None, &author, created.id, None)
            .await
            .map_err(error)?;
        // Most people opened it, and most of those acknowledged.
        let now = Utc::now().trunc_subsecs(6);
        let mut readers: Vec<Uuid> = everyone.iter().map(|person| person.id).collect();
        readers.shuffle(&mut rng);
        readers.truncate(readers.len() * 7 / 10);
        for chunk in readers.chunks(500) {
            let mut update = announcement_recipients::Entity::update_many().col_expr(
                announcement_recipients::Column::OpenedAt,
                Expr::value(Some(now)),
            );
            if requires_ack {
                update = update.col_expr(
                    announcement_recipients::Column::AcknowledgedAt,
                    Expr::value(Some(now)),
                );
            }
            update
                .filter(announcement_recipients::Column::AnnouncementId.eq(created.id))
                .filter(crate::db::one_of(
                    db.get_database_backend(),
                    announcement_recipients::Column::PersonId,
                    chunk.iter().copied(),
                ))
                .exec(db)
                .await?;
        }
    }
    doorbell.ring();
    Ok(summary)
}
