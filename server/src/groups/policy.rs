//! Who may see and do what with a group: the one place that decides, used by every route and
//! (later) feeds, searches, notifications and the socket hub.
//!
//! - `public`: anyone sees the group, its members and posts, and joins.
//! - `private`: anyone sees its name and description; joining is a request; members and posts
//!   are for members.
//! - `secret`: only members (and people invited) know it exists; to anyone else it is not there
//!   at all (404, never 403). Platform admins may open it by id to archive or delete it.
//! - Owners and admins of a group manage it; posting may be limited to them; archived groups
//!   take no new posts; platform admins may archive or delete any group.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    Public,
    Private,
    Secret,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Work,
    Casual,
}

/// Who may post: every member, or the group's owners and admins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Posting {
    Everyone,
    Admins,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GroupRole {
    Member,
    Admin,
    Owner,
}

/// Where someone stands with a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MemberState {
    Member,
    /// Invited by an owner or admin; the invitee accepts (join) or declines (leave).
    Invited,
    /// Asked to join a private group; an owner or admin approves or declines.
    Requested,
}

macro_rules! text_forms {
    ($kind:ty { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $kind {
            pub fn as_str(self) -> &'static str {
                match self {
                    $(<$kind>::$variant => $text),+
                }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some(<$kind>::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

text_forms!(Visibility { Public => "public", Private => "private", Secret => "secret" });
text_forms!(Kind { Work => "work", Casual => "casual" });
text_forms!(Posting { Everyone => "everyone", Admins => "admins" });
text_forms!(GroupRole { Member => "member", Admin => "admin", Owner => "owner" });
text_forms!(MemberState { Member => "member", Invited => "invited", Requested => "requested" });

/// The person asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    pub person_id: Uuid,
    /// Plein's own admins (role `admin`).
    pub platform_admin: bool,
}

/// What about a group the rules depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupFacts {
    pub visibility: Visibility,
    pub posting: Posting,
    pub archived: bool,
}

/// The viewer's membership row, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub role: GroupRole,
    pub state: MemberState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Know the group exists: its name, description, kind and visibility.
    See,
    ListMembers,
    ReadPosts,
    Post,
    /// Comment on posts and react to them.
    Respond,
    /// Read and write in the group's chat channel (writing stops when it is archived).
    Chat,
    /// Become a member at once (public groups, or accepting an invitation).
    Join,
    /// Ask to join (private groups).
    RequestToJoin,
    /// Invite, approve and decline requests, remove members, change roles, pin, moderate, and
    /// change the group's settings.
    Manage,
    Archive,
    Delete,
}

fn is_member(standing: Option<Standing>) -> bool {
    standing.is_some_and(|standing| standing.state == MemberState::Member)
}

fn manages(standing: Option<Standing>) -> bool {
    standing.is_some_and(|standing| {
        standing.state == MemberState::Member && standing.role >= GroupRole::Admin
    })
}

fn owns(standing: Option<Standing>) -> bool {
    standing.is_some_and(|standing| {
        standing.state == MemberState::Member && standing.role == GroupRole::Owner
    })
}

/// Whether `viewer`, standing as `standing` with `group`, may do `action`.
pub fn allows(
    viewer: &Viewer,
    group: &GroupFacts,
    standing: Option<Standing>,
    action: Action,
) -> bool {
    let open = group.visibility == Visibility::Public;
    let invited = standing.is_some_and(|standing| standing.state == MemberState::Invited);
    match action {
        Action::See => match group.visibility {
            Visibility::Public | Visibility::Private => true,
            Visibility::Secret => standing.is_some() || viewer.platform_admin,
        },
        Action::ListMembers | Action::ReadPosts => open || is_member(standing),
        Action::Post => {
            !group.archived
                && is_member(standing)
                && (group.posting == Posting::Everyone || manages(standing))
        }
        Action::Respond => !group.archived && is_member(standing),
        Action::Chat => is_member(standing),
        Action::Join => !is_member(standing) && !group.archived && (invited || open),
        Action::RequestToJoin => {
            group.visibility == Visibility::Private && !group.archived && standing.is_none()
        }
        Action::Manage => manages(standing),
        Action::Archive | Action::Delete => owns(standing) || viewer.platform_admin,
    }
}

/// Whether a secret group must answer as if it did not exist.
pub fn hidden(viewer: &Viewer, group: &GroupFacts, standing: Option<Standing>) -> bool {
    !allows(viewer, group, standing, Action::See)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACTIONS: [Action; 9] = [
        Action::See,
        Action::ListMembers,
        Action::ReadPosts,
        Action::Post,
        Action::Join,
        Action::RequestToJoin,
        Action::Manage,
        Action::Archive,
        Action::Delete,
    ];

    fn standing(role: GroupRole, state: MemberState) -> Option<Standing> {
        Some(Standing { role, state })
    }

    /// Each row: who, and the actions they may take, per visibility (public, private, secret).
    /// A letter per action in `ACTIONS` order: `y` allowed, `.` not.
    #[test]
    fn the_matrix_of_people_visibilities_and_actions() {
        use GroupRole::{Admin, Member, Owner};
        use MemberState::{Invited, Requested};
        let people: [(&str, bool, Option<Standing>, [&str; 3]); 7] = [
            // name, platform admin, standing, [public, private, secret]
            (
                "owner",
                false,
                standing(Owner, MemberState::Member),
                ["yyyy..yyy", "yyyy..yyy", "yyyy..yyy"],
            ),
            (
                "group admin",
                false,
                standing(Admin, MemberState::Member),
                ["yyyy..y..", "yyyy..y..", "yyyy..y.."],
            ),
            (
                "member",
                false,
                standing(Member, MemberState::Member),
                ["yyyy.....", "yyyy.....", "yyyy....."],
            ),
            (
                "invited",
                false,
                standing(Member, Invited),
                ["yyy.y....", "y...y....", "y...y...."],
            ),
            (
                "requester",
                false,
                standing(Member, Requested),
                ["yyy.y....", "y........", "y........"],
            ),
            (
                "non-member",
                false,
                None,
                ["yyy.y....", "y....y...", "........."],
            ),
            (
                "platform admin",
                true,
                None,
                ["yyy.y..yy", "y....y.yy", "y......yy"],
            ),
        ];
        let visibilities = [Visibility::Public, Visibility::Private, Visibility::Secret];
        for (who, platform_admin, standing, rows) in people {
            let viewer = Viewer {
                person_id: Uuid::nil(),
                platform_admin,
            };
            for (visibility, row) in visibilities.iter().zip(rows) {
                let group = GroupFacts {
                    visibility: *visibility,
                    posting: Posting::Everyone,
                    archived: false,
                };
                let got: String = ACTIONS
                    .iter()
                    .map(|action| {
                        if allows(&viewer, &group, standing, *action) {
                            'y'
                        } else {
                            '.'
                        }
                    })
                    .collect();
                assert_eq!(got, row, "{who} in a {visibility:?} group");
            }
        }
    }

    /// Anyone reads a public group's posts, whatever their standing (or none) and role.
    #[test]
    fn anyone_reads_the_posts_of_any_public_group() {
        for platform_admin in [false, true] {
            let viewer = Viewer {
                person_id: Uuid::nil(),
                platform_admin,
            };
            for posting in [Posting::Everyone, Posting::Admins] {
                for archived in [false, true] {
                    let group = GroupFacts {
                        visibility: Visibility::Public,
                        posting,
                        archived,
                    };
                    for standing in [
                        None,
                        standing(GroupRole::Member, MemberState::Invited),
                        standing(GroupRole::Member, MemberState::Requested),
                        standing(GroupRole::Member, MemberState::Member),
                    ] {
                        assert!(allows(&viewer, &group, standing, Action::ReadPosts));
                    }
                }
            }
        }
    }

    #[test]
    fn archived_groups_and_admin_only_posting_stop_posts_and_joins() {
        let viewer = Viewer {
            person_id: Uuid::nil(),
            platform_admin: false,
        };
        let member = standing(GroupRole::Member, MemberState::Member);
        let admin = standing(GroupRole::Admin, MemberState::Member);
        let admins_only = GroupFacts {
            visibility: Visibility::Public,
            posting: Posting::Admins,
            archived: false,
        };
        assert!(!allows(&viewer, &admins_only, member, Action::Post));
        assert!(allows(&viewer, &admins_only, admin, Action::Post));
        let archived = GroupFacts {
            archived: true,
            ..admins_only
        };
        assert!(!allows(&viewer, &archived, admin, Action::Post));
        assert!(!allows(&viewer, &archived, None, Action::Join));
        assert!(allows(&viewer, &admins_only, member, Action::Respond));
        assert!(!allows(&viewer, &archived, member, Action::Respond));
        assert!(!allows(&viewer, &admins_only, None, Action::Respond));
        assert!(allows(&viewer, &archived, None, Action::ReadPosts));
        assert!(hidden(
            &viewer,
            &GroupFacts {
                visibility: Visibility::Secret,
                ..archived
            },
            None
        ));
    }
}
