//! The realtime hub of one node: the open sockets per person, an in-memory index of who is in
//! which group and conversation (kept by its outbox consumer, so fanout asks the database
//! nothing per recipient), and fanout: each event encoded once, the same bytes queued for every
//! recipient's socket.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use axum::extract::ws::Utf8Bytes;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter as _,
    QueryOrder as _, QuerySelect as _,
};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::bus::{Envelope, Signal, SignalBus};
use super::frames::{MessageFrame, PresenceState, ServerFrame, TabState, close};
use super::presence::{ALIVE_EVERY, PresenceBook};
use crate::chat::dto::{ConversationEvent, ConversationKind, MessageEvent};
use crate::entities::{
    announcement_recipients, conversation_members, conversations, group_members, groups,
    presence_seen,
};
use crate::events::{self, Event, EventConsumer, Position, StoredEvent};
use crate::groups::policy::{self, Action, GroupFacts, GroupRole, MemberState, Standing, Viewer};
use crate::groups::service::facts;

pub type SharedHub = Arc<Hub>;

/// Rows read at a time while loading the index.
const LOAD_CHUNK: u64 = 50_000;

/// A frame waiting for its sockets, with the position of its event (none: typing and presence,
/// which are not events). Queued behind one pointer, shared by every recipient.
pub struct Outgoing {
    pub position: Option<Position>,
    pub text: Utf8Bytes,
    /// Set for a frame to the whole audience of an announcement: counted while any queue holds it.
    _wide: Option<WideFanout>,
}

pub type Queued = Arc<Outgoing>;

fn outgoing(position: Option<Position>, text: &Utf8Bytes) -> Queued {
    Arc::new(Outgoing {
        position,
        text: text.clone(),
        _wide: None,
    })
}

/// How far this node has fanned out, and how many wide fanouts (announcements, one frame to
/// thousands of sockets) still wait in some socket's queue.
#[derive(Debug, Clone, Copy, Default)]
struct Sending {
    delivered: Position,
    wide: usize,
}

/// Counts one wide fanout from when its frame is made until the last queue lets go of it.
struct WideFanout(Arc<watch::Sender<Sending>>);

impl WideFanout {
    fn new(sending: &Arc<watch::Sender<Sending>>) -> Self {
        sending.send_modify(|sending| sending.wide += 1);
        WideFanout(sending.clone())
    }
}

impl Drop for WideFanout {
    fn drop(&mut self) {
        self.0.send_modify(|sending| sending.wide -= 1);
    }
}

/// One open socket.
pub struct Connection {
    pub id: u64,
    pub person_id: Uuid,
    pub session_id: Uuid,
    /// Frames waiting for the socket's task, at most `bound`: a few words until it holds
    /// something (a channel's shared state and first block of slots took over 800 bytes per
    /// idle socket).
    queue: Mutex<VecDeque<Queued>>,
    bound: usize,
    ready: tokio::sync::Notify,
    closed: CancellationToken,
    reason: OnceLock<(u16, &'static str)>,
    /// The tab said it is hidden or idle.
    away: AtomicBool,
    /// People whose presence this socket is told (changed under the hub's write lock, with
    /// `HubState::watchers`).
    watching: Mutex<Vec<Uuid>>,
}

impl Connection {
    /// Queues a frame; a socket whose queue is full is closed (it resumes on reconnect).
    fn push(&self, frame: &Queued) {
        let queued = {
            let mut queue = self.queue();
            let room = queue.len() < self.bound;
            if room {
                queue.push_back(frame.clone());
            }
            room
        };
        if queued {
            self.ready.notify_one();
        } else if !self.closed.is_cancelled() {
            metrics::counter!("plein_ws_closed_slow_total").increment(1);
            self.close(close::TOO_SLOW, "too slow: reconnect with since");
        }
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, VecDeque<Queued>> {
        self.queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Asks the socket's task to close with `code`; the first reason given wins.
    pub fn close(&self, code: u16, reason: &'static str) {
        let _ = self.reason.set((code, reason));
        self.closed.cancel();
    }

    pub fn closed(&self) -> &CancellationToken {
        &self.closed
    }

    pub fn reason(&self) -> Option<(u16, &'static str)> {
        self.reason.get().copied()
    }
}

/// The socket's task's end of its queue.
pub struct QueueReader(Arc<Connection>);

impl QueueReader {
    /// The next frame, once there is one.
    pub async fn recv(&mut self) -> Queued {
        loop {
            // Asked for before looking: a frame queued after the look still wakes this.
            let ready = self.0.ready.notified();
            if let Some(frame) = self.0.queue().pop_front() {
                return frame;
            }
            ready.await;
        }
    }
}

/// A socket's place in the hub; dropping it takes the socket out.
pub struct Registration {
    hub: SharedHub,
    pub connection: Arc<Connection>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.hub.remove(&self.connection);
    }
}

struct GroupEntry {
    facts: GroupFacts,
    /// Members (not invitations or requests).
    members: HashSet<Uuid>,
}

/// Who is in what, as far as fanout needs to know.
#[derive(Default)]
struct Index {
    groups: HashMap<Uuid, GroupEntry>,
    /// Direct and group conversations: who is in them now.
    conversations: HashMap<Uuid, HashSet<Uuid>>,
    /// Channels: their group.
    channels: HashMap<Uuid, Uuid>,
    /// The groups whose posts anyone may read, and those whose members may, worked out from
    /// `groups` when first asked after a group changed.
    readable: OnceLock<ReadableGroups>,
}

/// Groups by who may read their posts, each list sorted.
#[derive(Default)]
struct ReadableGroups {
    anyone: Vec<Uuid>,
    members: Vec<Uuid>,
}

impl Index {
    /// The groups by who may read their posts, as of the last change to a group.
    fn readable(&self) -> &ReadableGroups {
        self.readable.get_or_init(|| {
            let viewer = Viewer {
                person_id: Uuid::nil(),
                platform_admin: false,
            };
            let member = Some(Standing {
                role: GroupRole::Member,
                state: MemberState::Member,
            });
            let mut readable = ReadableGroups::default();
            for (id, group) in &self.groups {
                if policy::allows(&viewer, &group.facts, None, Action::ReadPosts) {
                    readable.anyone.push(*id);
                } else if policy::allows(&viewer, &group.facts, member, Action::ReadPosts) {
                    readable.members.push(*id);
                }
            }
            readable.anyone.sort_unstable();
            readable.members.sort_unstable();
            readable
        })
    }

