//! Blacklist, groups and `sync/:version` in the original's shapes (rows 11, 12 and 17–19 of its
//! route table; sync answers raw numeric ids).

use std::collections::HashMap;

use actix_web::{HttpRequest, web};
use serde_json::{Value, json};

use super::error::{Failure, core_error, text};
use super::profile::card_json;
use super::{State, auth, im_token, rules};
use crate::dialects::kit::{Answer, Params, Reply};
use crate::domain::CoreError;
use crate::domain::dates::iso8601_millis;
use crate::domain::profile::ProfileCard;
use crate::domain::{EpochMillis, UserId};

type Ctx = web::Data<State>;

/// `friendId` after the preprocessor decoded it (a missing one is `Empty friendId.`).
fn friend_id(params: &Params) -> Result<UserId, Failure> {
    params
        .value("friendId")
        .and_then(Value::as_i64)
        .ok_or_else(|| Failure::Text(super::wire::TextError::empty("friendId")))
}

/// `POST /user/add_to_blacklist` (route 11): no friendship needed; the target must exist.
pub async fn add_to_blacklist(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    state.answer(blacklist_change(&req, payload, &state, true).await)
}

/// `POST /user/remove_from_blacklist` (route 12): removing someone not blacklisted is fine.
pub async fn remove_from_blacklist(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    state.answer(blacklist_change(&req, payload, &state, false).await)
}

async fn blacklist_change(
    req: &HttpRequest,
    payload: web::Payload,
    state: &State,
    add: bool,
) -> Result<Reply, Failure> {
    let (caller, params) = auth::logged_in(req, payload, state).await?;
    let target = friend_id(&params)?;
    let service = &state.ctx.service;
    let not_a_user = || Failure::not_found(text::NOT_A_USER_ID);
    if add
        && !service
            .user_exists(target)
            .await
            .map_err(|err| core_error(&err))?
    {
        return Err(not_a_user());
    }
    im_token::mirror_blacklist(state, caller.user_id, target, add).await?;
    let changed = if add {
        service.add_to_blacklist(caller.user_id, target).await
    } else {
        service.remove_from_blacklist(caller.user_id, target).await
    };
    match changed {
        Ok(()) => Ok(state.ok(None)),
        Err(CoreError::UserNotFound) if add => Err(not_a_user()),
        Err(CoreError::UserNotFound) => Ok(state.ok(None)),
        Err(err) => Err(core_error(&err)),
    }
}

/// `GET /user/blacklist` (route 17): `[{user:{id, nickname, portraitUri, updatedAt}}]`,
/// `updatedAt` being when the blacklisted user's profile last changed.
pub async fn blacklist(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    state.answer(blacklist_of(&req, payload, &state).await)
}

async fn blacklist_of(
    req: &HttpRequest,
    payload: web::Payload,
    state: &State,
) -> Result<Reply, Failure> {
    let (caller, _) = auth::logged_in(req, payload, state).await?;
    let service = &state.ctx.service;
    let entries = service
        .blacklist(caller.user_id)
        .await
        .map_err(|err| core_error(&err))?;
    let cards = service
        .profile_cards(entries.iter().map(|e| e.target_id).collect())
        .await
        .map_err(|err| core_error(&err))?;
    let cards: HashMap<UserId, &ProfileCard> = cards.iter().map(|c| (c.id, c)).collect();
    let rows: Vec<Value> = entries
        .iter()
        .filter_map(|entry| cards.get(&entry.target_id))
        .map(|card| {
            let mut user = card_json(&state.config, card);
            user["updatedAt"] = json!(iso8601_millis(card.updated_at));
            json!({ "user": user })
        })
        .collect();
    Ok(state.ok(Some(Value::Array(rows))))
}

/// `GET /user/groups` (route 18): `[{role, group:{…}}]`; a dissolved group is `null`.
pub async fn groups(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    state.answer(groups_of(&req, payload, &state).await)
}

