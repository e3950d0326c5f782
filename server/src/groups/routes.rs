//! `/api/v1/groups`: groups, joining and leaving, members, invitations and requests.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::dto::{
    CreateGroupRequest, GroupDto, GroupListQuery, InviteRequest, MemberDto, MemberListQuery,
    SetMemberRoleRequest, SuggestedQuery, UpdateGroupRequest,
};
use super::service;
use crate::error::{ApiResult, ErrorBody};
use crate::http::pagination::Page;
use crate::http::{AppJson, AppPath, AppQuery, CurrentPerson, Upload};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_groups, create_group))
        .routes(routes!(get_group, update_group, delete_group))
        .routes(routes!(join_group))
        .routes(routes!(leave_group))
        .routes(routes!(list_members))
        .routes(routes!(set_member_role, remove_member))
        .routes(routes!(invite))
        .routes(routes!(approve_request))
        .routes(routes!(decline_request))
        .routes(routes!(get_cover))
        .routes(routes!(suggested_groups))
        .merge(
            // Pictures are larger than JSON bodies; the handler reads with its own limit.
            OpenApiRouter::new()
                .routes(routes!(set_cover, remove_cover))
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
}

/// Groups to join: public and private ones I am not in, those most colleagues of my department
/// are in first, then the most active. One page (`next_cursor` is always null).
#[utoipa::path(
    get, path = "/api/v1/groups/suggested", tag = "groups",
    params(SuggestedQuery),
    responses((status = 200, body = Page<GroupDto>), (status = 422, body = ErrorBody)),
    security(("session" = []))
)]
async fn suggested_groups(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppQuery(query): AppQuery<SuggestedQuery>,
) -> ApiResult<AppJson<Page<GroupDto>>> {
    Ok(AppJson(Page {
        items: service::suggested(&state.db, &person, query.limit).await?,
        next_cursor: None,
    }))
}

/// Sets the group's cover (owners and admins): JPEG, PNG or WebP up to 5 MiB as the raw body,
/// cropped to 1200×400 and stored without metadata.
#[utoipa::path(
    put, path = "/api/v1/groups/{id}/cover", tag = "groups",
    params(("id" = Uuid, Path)),
    request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses(
        (status = 200, body = GroupDto),
        (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "Not a readable picture or too many pixels", body = ErrorBody),
    ),
    security(("session" = []))
)]
async fn set_cover(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> ApiResult<AppJson<GroupDto>> {
    let upload = Upload::read(&headers, body, crate::directory::photos::MAX_UPLOAD_BYTES).await?;
    Ok(AppJson(
        service::set_cover(
            &state.db,
            &state.doorbell,
            &state.blobs,
            &state.photo_uploads,
            &person,
            id,
            Some(upload),
        )
        .await?,
    ))
}

/// Removes the group's cover (owners and admins).
#[utoipa::path(
    delete, path = "/api/v1/groups/{id}/cover", tag = "groups",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = GroupDto), (status = 403, body = ErrorBody)),
    security(("session" = []))
)]
async fn remove_cover(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<AppJson<GroupDto>> {
    Ok(AppJson(
        service::set_cover(
            &state.db,
            &state.doorbell,
            &state.blobs,
            &state.photo_uploads,
            &person,
            id,
            None,
        )
        .await?,
    ))
}

/// The group's cover picture (JPEG), for whoever may see the group.
#[utoipa::path(
    get, path = "/api/v1/groups/{id}/cover", tag = "groups",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The picture", content_type = "image/jpeg", body = Vec<u8>),
        (status = 304, description = "Not modified"),
        (status = 404, body = ErrorBody),
    ),
    security(("session" = []))
)]
async fn get_cover(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let info = service::cover(&state.db, &state.blobs, &person, id).await?;
    crate::blobs::respond(
        &state.blobs,
        &info,
        &headers,
        vec![(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, max-age=31536000, immutable"),
        )],
    )
    .await
}