    /// The groups whose posts `person` may read, sorted.
    fn readable_groups(&self, person: Uuid) -> Vec<Uuid> {
        let readable = self.readable();
        let own = readable.members.iter().filter(|group| {
            self.groups
                .get(group)
                .is_some_and(|entry| entry.members.contains(&person))
        });
        // Both in order: merged in one pass.
        let mut merged = Vec::with_capacity(readable.anyone.len() + 16);
        let mut anyone = readable.anyone.iter().peekable();
        for group in own {
            while let Some(open) = anyone.next_if(|open| *open < group) {
                merged.push(*open);
            }
            merged.push(*group);
        }
        merged.extend(anyone);
        merged
    }

    /// Whether `person` may read what happens in a group: the policy's answer for them.
    fn reads_group(&self, group_id: Uuid, person: Uuid, action: Action) -> bool {
        let Some(group) = self.groups.get(&group_id) else {
            return false;
        };
        let standing = group.members.contains(&person).then_some(Standing {
            role: GroupRole::Member,
            state: MemberState::Member,
        });
        let viewer = Viewer {
            person_id: person,
            platform_admin: false,
        };
        standing.is_some() && policy::allows(&viewer, &group.facts, standing, action)
    }

    /// A conversation as events name it, if this node knows it.
    fn conversation(&self, id: Uuid) -> Option<ConversationEvent> {
        if let Some(group) = self.channels.get(&id) {
            return Some(ConversationEvent {
                id,
                kind: ConversationKind::Channel,
                group_id: Some(*group),
            });
        }
        self.conversations
            .contains_key(&id)
            .then_some(ConversationEvent {
                id,
                kind: ConversationKind::Group,
                group_id: None,
            })
    }

    fn in_conversation(&self, conversation: &ConversationEvent, person: Uuid) -> bool {
        match conversation.group_id {
            Some(group_id) => self.reads_group(group_id, person, Action::Chat),
            None => self
                .conversations
                .get(&conversation.id)
                .is_some_and(|members| members.contains(&person)),
        }
    }

    /// Takes in what the event changes about membership.
    fn apply(&mut self, event: &Event) {
        if matches!(
            event,
            Event::GroupCreated { .. } | Event::GroupUpdated { .. } | Event::GroupDeleted { .. }
        ) {
            self.readable = OnceLock::new();
        }
        match event {
            Event::GroupCreated { group } | Event::GroupUpdated { group } => {
                let entry = self.groups.entry(group.id).or_insert_with(|| GroupEntry {
                    facts: GroupFacts {
                        visibility: group.visibility,
                        posting: policy::Posting::Everyone,
                        archived: group.archived,
                    },
                    members: HashSet::new(),
                });
                entry.facts.visibility = group.visibility;
                entry.facts.archived = group.archived;
            }
            Event::GroupDeleted { group } => {
                self.groups.remove(&group.id);
            }
            Event::GroupMembershipChanged {
                group_id,
                person_id,
                state,
                ..
            } => {
                if let Some(entry) = self.groups.get_mut(group_id) {
                    if *state == Some(MemberState::Member) {
                        entry.members.insert(*person_id);
                    } else {
                        entry.members.remove(person_id);
                    }
                }
            }
            Event::ConversationChanged { conversation, .. } if conversation.group_id.is_some() => {
                if let Some(group) = conversation.group_id {
                    self.channels.insert(conversation.id, group);
                }
            }
            Event::ConversationChanged {
                conversation,
                added,
                removed,
            } => {
                let members = self.conversations.entry(conversation.id).or_default();
                members.extend(added.iter().copied());
                for person in removed {
                    members.remove(person);
                }
            }
            _ => {}
        }
    }
}

/// Whom an event goes to.
enum Audience {
    Person(Uuid),
    /// The group's members, as the policy allows for `Action`.
    Group(Uuid, Action),
    Conversation(ConversationEvent),
    /// A conversation's members and the people who just left it.
    ConversationAnd(ConversationEvent, Vec<Uuid>),
    People(Vec<Uuid>),
    /// An announcement's recipients (read when needed); `true`: only those who have not
    /// acknowledged it.
    Announcement(Uuid, bool),
    /// Each person their own frame (the shared one is unused).
    Each(HashMap<Uuid, Utf8Bytes>),
}

/// An event made ready for delivery: its frame, encoded once, and whom it goes to.
struct Prepared {
    frame: Utf8Bytes,
    audience: Audience,
}

struct HubState {
    /// The last event fanned out.
    position: Position,
    connections: HashMap<Uuid, Vec<Arc<Connection>>>,
    /// Per person, the sockets told of their presence (a change reaches its watchers without
    /// a walk over every socket).
    watchers: HashMap<Uuid, Vec<Arc<Connection>>>,
    index: Index,
}

impl HubState {
    /// The socket watches `people` from now on instead of whom it watched before.
    fn watch(&mut self, connection: &Arc<Connection>, people: Vec<Uuid>) {
        let before = std::mem::replace(
            &mut *connection
                .watching
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
            people.clone(),
        );
        self.unwatch(connection.id, &before);
        for person in people {
            self.watchers
                .entry(person)
                .or_default()
                .push(connection.clone());
        }
    }

    fn unwatch(&mut self, connection: u64, people: &[Uuid]) {
        for person in people {
            if let Some(list) = self.watchers.get_mut(person) {
                list.retain(|other| other.id != connection);
                if list.is_empty() {
                    self.watchers.remove(person);
                }
            }
        }
    }
}

/// Events whose frames the hub keeps after fanning them out, for replays.
const RECENT_PREPARED: usize = 8_192;

/// The latest events as this node prepared them (none: the event has no frame): a socket that
/// resumes after a drop replays from here instead of preparing each event again (a storm of
/// reconnects would otherwise render every missed message once per socket).
#[derive(Default)]
struct Recent {
    by_seq: HashMap<i64, Option<Arc<Prepared>>>,
    /// In delivery order.
    order: VecDeque<Position>,
}

impl Recent {
    fn keep(&mut self, position: Position, prepared: Option<Arc<Prepared>>) {
        if self.by_seq.insert(position.seq, prepared).is_none() {
            self.order.push_back(position);
        }
        while self.order.len() > RECENT_PREPARED {
            if let Some(oldest) = self.order.pop_front() {
                self.by_seq.remove(&oldest.seq);
            }
        }
    }