async fn groups_of(
    req: &HttpRequest,
    payload: web::Payload,
    state: &State,
) -> Result<Reply, Failure> {
    let (caller, _) = auth::logged_in(req, payload, state).await?;
    let memberships = state
        .ctx
        .service
        .groups_of(caller.user_id)
        .await
        .map_err(|err| core_error(&err))?;
    let config = &state.config;
    let rows: Vec<Value> = memberships
        .iter()
        .filter(|(member, _)| !member.deleted)
        .map(|(member, group)| {
            let group = if group.deleted {
                Value::Null
            } else {
                json!({
                    "id": config.wire_id(group.id),
                    "name": group.name,
                    "portraitUri": group.portrait_uri,
                    "creatorId": config.wire_id(group.creator_id),
                    "memberCount": group.member_count,
                    "maxMemberCount": group.max_member_count,
                })
            };
            json!({ "role": member.role.code(), "group": group })
        })
        .collect();
    Ok(state.ok(Some(Value::Array(rows))))
}

/// `GET /user/sync/:version` (route 19).
pub async fn sync(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    state.answer(changes_since(&req, payload, &state).await)
}

/// `{id, nickname, portraitUri}` with the raw id (sync only).
fn raw_user(cards: &HashMap<UserId, &ProfileCard>, id: UserId) -> Value {
    match cards.get(&id) {
        Some(card) => json!({
            "id": id,
            "nickname": card.nickname,
            "portraitUri": card.avatar_url.clone().unwrap_or_default(),
        }),
        None => Value::Null,
    }
}

async fn changes_since(
    req: &HttpRequest,
    payload: web::Payload,
    state: &State,
) -> Result<Reply, Failure> {
    let (caller, _) = auth::logged_in(req, payload, state).await?;
    let version = rules::sync_version(req.match_info().get("version").unwrap_or_default())?;
    let me = caller.user_id;
    let data = state
        .ctx
        .service
        .sync_since(me, version)
        .await
        .map_err(|err| core_error(&err))?;
    let cards: HashMap<UserId, &ProfileCard> = data.cards.iter().map(|c| (c.id, c)).collect();
    let mut stamps: Vec<EpochMillis> = Vec::new();

    let user = match cards.get(&me) {
        Some(card) if data.versions.user > version => {
            stamps.push(card.updated_at);
            json!({
                "id": me,
                "nickname": card.nickname,
                "portraitUri": card.avatar_url.clone().unwrap_or_default(),
                "timestamp": card.updated_at,
            })
        }
        _ => Value::Null,
    };
    let blacklist: Vec<Value> = data
        .blacklist
        .iter()
        .map(|entry| {
            stamps.push(entry.updated_at);
            json!({
                "friendId": entry.target_id,
                "status": entry.active,
                "timestamp": entry.updated_at,
                "user": raw_user(&cards, entry.target_id),
            })
        })
        .collect();
    let friends: Vec<Value> = data
        .friends
        .iter()
        .map(|friend| {
            stamps.push(friend.updated_at);
            json!({
                "friendId": friend.friend_id,
                "displayName": friend.display_name,
                "status": friend.status.code(),
                "timestamp": friend.updated_at,
                "user": raw_user(&cards, friend.friend_id),
            })
        })
        .collect();
    let groups: Vec<Value> = data
        .groups
        .iter()
        .map(|(member, group)| {
            stamps.push(group.updated_at);
            json!({
                "groupId": group.id,
                "displayName": member.display_name,
                "role": member.role.code(),
                "isDeleted": member.deleted,
                "group": {
                    "id": group.id,
                    "name": group.name,
                    "portraitUri": group.portrait_uri,
                    "timestamp": group.updated_at,
                },
            })
        })
        .collect();
    // The original's fallback to `[]` missed this one: unchanged group data is `null`.
    let group_members = if data.versions.group > version {
        Value::Array(
            data.group_members
                .iter()
                .map(|member| {
                    stamps.push(member.updated_at);
                    json!({
                        "groupId": member.group_id,
                        "memberId": member.user_id,
                        "displayName": member.display_name,
                        "role": member.role.code(),
                        "isDeleted": member.deleted,
                        "timestamp": member.updated_at,
                        "user": raw_user(&cards, member.user_id),
                    })
                })
                .collect(),
        )
    } else {
        Value::Null
    };
    // The maximum of an empty list was -Infinity, which JSON writes as null.
    let version = stamps.into_iter().max().map_or(Value::Null, Value::from);
    Ok(state.ok(Some(json!({
        "version": version,
        "user": user,
        "blacklist": blacklist,
        "friends": friends,
        "groups": groups,
        "group_members": group_members,
    }))))
}