/// Groups I may know of, in name order: public and private ones, and secret ones I belong to or
/// am invited to. With `q`, searched by name and description, best match first.
#[utoipa::path(
    get, path = "/api/v1/groups", tag = "groups",
    params(GroupListQuery),
    responses((status = 200, body = Page<GroupDto>), (status = 403, description = "Not a person (API tokens)", body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session" = []))
)]
async fn list_groups(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppQuery(query): AppQuery<GroupListQuery>,
) -> ApiResult<AppJson<Page<GroupDto>>> {
    Ok(AppJson(
        service::list(&state.db, &state.group_search, &person, query).await?,
    ))
}

/// Creates a group; its creator is its first owner.
#[utoipa::path(
    post, path = "/api/v1/groups", tag = "groups",
    request_body = CreateGroupRequest,
    responses(
        (status = 201, body = GroupDto),
        (status = 403, description = "Not a person (API tokens)", body = ErrorBody),
        (status = 409, description = "The slug is taken (`slug_taken`)", body = ErrorBody),
    ),
    security(("session" = []))
)]
async fn create_group(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppJson(request): AppJson<CreateGroupRequest>,
) -> ApiResult<(StatusCode, AppJson<GroupDto>)> {
    let group = service::create(&state.db, &state.doorbell, &person, request).await?;
    Ok((StatusCode::CREATED, AppJson(group)))
}

/// One group. A secret group answers 404 to anyone not in it.
#[utoipa::path(
    get, path = "/api/v1/groups/{id}", tag = "groups",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = GroupDto), (status = 403, description = "Not a person (API tokens)", body = ErrorBody)),
    security(("session" = []))
)]
async fn get_group(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<AppJson<GroupDto>> {
    Ok(AppJson(service::get(&state.db, &person, id).await?))
}

/// Changes a group's settings (its owners and admins) or archives it (owners, Plein's admins).
#[utoipa::path(
    patch, path = "/api/v1/groups/{id}", tag = "groups",
    params(("id" = Uuid, Path)),
    request_body = UpdateGroupRequest,
    responses((status = 200, body = GroupDto), (status = 403, body = ErrorBody)),
    security(("session" = []))
)]
async fn update_group(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
    AppJson(request): AppJson<UpdateGroupRequest>,
) -> ApiResult<AppJson<GroupDto>> {
    Ok(AppJson(
        service::update(&state.db, &state.doorbell, &person, id, request).await?,
    ))
}