    /// The events delivered after the one numbered `since`, up to `until`, if `since` is still
    /// kept (none otherwise: the outbox has them).
    fn after(&self, since: i64, until: Position) -> Option<(Position, Vec<Option<Arc<Prepared>>>)> {
        let start = self.order.iter().position(|kept| kept.seq == since)?;
        let from = *self.order.get(start)?;
        Some((
            from,
            self.order
                .iter()
                .skip(start + 1)
                .take_while(|kept| **kept <= until)
                .map(|kept| self.by_seq.get(&kept.seq).cloned().flatten())
                .collect(),
        ))
    }
}

/// How long last-seen times are gathered before they are written.
const SEEN_GATHER: std::time::Duration = std::time::Duration::from_millis(500);

pub struct Hub {
    db: DatabaseConnection,
    state: RwLock<HubState>,
    recent: Mutex<Recent>,
    /// Last-seen times not written yet.
    seen_pending: Arc<Mutex<HashMap<Uuid, chrono::DateTime<chrono::Utc>>>>,
    next_id: AtomicU64,
    queue: usize,
    bus: SignalBus,
    presence: Mutex<PresenceBook>,
    sending: Arc<watch::Sender<Sending>>,
    /// Sockets being set up (authenticated, their session checked, their missed frames
    /// replayed) at once: each takes database connections, and thousands reconnecting together
    /// must leave the others to the rest of the node's requests.
    setups: Arc<tokio::sync::Semaphore>,
}

impl Hub {
    /// An empty hub; the consumer loads its index before the first event. `setups`: sockets
    /// set up at once.
    pub fn new(db: DatabaseConnection, queue: usize, bus: SignalBus, setups: usize) -> SharedHub {
        Arc::new(Hub {
            db,
            state: RwLock::new(HubState {
                position: Position::START,
                connections: HashMap::new(),
                watchers: HashMap::new(),
                index: Index::default(),
            }),
            recent: Mutex::new(Recent::default()),
            seen_pending: Arc::new(Mutex::new(HashMap::new())),
            next_id: AtomicU64::new(1),
            queue,
            bus,
            presence: Mutex::new(PresenceBook::default()),
            sending: Arc::new(watch::Sender::new(Sending::default())),
            setups: Arc::new(tokio::sync::Semaphore::new(setups.max(1))),
        })
    }

    /// A turn to set up a socket; held from before its request is authenticated until it has
    /// said hello.
    pub async fn setup_turn(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.setups.clone().acquire_owned().await.ok()
    }

    /// Waits until this node has fanned out the event at `position` and every announcement's
    /// frame it queued has left the sockets' queues, or `limit` has passed (a socket that does
    /// not read holds its queue until it is closed). Work that can wait for the frames to go
    /// out first (an announcement's 30,000 notification rows, its statistics) waits for this,
    /// so that it does not take the machine's cores while they go. Whether it happened.
    pub async fn fanned_out(&self, position: Position, limit: std::time::Duration) -> bool {
        let mut sending = self.sending.subscribe();
        let done = sending.wait_for(|sending| sending.delivered >= position && sending.wide == 0);
        matches!(tokio::time::timeout(limit, done).await, Ok(Ok(_)))
    }

