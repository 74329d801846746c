//! The social graph's vocabulary: friendship states, group roles and notification modes.

use super::{EpochMillis, GroupId, UserId};

/// Friendship row states (SealTalk's constants).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FriendshipStatus {
    Requesting,
    Requested,
    Agreed,
    Ignored,
    Deleted,
}

impl FriendshipStatus {
    pub fn code(self) -> i32 {
        match self {
            FriendshipStatus::Requesting => 10,
            FriendshipStatus::Requested => 11,
            FriendshipStatus::Agreed => 20,
            FriendshipStatus::Ignored => 21,
            FriendshipStatus::Deleted => 30,
        }
    }

    pub fn from_code(code: i32) -> Option<FriendshipStatus> {
        Some(match code {
            10 => FriendshipStatus::Requesting,
            11 => FriendshipStatus::Requested,
            20 => FriendshipStatus::Agreed,
            21 => FriendshipStatus::Ignored,
            30 => FriendshipStatus::Deleted,
            _ => return None,
        })
    }
}

/// A member's role in a group (0 creator, 1 member, 2 manager).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupRole {
    Creator,
    Member,
    Manager,
}

impl GroupRole {
    pub fn code(self) -> i32 {
        match self {
            GroupRole::Creator => 0,
            GroupRole::Member => 1,
            GroupRole::Manager => 2,
        }
    }

    pub fn from_code(code: i32) -> GroupRole {
        match code {
            0 => GroupRole::Creator,
            2 => GroupRole::Manager,
            _ => GroupRole::Member,
        }
    }

    pub fn parse(name: &str) -> Option<GroupRole> {
        match name {
            "creator" => Some(GroupRole::Creator),
            "member" => Some(GroupRole::Member),
            "manager" => Some(GroupRole::Manager),
            _ => None,
        }
    }

    /// Creators and managers may change other members' settings.
    pub fn may_manage_members(self) -> bool {
        matches!(self, GroupRole::Creator | GroupRole::Manager)
    }
}

/// How a member is told about new group messages (`struts`'s `messageRemainMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyMode {
    /// Receive and notify (1).
    Notify,
    /// Receive silently (2).
    Silent,
}

impl NotifyMode {
    pub fn code(self) -> i32 {
        match self {
            NotifyMode::Notify => 1,
            NotifyMode::Silent => 2,
        }
    }

    pub fn from_code(code: i32) -> NotifyMode {
        if code == 2 {
            NotifyMode::Silent
        } else {
            NotifyMode::Notify
        }
    }
}

/// The largest group a creator can make (SealTalk's limit).
pub const MAX_GROUP_MEMBERS: i32 = 500;

/// A group as the core holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub id: GroupId,
    pub name: String,
    pub portrait_uri: String,
    pub creator_id: UserId,
    pub member_count: i64,
    pub max_member_count: i32,
    pub deleted: bool,
    pub updated_at: EpochMillis,
}

/// One membership with its per-member settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    pub group_id: GroupId,
    pub user_id: UserId,
    pub display_name: String,
    pub role: GroupRole,
    pub notify_mode: NotifyMode,
    pub deleted: bool,
    pub updated_at: EpochMillis,
}

/// A change to one's own (or, for managers, another member's) group settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemberSettings {
    pub display_name: Option<String>,
    pub notify_mode: Option<NotifyMode>,
}

/// One side of a friendship.
#[derive(Debug, Clone, PartialEq)]
pub struct Friendship {
    pub user_id: UserId,
    pub friend_id: UserId,
    pub display_name: String,
    pub status: FriendshipStatus,
    pub updated_at: EpochMillis,
}

/// One blacklist row; `active` false once removed (kept so `sync` can report the removal).
#[derive(Debug, Clone, PartialEq)]
pub struct BlacklistEntry {
    pub user_id: UserId,
    pub target_id: UserId,
    pub active: bool,
    pub updated_at: EpochMillis,
}

/// Per-user data versions (millisecond timestamps) that drive incremental sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DataVersions {
    pub user: EpochMillis,
    pub blacklist: EpochMillis,
    pub friendship: EpochMillis,
    pub group: EpochMillis,
    pub group_member: EpochMillis,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for s in [
            FriendshipStatus::Requesting,
            FriendshipStatus::Requested,
            FriendshipStatus::Agreed,
            FriendshipStatus::Ignored,
            FriendshipStatus::Deleted,
        ] {
            assert_eq!(FriendshipStatus::from_code(s.code()), Some(s));
        }
        assert_eq!(FriendshipStatus::from_code(99), None);
        for r in [GroupRole::Creator, GroupRole::Member, GroupRole::Manager] {
            assert_eq!(GroupRole::from_code(r.code()), r);
        }
        assert!(GroupRole::Manager.may_manage_members());
        assert!(!GroupRole::Member.may_manage_members());
        assert_eq!(NotifyMode::from_code(2), NotifyMode::Silent);
    }
}
