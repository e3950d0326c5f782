//! Chat over REST: every action; what arrives comes over the socket (`/api/v1/ws`).

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::dto::{
    AddMembers, ChangeConversation, ConversationDto, ConversationList, ConversationQuery,
    CreateConversation, EditMessage, HistoryQuery, MessageDto, MessagePage, MessageSearchQuery,
    MessageSearchResults, ReadRequest, SendMessage,
};
use super::service;
use crate::error::{ApiResult, ErrorBody};
use crate::http::{AppJson, AppPath, AppQuery, CurrentPerson};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_conversations, create_conversation))
        .routes(routes!(get_conversation, change_conversation))
        .routes(routes!(add_members))
        .routes(routes!(leave_conversation))
        .routes(routes!(message_history, send_message))
        .routes(routes!(mark_conversation_read))
        .routes(routes!(edit_message, delete_message))
        .routes(routes!(add_message_reaction, remove_message_reaction))
        .routes(routes!(group_channel))
        .routes(routes!(search_messages))
}

/// Search the messages of my conversations, newest first; with the conversations they are in.
#[utoipa::path(
    get, path = "/api/v1/messages/search", tag = "chat",
    params(MessageSearchQuery),
    responses(
        (status = 200, body = MessageSearchResults),
        (status = 403, description = "Not a person (API tokens)", body = ErrorBody),
        (status = 404, description = "`conversation_id` is not one of mine", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("session" = []))
)]
async fn search_messages(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppQuery(query): AppQuery<MessageSearchQuery>,
) -> ApiResult<AppJson<MessageSearchResults>> {
    Ok(AppJson(
        service::search(&state.db, &state.message_search, &person, query).await?,
    ))
}

/// My conversations, most recently active first, with unread counts.
#[utoipa::path(
    get, path = "/api/v1/conversations", tag = "chat",
    params(ConversationQuery),
    responses((status = 200, body = ConversationList), (status = 403, description = "Not a person (API tokens)", body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session" = []))
)]
async fn list_conversations(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppQuery(query): AppQuery<ConversationQuery>,
) -> ApiResult<AppJson<ConversationList>> {
    Ok(AppJson(service::list(&state.db, &person, query).await?))
}

/// Starts a conversation. One other person and no name: the direct conversation between us
/// (200 with the existing one when there is one); otherwise a new group conversation.
#[utoipa::path(
    post, path = "/api/v1/conversations", tag = "chat",
    request_body = CreateConversation,
    responses(
        (status = 201, description = "Started", body = ConversationDto),
        (status = 200, description = "The direct conversation that already existed", body = ConversationDto),
        (status = 422, body = ErrorBody),
    ),
    security(("session" = []))
)]
async fn create_conversation(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppJson(request): AppJson<CreateConversation>,
) -> ApiResult<(StatusCode, AppJson<ConversationDto>)> {
    let (conversation, created) =
        service::create(&state.db, &state.doorbell, &person, request).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, AppJson(conversation)))
}

/// One conversation I am in (404 for anyone else).
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}", tag = "chat",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ConversationDto), (status = 404, body = ErrorBody)),
    security(("session" = []))
)]
async fn get_conversation(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<AppJson<ConversationDto>> {
    Ok(AppJson(service::get(&state.db, &person, id).await?))
}

/// Renames a group conversation; mutes or unmutes a conversation for me.
#[utoipa::path(
    patch, path = "/api/v1/conversations/{id}", tag = "chat",
    params(("id" = Uuid, Path)),
    request_body = ChangeConversation,
    responses((status = 200, body = ConversationDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session" = []))
)]
async fn change_conversation(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
    AppJson(request): AppJson<ChangeConversation>,
) -> ApiResult<AppJson<ConversationDto>> {
    Ok(AppJson(
        service::change(&state.db, &state.doorbell, &person, id, request).await?,
    ))
}

/// Adds people to a group conversation (100 people at most in it).
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/members", tag = "chat",
    params(("id" = Uuid, Path)),
    request_body = AddMembers,
    responses(
        (status = 200, body = ConversationDto),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Not a group conversation (`not_a_group_conversation`) or full (`conversation_full`)", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("session" = []))
)]
async fn add_members(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
    AppJson(request): AppJson<AddMembers>,
) -> ApiResult<AppJson<ConversationDto>> {
    Ok(AppJson(
        service::add_members(&state.db, &state.doorbell, &person, id, request).await?,
    ))
}

