//! Who is online, across nodes: this node's own people (from its sockets) and what the other
//! nodes said of theirs, which counts while they are heard from. A person is online if any tab
//! on any node is, away if all their tabs are away, offline otherwise.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::frames::PresenceState;

/// A node not heard from for this long is gone, and its people with it.
pub const NODE_SILENCE: Duration = Duration::from_secs(30);
/// Nodes say they are alive this often.
pub const ALIVE_EVERY: Duration = Duration::from_secs(10);

struct RemoteNode {
    people: HashMap<Uuid, PresenceState>,
    heard: Instant,
}

#[derive(Default)]
pub struct PresenceBook {
    /// What this node last said about each of its people who are not offline.
    local: HashMap<Uuid, PresenceState>,
    remote: HashMap<Uuid, RemoteNode>,
    last_seen: HashMap<Uuid, DateTime<Utc>>,
}

impl PresenceBook {
    /// A person's presence over every node.
    pub fn state(&self, person: Uuid) -> PresenceState {
        let local = self
            .local
            .get(&person)
            .copied()
            .unwrap_or(PresenceState::Offline);
        self.remote
            .values()
            .filter_map(|node| node.people.get(&person).copied())
            .fold(local, Ord::max)
    }

    pub fn last_seen(&self, person: Uuid) -> Option<DateTime<Utc>> {
        self.last_seen.get(&person).copied()
    }

    pub fn seen(&mut self, person: Uuid, at: DateTime<Utc>) {
        let entry = self.last_seen.entry(person).or_insert(at);
        *entry = (*entry).max(at);
    }

    /// This node's view of a person changed; whether this node's report of them changed.
    pub fn set_local(&mut self, person: Uuid, state: PresenceState) -> bool {
        let before = self.local.get(&person).copied();
        if state == PresenceState::Offline {
            self.local.remove(&person);
        } else {
            self.local.insert(person, state);
        }
        before.unwrap_or(PresenceState::Offline) != state
    }

    /// This node's people who are not offline.
    pub fn local_people(&self) -> Vec<(Uuid, PresenceState)> {
        self.local
            .iter()
            .map(|(person, state)| (*person, *state))
            .collect()
    }

    /// Another node is alive.
    pub fn heard(&mut self, node: Uuid) {
        self.remote
            .entry(node)
            .or_insert_with(|| RemoteNode {
                people: HashMap::new(),
                heard: Instant::now(),
            })
            .heard = Instant::now();
    }

    /// What another node says of one of its people.
    pub fn set_remote(&mut self, node: Uuid, person: Uuid, state: PresenceState) {
        self.heard(node);
        if let Some(remote) = self.remote.get_mut(&node) {
            if state == PresenceState::Offline {
                remote.people.remove(&person);
            } else {
                remote.people.insert(person, state);
            }
        }
    }

    /// Forgets nodes not heard from lately; the people whose presence they carried.
    pub fn sweep(&mut self, now: Instant) -> Vec<Uuid> {
        let gone: Vec<Uuid> = self
            .remote
            .iter()
            .filter(|(_, node)| now.duration_since(node.heard) > NODE_SILENCE)
            .map(|(id, _)| *id)
            .collect();
        let mut people = Vec::new();
        for node in gone {
            if let Some(node) = self.remote.remove(&node) {
                people.extend(node.people.into_keys());
            }
        }
        people
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_is_as_present_as_their_most_present_node_until_it_falls_silent() {
        let mut book = PresenceBook::default();
        let anna = Uuid::now_v7();
        let other = Uuid::now_v7();
        assert_eq!(book.state(anna), PresenceState::Offline);
        assert!(book.set_local(anna, PresenceState::Away));
        assert!(!book.set_local(anna, PresenceState::Away));
        assert_eq!(book.state(anna), PresenceState::Away);
        book.set_remote(other, anna, PresenceState::Online);
        assert_eq!(book.state(anna), PresenceState::Online);
        assert!(book.set_local(anna, PresenceState::Offline));
        assert_eq!(
            book.state(anna),
            PresenceState::Online,
            "still on the other node"
        );
        assert!(book.sweep(Instant::now()).is_empty());
        let later = Instant::now() + NODE_SILENCE + Duration::from_secs(1);
        assert_eq!(book.sweep(later), vec![anna]);
        assert_eq!(book.state(anna), PresenceState::Offline);
    }
}