    fn book(&self) -> std::sync::MutexGuard<'_, PresenceBook> {
        self.presence
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HubState> {
        self.state
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HubState> {
        self.state
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a socket; frames for events after the returned position arrive on the receiver.
    pub fn register(
        self: &Arc<Self>,
        person_id: Uuid,
        session_id: Uuid,
    ) -> (Registration, QueueReader, Position) {
        let connection = Arc::new(Connection {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            person_id,
            session_id,
            queue: Mutex::new(VecDeque::new()),
            bound: self.queue.max(1),
            ready: tokio::sync::Notify::new(),
            closed: CancellationToken::new(),
            reason: OnceLock::new(),
            away: AtomicBool::new(false),
            watching: Mutex::new(Vec::new()),
        });
        let position = {
            let mut state = self.write();
            state
                .connections
                .entry(person_id)
                .or_default()
                .push(connection.clone());
            state.position
        };
        metrics::gauge!("plein_ws_connections").increment(1.0);
        self.local_presence_changed(person_id);
        (
            Registration {
                hub: self.clone(),
                connection: connection.clone(),
            },
            QueueReader(connection),
            position,
        )
    }

    fn remove(&self, connection: &Connection) {
        {
            let mut state = self.write();
            if let Some(list) = state.connections.get_mut(&connection.person_id) {
                list.retain(|other| other.id != connection.id);
                if list.is_empty() {
                    state.connections.remove(&connection.person_id);
                }
            }
            let watched = std::mem::take(
                &mut *connection
                    .watching
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
            );
            state.unwatch(connection.id, &watched);
        }
        metrics::gauge!("plein_ws_connections").decrement(1.0);
        self.local_presence_changed(connection.person_id);
    }

    /// A person's tabs on this node changed: report them, tell who watches, remember when an
    /// offline person was last seen.
    fn local_presence_changed(&self, person: Uuid) {
        let state = self.read();
        let local = match state.connections.get(&person) {
            None => PresenceState::Offline,
            Some(list) if list.iter().any(|tab| !tab.away.load(Ordering::Relaxed)) => {
                PresenceState::Online
            }
            Some(_) => PresenceState::Away,
        };
        let mut book = self.book();
        let before = book.state(person);
        if book.set_local(person, local) {
            self.bus.send(Signal::Presence {
                person,
                state: local,
            });
        }
        let after = book.state(person);
        if local == PresenceState::Offline {
            let now = chrono::Utc::now();
            book.seen(person, now);
            self.bus.send(Signal::Seen { person, at: now });
            self.remember_seen(person, now);
        }
        if before != after {
            tell_watchers(&state, person, after, book.last_seen(person));
        }
    }

    /// Writes when someone was last seen, in the background: gathered for a moment and written
    /// in a few statements (thousands of sockets closing at once are not thousands of writes).
    fn remember_seen(&self, person: Uuid, at: chrono::DateTime<chrono::Utc>) {
        let first = {
            let mut pending = self
                .seen_pending
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let first = pending.is_empty();
            pending.insert(person, at);
            first
        };
        if !first {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (db, hub) = (self.db.clone(), self.seen_pending.clone());
        runtime.spawn(async move {
            tokio::time::sleep(SEEN_GATHER).await;
            let gathered: Vec<(Uuid, chrono::DateTime<chrono::Utc>)> = hub
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .drain()
                .collect();
            for chunk in gathered.chunks(500) {
                let rows = chunk.iter().map(|(person, at)| presence_seen::ActiveModel {
                    person_id: sea_orm::Set(*person),
                    last_seen_at: sea_orm::Set(*at),
                });
                let written = presence_seen::Entity::insert_many(rows)
                    .on_conflict(
                        sea_orm::sea_query::OnConflict::column(presence_seen::Column::PersonId)
                            .update_column(presence_seen::Column::LastSeenAt)
                            .to_owned(),
                    )
                    .exec_without_returning(&db)
                    .await;
                if let Err(error) = written {
                    tracing::debug!(%error, "cannot remember when people were last seen");
                }
            }
        });
    }

    /// Takes in the signals of another node.
    fn apply_signals(&self, envelope: Envelope) {
        if envelope.node == self.bus.node {
            return;
        }
        let state = self.read();
        for signal in envelope.signals {
            match signal {
                Signal::Typing {
                    conversation,
                    group,
                    person,
                } => {
                    let conversation = ConversationEvent {
                        id: conversation,
                        kind: if group.is_some() {
                            ConversationKind::Channel
                        } else {
                            ConversationKind::Group
                        },
                        group_id: group,
                    };
                    deliver_typing(&state, &conversation, person);
                }
                Signal::Presence { person, state: now } => {
                    let mut book = self.book();
                    let before = book.state(person);
                    book.set_remote(envelope.node, person, now);
                    let after = book.state(person);
                    if before != after {
                        tell_watchers(&state, person, after, book.last_seen(person));
                    }
                }
                Signal::Snapshot { people } => {
                    let mut book = self.book();
                    for (person, now) in people {
                        let before = book.state(person);
                        book.set_remote(envelope.node, person, now);
                        let after = book.state(person);
                        if before != after {
                            tell_watchers(&state, person, after, book.last_seen(person));
                        }
                    }
                }
                Signal::Alive => self.book().heard(envelope.node),
                Signal::Hello => {
                    let people = self.book().local_people();
                    self.bus.send(Signal::Snapshot { people });
                }
                Signal::Seen { person, at } => self.book().seen(person, at),
            }
        }
    }

    /// Says this node is alive and forgets nodes that fell silent (their people go offline).
    pub fn keep_presence(&self) {
        self.bus.send(Signal::Alive);
        let state = self.read();
        let mut book = self.book();
        for person in book.sweep(std::time::Instant::now()) {
            let now = book.state(person);
            tell_watchers(&state, person, now, book.last_seen(person));
        }
    }

    /// The groups whose posts `person` may read as this node knows them now (public groups
    /// and their own), sorted: the first filter of a post search, which checks what it shows
    /// against the database. A group this node has not heard of yet is not among them.
    pub fn readable_groups(&self, person: Uuid) -> Vec<Uuid> {
        self.read().index.readable_groups(person)
    }

    /// Closes every socket (the node is stopping).
    pub fn close_all(&self) {
        for connection in self.read().connections.values().flatten() {
            connection.close(close::GOING_AWAY, "the server is restarting");
        }
    }

    /// Loads who is in which group and conversation, as of now.
    async fn load(&self) -> anyhow::Result<Position> {
        let head = events::safe_head(&self.db).await?;
        let index = load_index(&self.db).await?;
        let mut state = self.write();
        state.index = index;
        state.position = head;
        drop(state);
        self.sending
            .send_modify(|sending| sending.delivered = sending.delivered.max(head));
        Ok(head)
    }

    /// Whether the person may receive the event's frame (a socket's replay).
    async fn reaches(&self, audience: &Audience, person: Uuid) -> anyhow::Result<bool> {
        if let Audience::Announcement(id, unacknowledged) = audience {
            return Ok(announcement_recipients::Entity::find_by_id((*id, person))
                .one(&self.db)
                .await?
                .is_some_and(|row| !unacknowledged || row.acknowledged_at.is_none()));
        }
        let state = self.read();
        Ok(match audience {
            Audience::Person(id) => *id == person,
            Audience::Group(group, action) => state.index.reads_group(*group, person, *action),
            Audience::Conversation(conversation) => {
                state.index.in_conversation(conversation, person)
            }
            Audience::ConversationAnd(conversation, also) => {
                also.contains(&person) || state.index.in_conversation(conversation, person)
            }
            Audience::People(people) => people.contains(&person),
            Audience::Announcement(..) | Audience::Each(_) => false,
        })
    }

    /// The frame of one event for one person, if it is for them (a socket's replay).
    pub async fn frame_for(
        &self,
        stored: &StoredEvent,
        person: Uuid,
    ) -> anyhow::Result<Option<Utf8Bytes>> {
        let kept = self
            .recent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .by_seq
            .get(&stored.seq)
            .cloned();
        let prepared = match kept {
            Some(kept) => kept,
            None => prepare(&self.db, stored).await?.map(Arc::new),
        };
        match prepared {
            Some(prepared) => self.frame_of(&prepared, person).await,
            None => Ok(None),
        }
    }

    async fn frame_of(
        &self,
        prepared: &Prepared,
        person: Uuid,
    ) -> anyhow::Result<Option<Utf8Bytes>> {
        if let Audience::Each(frames) = &prepared.audience {
            return Ok(frames.get(&person).cloned());
        }
        Ok(self
            .reaches(&prepared.audience, person)
            .await?
            .then(|| prepared.frame.clone()))
    }

    /// A resuming socket's missed frames from memory, and where `since` stands, when the event
    /// numbered `since` is among the latest this node delivered (none: read the outbox).
    pub async fn replay_recent(
        &self,
        since: i64,
        until: Position,
        person: Uuid,
    ) -> anyhow::Result<Option<(Position, Vec<Utf8Bytes>)>> {
        let missed = self
            .recent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .after(since, until);
        let Some((from, missed)) = missed else {
            return Ok(None);
        };
        let mut frames = Vec::new();
        for prepared in missed.iter().flatten() {
            if let Some(frame) = self.frame_of(prepared, person).await? {
                frames.push(frame);
            }
        }
        Ok(Some((from, frames)))
    }

    /// The frame every recipient of an event is queued; an announcement's is counted as a wide
    /// fanout until it has left every queue.
    fn outgoing_of(&self, position: Position, prepared: &Prepared) -> Queued {
        Arc::new(Outgoing {
            position: Some(position),
            text: prepared.frame.clone(),
            _wide: matches!(prepared.audience, Audience::Announcement(..))
                .then(|| WideFanout::new(&self.sending)),
        })
    }

    /// Fans one event out to this node's sockets and updates the index.
    async fn deliver(&self, stored: &StoredEvent) -> anyhow::Result<()> {
        let prepared = prepare(&self.db, stored).await?.map(Arc::new);
        self.recent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .keep(stored.position(), prepared.clone());
        let announcement_people = match prepared.as_ref().map(|prepared| &prepared.audience) {
            Some(Audience::Announcement(id, unacknowledged)) => Some(
                crate::announcements::repo::recipient_ids(&self.db, *id, *unacknowledged).await?,
            ),
            _ => None,
        };
        let mut state = self.write();
        // Membership first: who leaves hears no more, who joins hears from now on.
        state.index.apply(&stored.event);
        if let Some(prepared) = prepared {
            let state = &*state;
            let position = stored.position();
            let frame = self.outgoing_of(position, &prepared);
            let send = |person: &Uuid| {
                if let Some(list) = state.connections.get(person) {
                    for connection in list {
                        connection.push(&frame);
                    }
                }
            };
            match &prepared.audience {
                Audience::Person(person) => send(person),
                Audience::People(people) => people.iter().for_each(send),
                Audience::Announcement(..) => {
                    announcement_people.iter().flatten().for_each(send);
                }
                Audience::Each(frames) => {
                    for (person, frame) in frames {
                        if let Some(list) = state.connections.get(person) {
                            let frame = outgoing(Some(position), frame);
                            for connection in list {
                                connection.push(&frame);
                            }
                        }
                    }
                }
                Audience::Group(group, action) => {
                    for_members(state, *group, |person| {
                        if state.index.reads_group(*group, person, *action) {
                            send(&person);
                        }
                    });
                }
                Audience::Conversation(conversation) => {
                    for_conversation(state, conversation, send);
                }
                Audience::ConversationAnd(conversation, also) => {
                    for_conversation(state, conversation, send);
                    for person in also {
                        let still_in = state.index.in_conversation(conversation, *person);
                        if !still_in {
                            send(person);
                        }
                    }
                }
            }
        }
        // Sockets whose session ended close at once.
        let ending: Vec<Arc<Connection>> = match &stored.event {
            Event::PersonDeactivated { person } => state
                .connections
                .get(&person.id)
                .cloned()
                .unwrap_or_default(),
            Event::SessionsEnded {
                person_id,
                sessions,
                all_but,
            } => state
                .connections
                .get(person_id)
                .into_iter()
                .flatten()
                .filter(|connection| match (sessions.is_empty(), all_but) {
                    (false, _) => sessions.contains(&connection.session_id),
                    (true, Some(kept)) => connection.session_id != *kept,
                    (true, None) => true,
                })
                .cloned()
                .collect(),
            _ => Vec::new(),
        };
        for connection in ending {
            connection.close(close::SESSION_ENDED, "session ended");
        }
        state.position = stored.position();
        drop(state);
        self.sending
            .send_modify(|sending| sending.delivered = stored.position());
        Ok(())
    }
}

/// Calls `each` for the group's members connected to this node, walking whichever is smaller.
fn for_members(state: &HubState, group: Uuid, mut each: impl FnMut(Uuid)) {
    let Some(entry) = state.index.groups.get(&group) else {
        return;
    };
    if entry.members.len() <= state.connections.len() {
        entry
            .members
            .iter()
            .filter(|person| state.connections.contains_key(person))
            .for_each(|person| each(*person));
    } else {
        state
            .connections
            .keys()
            .filter(|person| entry.members.contains(person))
            .for_each(|person| each(*person));
    }
}

fn for_conversation(state: &HubState, conversation: &ConversationEvent, send: impl Fn(&Uuid)) {
    match conversation.group_id {
        Some(group) => for_members(state, group, |person| {
            if state.index.reads_group(group, person, Action::Chat) {
                send(&person);
            }
        }),
        None => {
            if let Some(members) = state.index.conversations.get(&conversation.id) {
                members.iter().for_each(send);
            }
        }
    }
}

fn tell_watchers(
    state: &HubState,
    person: Uuid,
    now: PresenceState,
    last_seen: Option<chrono::DateTime<chrono::Utc>>,
) {
    let Ok(frame) = encode(&ServerFrame::Presence {
        person_id: person,
        state: now,
        last_seen: (now == PresenceState::Offline)
            .then_some(last_seen)
            .flatten(),
    }) else {
        return;
    };
    let frame = outgoing(None, &frame);
    for connection in state.watchers.get(&person).into_iter().flatten() {
        connection.push(&frame);
    }
}

/// Tells the conversation's members on this node (the typist's other tabs aside) who types.
fn deliver_typing(state: &HubState, conversation: &ConversationEvent, person: Uuid) {
    let Ok(frame) = encode(&ServerFrame::Typing {
        conversation_id: conversation.id,
        person_id: person,
    }) else {
        return;
    };
    let frame = outgoing(None, &frame);
    for_conversation(state, conversation, |member| {
        if *member != person
            && let Some(list) = state.connections.get(member)
        {
            for connection in list {
                connection.push(&frame);
            }
        }
    });
}

fn encode(frame: &ServerFrame) -> anyhow::Result<Utf8Bytes> {
    Ok(Utf8Bytes::from(serde_json::to_string(frame)?))
}

async fn message_frame(
    db: &impl ConnectionTrait,
    message: &MessageEvent,
) -> anyhow::Result<MessageFrame> {
    let mentioned = crate::posts::mentions::parse(&message.body);
    let names: HashMap<Uuid, String> = if mentioned.is_empty() {
        HashMap::new()
    } else {
        crate::posts::repo::cards_by_id(db, mentioned)
            .await?
            .into_values()
            .map(|card| (card.id, card.display_name))
            .collect()
    };
    Ok(MessageFrame {
        id: message.id,
        conversation_id: message.conversation.id,
        author_id: message.author_id,
        html: crate::posts::service::render(&message.body, &names),
        body: message.body.clone(),
        client_id: message.client_id.clone(),
        reply_to: message.reply_to,
        created_at: message.created_at,
        edited_at: message.edited_at,
        deleted: false,
    })
}

/// The frame of an event and whom it is for; `None` for events no socket hears about.
async fn prepare(
    db: &DatabaseConnection,
    stored: &StoredEvent,
) -> anyhow::Result<Option<Prepared>> {
    let seq = stored.seq;
    let (frame, audience) = match &stored.event {
        Event::PostCreated { post } => (
            ServerFrame::PostCreated {
                seq,
                post_id: post.id,
                group_id: post.group_id,
                author_id: post.author_id,
            },
            Audience::Group(post.group_id, Action::ReadPosts),
        ),
        Event::PostUpdated { post } => (
            ServerFrame::PostUpdated {
                seq,
                post_id: post.id,
                group_id: post.group_id,
                author_id: post.author_id,
            },
            Audience::Group(post.group_id, Action::ReadPosts),
        ),
        Event::PostDeleted { post } => (
            ServerFrame::PostDeleted {
                seq,
                post_id: post.id,
                group_id: post.group_id,
                author_id: post.author_id,
            },
            Audience::Group(post.group_id, Action::ReadPosts),
        ),
        Event::CommentCreated {
            comment_id,
            post,
            reply_to,
        } => (
            ServerFrame::CommentCreated {
                seq,
                post_id: post.id,
                group_id: post.group_id,
                comment_id: *comment_id,
                reply_to: *reply_to,
            },
            Audience::Group(post.group_id, Action::ReadPosts),
        ),
        Event::ReactionChanged {
            post,
            person_id,
            reaction,
            on,
        } => (
            ServerFrame::ReactionChanged {
                seq,
                post_id: post.id,
                group_id: post.group_id,
                person_id: *person_id,
                reaction: reaction.clone(),
                on: *on,
            },
            Audience::Group(post.group_id, Action::ReadPosts),
        ),
        Event::GroupMembershipChanged {
            group_id,
            person_id,
            state,
            ..
        } => (
            ServerFrame::MembershipChanged {
                seq,
                group_id: *group_id,
                state: *state,
            },
            Audience::Person(*person_id),
        ),
        Event::GroupUpdated { group } => (
            ServerFrame::GroupUpdated {
                seq,
                group_id: group.id,
            },
            Audience::Group(group.id, Action::See),
        ),
        Event::GroupDeleted { group } => {
            // The index forgets the group when it is applied: tell its members by name.
            (
                ServerFrame::GroupDeleted {
                    seq,
                    group_id: group.id,
                },
                Audience::People(group_members_now(db, group.id).await?),
            )
        }
        Event::AnnouncementPublished { id, .. } => (
            ServerFrame::AnnouncementPublished {
                seq,
                announcement_id: *id,
            },
            Audience::Announcement(*id, false),
        ),
        Event::AcknowledgementReminder { id } => (
            ServerFrame::AnnouncementReminder {
                seq,
                announcement_id: *id,
            },
            Audience::Announcement(*id, true),
        ),
        Event::AnnouncementUpdated { id, material, .. } => (
            ServerFrame::AnnouncementUpdated {
                seq,
                announcement_id: *id,
                material: *material,
            },
            Audience::Announcement(*id, false),
        ),
        Event::AnnouncementAcknowledged { id, person_id } => (
            ServerFrame::AnnouncementAcknowledged {
                seq,
                announcement_id: *id,
            },
            Audience::Person(*person_id),
        ),
        Event::ConversationChanged {
            conversation,
            added,
            removed,
        } => (
            ServerFrame::ConversationChanged {
                seq,
                conversation_id: conversation.id,
                kind: conversation.kind,
                added: added.clone(),
                removed: removed.clone(),
            },
            Audience::ConversationAnd(*conversation, removed.clone()),
        ),
        Event::ConversationRead {
            conversation,
            person_id,
            message_id,
        } => (
            ServerFrame::ConversationRead {
                seq,
                conversation_id: conversation.id,
                person_id: *person_id,
                message_id: *message_id,
            },
            Audience::Conversation(*conversation),
        ),
        Event::MessageCreated { message } => (
            ServerFrame::MessageCreated {
                seq,
                message: message_frame(db, message).await?,
            },
            Audience::Conversation(message.conversation),
        ),
        Event::MessageUpdated { message } => (
            ServerFrame::MessageUpdated {
                seq,
                message: message_frame(db, message).await?,
            },
            Audience::Conversation(message.conversation),
        ),
        Event::MessageDeleted { message } => {
            let mut frame = message_frame(db, message).await?;
            frame.deleted = true;
            (
                ServerFrame::MessageDeleted {
                    seq,
                    message: frame,
                },
                Audience::Conversation(message.conversation),
            )
        }
        Event::MessageReactionChanged {
            message_id,
            conversation,
            person_id,
            reaction,
            on,
        } => (
            ServerFrame::MessageReactionChanged {
                seq,
                message_id: *message_id,
                conversation_id: conversation.id,
                person_id: *person_id,
                reaction: reaction.clone(),
                on: *on,
            },
            Audience::Conversation(*conversation),
        ),
        Event::NotificationsChanged { counts } => {
            let mut frames = HashMap::with_capacity(counts.len());
            for count in counts {
                frames.insert(
                    count.person_id,
                    encode(&ServerFrame::NotificationsChanged {
                        seq,
                        unread: count.unread,
                    })?,
                );
            }
            return Ok(Some(Prepared {
                frame: Utf8Bytes::from_static(""),
                audience: Audience::Each(frames),
            }));
        }
        _ => return Ok(None),
    };
    Ok(Some(Prepared {
        frame: encode(&frame)?,
        audience,
    }))
}

async fn group_members_now(db: &DatabaseConnection, group: Uuid) -> anyhow::Result<Vec<Uuid>> {
    Ok(group_members::Entity::find()
        .select_only()
        .column(group_members::Column::PersonId)
        .filter(group_members::Column::GroupId.eq(group))
        .filter(group_members::Column::State.eq(MemberState::Member.as_str()))
        .into_tuple()
        .all(db)
        .await?)
}

/// Calls `each` with every (first, second) pair of a two-column key that passes `filter`,
/// read a chunk at a time in key order.
async fn each_pair<E: EntityTrait>(
    db: &DatabaseConnection,
    (first, second): (E::Column, E::Column),
    filter: sea_orm::sea_query::SimpleExpr,
    mut each: impl FnMut(Uuid, Uuid),
) -> anyhow::Result<()> {
    let mut after: Option<(Uuid, Uuid)> = None;
    loop {
        let mut query = E::find()
            .select_only()
            .column(first)
            .column(second)
            .filter(filter.clone());
        if let Some((a, b)) = after {
            query = query.filter(
                sea_orm::Condition::any()
                    .add(first.gt(a))
                    .add(sea_orm::Condition::all().add(first.eq(a)).add(second.gt(b))),
            );
        }
        let rows: Vec<(Uuid, Uuid)> = query
            .order_by_asc(first)
            .order_by_asc(second)
            .limit(LOAD_CHUNK)
            .into_tuple()
            .all(db)
            .await?;
        let Some(last) = rows.last().copied() else {
            return Ok(());
        };
        after = Some(last);
        for (a, b) in rows {
            each(a, b);
        }
    }
}

/// Every live group with its members, and every direct and group conversation with its
/// members, read a chunk at a time.
async fn load_index(db: &DatabaseConnection) -> anyhow::Result<Index> {
    let mut index = Index::default();
    for group in groups::Entity::find()
        .filter(groups::Column::DeletedAt.is_null())
        .all(db)
        .await?
    {
        index.groups.insert(
            group.id,
            GroupEntry {
                facts: facts(&group),
                members: HashSet::new(),
            },
        );
    }
    each_pair::<group_members::Entity>(
        db,
        (
            group_members::Column::GroupId,
            group_members::Column::PersonId,
        ),
        group_members::Column::State.eq(MemberState::Member.as_str()),
        |group, person| {
            if let Some(entry) = index.groups.get_mut(&group) {
                entry.members.insert(person);
            }
        },
    )
    .await?;
    let channels: Vec<(Uuid, Option<Uuid>)> = conversations::Entity::find()
        .select_only()
        .column(conversations::Column::Id)
        .column(conversations::Column::GroupId)
        .filter(conversations::Column::GroupId.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    index.channels = channels
        .into_iter()
        .filter_map(|(id, group)| group.map(|group| (id, group)))
        .collect();
    let channels = index.channels.clone();
    each_pair::<conversation_members::Entity>(
        db,
        (
            conversation_members::Column::ConversationId,
            conversation_members::Column::PersonId,
        ),
        conversation_members::Column::LeftAt.is_null(),
        |conversation, person| {
            if !channels.contains_key(&conversation) {
                index
                    .conversations
                    .entry(conversation)
                    .or_default()
                    .insert(person);
            }
        },
    )
    .await?;
    Ok(index)
}

/// The hub's outbox consumer: from where the index was loaded, every event is fanned out.
pub struct HubFeeder {
    hub: SharedHub,
    start: Position,
}

impl HubFeeder {
    /// Loads the index; events after the returned position reach the hub.
    pub async fn new(hub: SharedHub) -> anyhow::Result<HubFeeder> {
        let start = hub.load().await?;
        Ok(HubFeeder { hub, start })
    }
}

#[async_trait::async_trait]
impl EventConsumer for HubFeeder {
    fn name(&self) -> &str {
        "realtime"
    }

    async fn position(&self) -> anyhow::Result<i64> {
        Ok(self.start.seq)
    }

    /// Events were pruned before the hub saw them: reload the index, and tell every socket to
    /// reload what it shows.
    async fn resync(&self) -> anyhow::Result<Position> {
        let position = self.hub.load().await?;
        for connection in self.hub.read().connections.values().flatten() {
            connection.close(
                close::TOO_SLOW,
                "the node fell behind: reconnect with since",
            );
        }
        Ok(position)
    }

    async fn apply(&self, batch: &[StoredEvent]) -> anyhow::Result<()> {
        for stored in batch {
            self.hub.deliver(stored).await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl super::socket::Signals for Hub {
    fn typing(&self, connection: &Connection, conversation: Uuid) -> bool {
        let state = self.read();
        let Some(conversation) = state.index.conversation(conversation) else {
            return false;
        };
        if !state
            .index
            .in_conversation(&conversation, connection.person_id)
        {
            return false;
        }
        deliver_typing(&state, &conversation, connection.person_id);
        self.bus.send(Signal::Typing {
            conversation: conversation.id,
            group: conversation.group_id,
            person: connection.person_id,
        });
        true
    }

    fn tab_state(&self, connection: &Connection, state: TabState) {
        connection
            .away
            .store(state == TabState::Away, Ordering::Relaxed);
        self.local_presence_changed(connection.person_id);
    }

    async fn watch(&self, connection: &Arc<Connection>, people: Vec<Uuid>) -> Vec<ServerFrame> {
        let people: Vec<Uuid> = people
            .into_iter()
            .collect::<HashSet<Uuid>>()
            .into_iter()
            .collect();
        self.write().watch(connection, people.clone());
        let known: Vec<(Uuid, PresenceState, Option<chrono::DateTime<chrono::Utc>>)> = {
            let book = self.book();
            people
                .iter()
                .map(|person| (*person, book.state(*person), book.last_seen(*person)))
                .collect()
        };
        let unknown: Vec<Uuid> = known
            .iter()
            .filter(|(_, state, seen)| *state == PresenceState::Offline && seen.is_none())
            .map(|(person, _, _)| *person)
            .collect();
        let stored: HashMap<Uuid, chrono::DateTime<chrono::Utc>> = if unknown.is_empty() {
            HashMap::new()
        } else {
            presence_seen::Entity::find()
                .filter(crate::db::one_of(
                    self.db.get_database_backend(),
                    presence_seen::Column::PersonId,
                    unknown,
                ))
                .all(&self.db)
                .await
                .unwrap_or_default()
                .into_iter()
                .map(|row| (row.person_id, row.last_seen_at))
                .collect()
        };
        known
            .into_iter()
            .map(|(person, state, seen)| ServerFrame::Presence {
                person_id: person,
                state,
                last_seen: (state == PresenceState::Offline)
                    .then(|| seen.or_else(|| stored.get(&person).copied()))
                    .flatten(),
            })
            .collect()
    }
}

/// Signals from other nodes, as the event listener hears them.
pub struct HubSignals(pub SharedHub);

impl crate::events::SignalSink for HubSignals {
    fn received(&self, payload: &str) {
        match serde_json::from_str::<Envelope>(payload) {
            Ok(envelope) => self.0.apply_signals(envelope),
            Err(error) => tracing::warn!(%error, "a signal from another node does not parse"),
        }
    }

    /// Signals were lost while the listener was away: ask the others what stands.
    fn connected(&self) {
        self.0.bus.send(Signal::Hello);
        self.0.bus.send(Signal::Alive);
    }
}

/// Keeps presence across nodes honest: alive signals out, silent nodes forgotten.
pub fn spawn_presence_keeper(
    hub: SharedHub,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(ALIVE_EVERY);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = every.tick() => hub.keep_presence(),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(seq: i64) -> Position {
        Position { xid: seq / 10, seq }
    }

    fn prepared(text: &str) -> Option<Arc<Prepared>> {
        Some(Arc::new(Prepared {
            frame: Utf8Bytes::from(text),
            audience: Audience::Person(Uuid::nil()),
        }))
    }

    fn frames(found: &[Option<Arc<Prepared>>]) -> Vec<String> {
        found
            .iter()
            .map(|kept| {
                kept.as_ref()
                    .map_or_else(|| "-".to_owned(), |kept| kept.frame.as_str().to_owned())
            })
            .collect()
    }

    #[test]
    fn readable_groups_are_the_open_ones_and_my_own_in_order_and_follow_changes() {
        use crate::groups::dto::GroupEvent;
        use crate::groups::policy::{Kind, Visibility};
        let group = |n: u128, visibility: Visibility| GroupEvent {
            id: Uuid::from_u128(n),
            slug: format!("g{n}"),
            name: format!("G{n}"),
            kind: Kind::Casual,
            visibility,
            archived: false,
        };
        let joined =
            |group: u128, person: u128, state: Option<MemberState>| Event::GroupMembershipChanged {
                group_id: Uuid::from_u128(group),
                person_id: Uuid::from_u128(person),
                role: state.map(|_| GroupRole::Member),
                state,
                previous: None,
                by: None,
            };
        let mut index = Index::default();
        for (n, visibility) in [
            (5, Visibility::Public),
            (2, Visibility::Private),
            (9, Visibility::Secret),
            (1, Visibility::Public),
            (7, Visibility::Private),
        ] {
            index.apply(&Event::GroupCreated {
                group: group(n, visibility),
            });
        }
        index.apply(&joined(7, 100, Some(MemberState::Member)));
        index.apply(&joined(9, 100, Some(MemberState::Member)));
        index.apply(&joined(2, 100, Some(MemberState::Requested)));
        let ids = |groups: &[u128]| {
            groups
                .iter()
                .map(|n| Uuid::from_u128(*n))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            index.readable_groups(Uuid::from_u128(100)),
            ids(&[1, 5, 7, 9])
        );
        assert_eq!(index.readable_groups(Uuid::from_u128(101)), ids(&[1, 5]));
        // A public group turned private, a private one public, one deleted, a membership ended.
        index.apply(&Event::GroupUpdated {
            group: group(5, Visibility::Private),
        });
        index.apply(&Event::GroupUpdated {
            group: group(2, Visibility::Public),
        });
        index.apply(&Event::GroupDeleted {
            group: group(1, Visibility::Public),
        });
        index.apply(&joined(9, 100, None));
        assert_eq!(index.readable_groups(Uuid::from_u128(100)), ids(&[2, 7]));
        assert_eq!(index.readable_groups(Uuid::from_u128(101)), ids(&[2]));
    }

    #[test]
    fn recent_events_replay_after_a_kept_one_up_to_the_registration_only() {
        let mut recent = Recent::default();
        for seq in 1..=5 {
            let event = if seq == 3 {
                None
            } else {
                prepared(&format!("e{seq}"))
            };
            recent.keep(at(seq), event);
        }
        let (from, found) = recent
            .after(2, at(4))
            .unwrap_or((Position::START, Vec::new()));
        assert_eq!(from, at(2));
        assert_eq!(
            frames(&found),
            ["-", "e4"],
            "3 has no frame; 5 is after `until`"
        );
        assert_eq!(
            recent.after(5, at(5)).map(|(_, found)| found.len()),
            Some(0)
        );
        assert!(
            recent.after(9, at(5)).is_none(),
            "never kept: the outbox answers"
        );
    }

    #[tokio::test]
    async fn an_announcement_is_fanned_out_once_its_frame_has_left_every_queue() {
        let hub = Hub::new(DatabaseConnection::default(), 8, SignalBus::local(), 1);
        let (_first, mut first_queue, _) = hub.register(Uuid::from_u128(1), Uuid::from_u128(11));
        let (_second, mut second_queue, _) = hub.register(Uuid::from_u128(2), Uuid::from_u128(12));
        let delivered = |position: Position| {
            hub.sending
                .send_modify(|sending| sending.delivered = position);
        };
        let announcement = Prepared {
            frame: Utf8Bytes::from("a"),
            audience: Audience::Announcement(Uuid::nil(), false),
        };
        let frame = hub.outgoing_of(at(5), &announcement);
        for list in hub.read().connections.values() {
            list.iter().for_each(|connection| connection.push(&frame));
        }
        drop(frame);
        let briefly = Duration::from_millis(20);
        assert!(
            !hub.fanned_out(at(5), briefly).await,
            "not delivered yet, and queued"
        );
        delivered(at(5));
        assert!(!hub.fanned_out(at(5), briefly).await, "both queues hold it");
        assert_eq!(first_queue.recv().await.text.as_str(), "a");
        assert!(!hub.fanned_out(at(5), briefly).await, "one queue holds it");
        assert_eq!(second_queue.recv().await.text.as_str(), "a");
        assert!(hub.fanned_out(at(5), Duration::from_secs(10)).await);
        assert!(!hub.fanned_out(at(6), briefly).await, "a later event");
        // Other frames are not waited for.
        let post = Prepared {
            frame: Utf8Bytes::from("p"),
            audience: Audience::Person(Uuid::from_u128(1)),
        };
        let held = hub.outgoing_of(at(6), &post);
        delivered(at(6));
        assert!(hub.fanned_out(at(6), Duration::from_secs(10)).await);
        drop(held);
    }

    #[test]
    fn only_the_latest_events_are_kept() {
        let mut recent = Recent::default();
        let last = i64::try_from(RECENT_PREPARED).unwrap_or(i64::MAX) + 10;
        for seq in 1..=last {
            recent.keep(at(seq), prepared("e"));
        }
        assert_eq!(recent.order.len(), RECENT_PREPARED);
        assert_eq!(recent.by_seq.len(), RECENT_PREPARED);
        assert!(recent.after(10, at(last)).is_none(), "evicted");
        assert!(recent.after(11, at(last)).is_some());
    }
}