/// Leaves a group conversation.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/leave", tag = "chat",
    params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Left"),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Direct conversations and channels are not left (`cannot_leave`)", body = ErrorBody),
    ),
    security(("session" = []))
)]
async fn leave_conversation(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<StatusCode> {
    service::leave(&state.db, &state.doorbell, &person, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// History, oldest first: the newest messages, or those `before`, `after` or `around` one.
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/messages", tag = "chat",
    params(("id" = Uuid, Path), HistoryQuery),
    responses((status = 200, body = MessagePage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session" = []))
)]
async fn message_history(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
    AppQuery(query): AppQuery<HistoryQuery>,
) -> ApiResult<AppJson<MessagePage>> {
    Ok(AppJson(
        service::history(&state.db, &person, id, query).await?,
    ))
}

/// Sends a message. Resending the same `client_id` answers 200 with the message stored the
/// first time.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/messages", tag = "chat",
    params(("id" = Uuid, Path)),
    request_body = SendMessage,
    responses(
        (status = 201, description = "Sent", body = MessageDto),
        (status = 200, description = "Sent before with this `client_id`", body = MessageDto),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The channel's group is archived (`group_archived`)", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("session" = []))
)]
async fn send_message(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
    AppJson(request): AppJson<SendMessage>,
) -> ApiResult<(StatusCode, AppJson<MessageDto>)> {
    let (message, created) =
        service::send(&state.db, &state.doorbell, &person, id, request).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, AppJson(message)))
}

/// Marks the conversation read up to a message (it never moves back).
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/read", tag = "chat",
    params(("id" = Uuid, Path)),
    request_body = ReadRequest,
    responses((status = 200, body = ConversationDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session" = []))
)]
async fn mark_conversation_read(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
    AppJson(request): AppJson<ReadRequest>,
) -> ApiResult<AppJson<ConversationDto>> {
    Ok(AppJson(
        service::mark_read(&state.db, &state.doorbell, &person, id, request).await?,
    ))
}

/// Edits my message (marked edited).
#[utoipa::path(
    patch, path = "/api/v1/messages/{id}", tag = "chat",
    params(("id" = Uuid, Path)),
    request_body = EditMessage,
    responses(
        (status = 200, body = MessageDto),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Deleted (`message_deleted`) or the group is archived (`group_archived`)", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("session" = []))
)]
async fn edit_message(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
    AppJson(request): AppJson<EditMessage>,
) -> ApiResult<AppJson<MessageDto>> {
    Ok(AppJson(
        service::edit(&state.db, &state.doorbell, &person, id, request).await?,
    ))
}

/// Deletes my message (a channel's group admins may delete any): a placeholder stays.
#[utoipa::path(
    delete, path = "/api/v1/messages/{id}", tag = "chat",
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("session" = []))
)]
async fn delete_message(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<StatusCode> {
    service::delete(&state.db, &state.doorbell, &person, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reacts to a message (`like`, `love`, `laugh`, `celebrate`, `insightful`, `sad`); twice is
/// once.
#[utoipa::path(
    put, path = "/api/v1/messages/{id}/reactions/{reaction}", tag = "chat",
    params(("id" = Uuid, Path), ("reaction" = String, Path)),
    responses((status = 200, body = MessageDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session" = []))
)]
async fn add_message_reaction(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath((id, reaction)): AppPath<(Uuid, String)>,
) -> ApiResult<AppJson<MessageDto>> {
    Ok(AppJson(
        service::react(&state.db, &state.doorbell, &person, id, &reaction, true).await?,
    ))
}

/// Takes a reaction back.
#[utoipa::path(
    delete, path = "/api/v1/messages/{id}/reactions/{reaction}", tag = "chat",
    params(("id" = Uuid, Path), ("reaction" = String, Path)),
    responses((status = 200, body = MessageDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session" = []))
)]
async fn remove_message_reaction(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath((id, reaction)): AppPath<(Uuid, String)>,
) -> ApiResult<AppJson<MessageDto>> {
    Ok(AppJson(
        service::react(&state.db, &state.doorbell, &person, id, &reaction, false).await?,
    ))
}

/// A group's channel, for its members (made the first time it is asked for).
#[utoipa::path(
    get, path = "/api/v1/groups/{id}/conversation", tag = "chat",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ConversationDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("session" = []))
)]
async fn group_channel(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<AppJson<ConversationDto>> {
    Ok(AppJson(
        service::channel(&state.db, &state.doorbell, &person, id).await?,
    ))
}