/// Deletes a group for everyone (its owners, Plein's admins).
#[utoipa::path(
    delete, path = "/api/v1/groups/{id}", tag = "groups",
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), (status = 403, body = ErrorBody)),
    security(("session" = []))
)]
async fn delete_group(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<StatusCode> {
    service::delete(&state.db, &state.doorbell, &person, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Joins a public group, accepts an invitation, or asks to join a private group (`my_state`
/// says which happened). Joining twice is harmless.
#[utoipa::path(
    post, path = "/api/v1/groups/{id}/join", tag = "groups",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = GroupDto),
        (status = 403, description = "Invitation only", body = ErrorBody),
        (status = 409, description = "Archived (`group_archived`)", body = ErrorBody),
    ),
    security(("session" = []))
)]
async fn join_group(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<AppJson<GroupDto>> {
    Ok(AppJson(
        service::join(&state.db, &state.doorbell, &person, id).await?,
    ))
}

/// Leaves a group, declines an invitation or withdraws a request.
#[utoipa::path(
    post, path = "/api/v1/groups/{id}/leave", tag = "groups",
    params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Done"),
        (status = 403, description = "Not a person (API tokens)", body = ErrorBody),
        (status = 409, description = "The last owner hands over first (`last_owner`)", body = ErrorBody),
    ),
    security(("session" = []))
)]
async fn leave_group(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<StatusCode> {
    service::leave(&state.db, &state.doorbell, &person, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A group's members (`state=member`, for whoever may see them), or its open invitations and
/// requests (`state=invited|requested`, for its owners and admins), paged.
#[utoipa::path(
    get, path = "/api/v1/groups/{id}/members", tag = "groups",
    params(("id" = Uuid, Path), MemberListQuery),
    responses((status = 200, body = Page<MemberDto>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session" = []))
)]
async fn list_members(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
    AppQuery(query): AppQuery<MemberListQuery>,
) -> ApiResult<AppJson<Page<MemberDto>>> {
    Ok(AppJson(
        service::members(&state.db, &person, id, query).await?,
    ))
}

/// Changes a member's role (owners and admins; only owners make or unmake owners).
#[utoipa::path(
    put, path = "/api/v1/groups/{id}/members/{person_id}", tag = "groups",
    params(("id" = Uuid, Path), ("person_id" = Uuid, Path)),
    request_body = SetMemberRoleRequest,
    responses(
        (status = 200, body = MemberDto),
        (status = 403, body = ErrorBody),
        (status = 409, description = "The last owner (`last_owner`)", body = ErrorBody),
    ),
    security(("session" = []))
)]
async fn set_member_role(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath((id, member)): AppPath<(Uuid, Uuid)>,
    AppJson(request): AppJson<SetMemberRoleRequest>,
) -> ApiResult<AppJson<MemberDto>> {
    Ok(AppJson(
        service::set_role(
            &state.db,
            &state.doorbell,
            &person,
            id,
            member,
            request.role,
        )
        .await?,
    ))
}

/// Removes a member or withdraws an invitation (owners and admins; only owners remove owners).
#[utoipa::path(
    delete, path = "/api/v1/groups/{id}/members/{person_id}", tag = "groups",
    params(("id" = Uuid, Path), ("person_id" = Uuid, Path)),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, body = ErrorBody),
        (status = 409, description = "The last owner (`last_owner`)", body = ErrorBody),
    ),
    security(("session" = []))
)]
async fn remove_member(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath((id, member)): AppPath<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    service::remove_member(&state.db, &state.doorbell, &person, id, member).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Invites someone (owners and admins); they accept with `join` or decline with `leave`.
/// Someone who had asked to join becomes a member at once.
#[utoipa::path(
    post, path = "/api/v1/groups/{id}/invitations", tag = "groups",
    params(("id" = Uuid, Path)),
    request_body = InviteRequest,
    responses((status = 201, body = MemberDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session" = []))
)]
async fn invite(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
    AppJson(request): AppJson<InviteRequest>,
) -> ApiResult<(StatusCode, AppJson<MemberDto>)> {
    let member =
        service::invite(&state.db, &state.doorbell, &person, id, request.person_id).await?;
    Ok((StatusCode::CREATED, AppJson(member)))
}

/// Approves a request to join: the requester becomes a member.
#[utoipa::path(
    post, path = "/api/v1/groups/{id}/requests/{person_id}/approve", tag = "groups",
    params(("id" = Uuid, Path), ("person_id" = Uuid, Path)),
    responses((status = 200, body = MemberDto), (status = 403, body = ErrorBody)),
    security(("session" = []))
)]
async fn approve_request(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath((id, requester)): AppPath<(Uuid, Uuid)>,
) -> ApiResult<AppJson<MemberDto>> {
    let member = service::decide_request(&state.db, &state.doorbell, &person, id, requester, true)
        .await?
        .ok_or_else(|| crate::error::ApiError::not_found("request"))?;
    Ok(AppJson(member))
}

/// Declines a request to join.
#[utoipa::path(
    post, path = "/api/v1/groups/{id}/requests/{person_id}/decline", tag = "groups",
    params(("id" = Uuid, Path), ("person_id" = Uuid, Path)),
    responses((status = 204, description = "Declined"), (status = 403, body = ErrorBody)),
    security(("session" = []))
)]
async fn decline_request(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath((id, requester)): AppPath<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    service::decide_request(&state.db, &state.doorbell, &person, id, requester, false).await?;
    Ok(StatusCode::NO_CONTENT)
}
