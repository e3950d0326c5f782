//! Posts in a group, one post, its comments and reactions.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::dto::{
    CommentDto, CommentRequest, FeedQuery, GroupFeed, HomeFeed, PostDto, PostSearchQuery,
    PostSearchResults, PostVersionDto, PreviewDto, PreviewRequest, ReactionSummary, Reactor,
    ReactorsQuery, WriteRequest,
};
use super::service;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::pagination::Page;
use crate::http::{AppJson, AppPath, AppQuery, CurrentPerson};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(group_posts, create_post))
        .routes(routes!(get_post, edit_post, delete_post))
        .routes(routes!(list_comments, create_comment))
        .routes(routes!(add_reaction, remove_reaction))
        .routes(routes!(reactors))
        .routes(routes!(pin_post, unpin_post))
        .routes(routes!(post_versions))
        .routes(routes!(home_feed))
        .routes(routes!(search_posts))
        .routes(routes!(preview))
        .routes(routes!(posts_by))
}

/// Home: the posts of every group I am a member of, newest first, keyset-paged; with the first
/// page the announcements pinned for me (unacknowledged required ones first, until expiry).
#[utoipa::path(
    get, path = "/api/v1/feed", tag = "posts",
    params(FeedQuery),
    responses((status = 200, body = HomeFeed), (status = 403, description = "Not a person (API tokens)", body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session" = []))
)]
async fn home_feed(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppQuery(query): AppQuery<FeedQuery>,
) -> ApiResult<AppJson<HomeFeed>> {
    Ok(AppJson(
        service::home(&state.db, &state.recent_posts, &person, query).await?,
    ))
}

/// Markdown rendered and sanitised as a post would show it (mentions as profile links): the
/// composer's preview.
#[utoipa::path(
    post, path = "/api/v1/posts/preview", tag = "posts",
    request_body = PreviewRequest,
    responses((status = 200, body = PreviewDto), (status = 422, body = ErrorBody)),
    security(("session" = []))
)]
async fn preview(
    State(state): State<AppState>,
    CurrentPerson(_person): CurrentPerson,
    AppJson(request): AppJson<PreviewRequest>,
) -> ApiResult<AppJson<PreviewDto>> {
    Ok(AppJson(service::preview(&state.db, &request.body).await?))
}

/// Search posts and comments in the groups I may read, best match first, with counts per group
/// and per author.
#[utoipa::path(
    get, path = "/api/v1/posts/search", tag = "posts",
    params(PostSearchQuery),
    responses((status = 200, body = PostSearchResults), (status = 403, description = "Not a person (API tokens)", body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session" = []))
)]
async fn search_posts(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppQuery(query): AppQuery<PostSearchQuery>,
) -> ApiResult<AppJson<PostSearchResults>> {
    Ok(AppJson(
        service::search(&state.db, &state.post_search, &state.hub, &person, query).await?,
    ))
}

/// What someone wrote, as far as I may read it (public groups and mine), newest first.
#[utoipa::path(
    get, path = "/api/v1/people/{id}/posts", tag = "posts",
    params(("id" = Uuid, Path), FeedQuery),
    responses((status = 200, body = Page<PostDto>), (status = 403, description = "Not a person (API tokens)", body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session" = []))
)]
async fn posts_by(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
    AppQuery(query): AppQuery<FeedQuery>,
) -> ApiResult<AppJson<Page<PostDto>>> {
    Ok(AppJson(
        service::by_author(&state.db, &person, id, query).await?,
    ))
}

/// Pins a post on top of its group's feed (the group's owners and admins; three at most).
#[utoipa::path(
    put, path = "/api/v1/posts/{id}/pin", tag = "posts",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = PostDto),
        (status = 403, body = ErrorBody),
        (status = 409, description = "Three posts are pinned already (`too_many_pins`), or it was deleted", body = ErrorBody),
    ),
    security(("session" = []))
)]
async fn pin_post(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<AppJson<PostDto>> {
    Ok(AppJson(
        service::pin(&state.db, &state.doorbell, &person, id, true).await?,
    ))
}

/// Unpins a post.
#[utoipa::path(
    delete, path = "/api/v1/posts/{id}/pin", tag = "posts",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = PostDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("session" = []))
)]
async fn unpin_post(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<AppJson<PostDto>> {
    Ok(AppJson(
        service::pin(&state.db, &state.doorbell, &person, id, false).await?,
    ))
}

/// What a post said before each edit and before its deletion (the group's owners and admins).
#[utoipa::path(
    get, path = "/api/v1/posts/{id}/versions", tag = "posts",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<PostVersionDto>), (status = 403, body = ErrorBody)),
    security(("session" = []))
)]
async fn post_versions(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<AppJson<Vec<PostVersionDto>>> {
    Ok(AppJson(service::versions(&state.db, &person, id).await?))
}

/// A group's posts, newest first; the page stays put while new posts arrive.
#[utoipa::path(
    get, path = "/api/v1/groups/{id}/posts", tag = "posts",
    params(("id" = Uuid, Path), FeedQuery),
    responses((status = 200, body = GroupFeed), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session" = []))
)]
async fn group_posts(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
    AppQuery(query): AppQuery<FeedQuery>,
) -> ApiResult<AppJson<GroupFeed>> {
    Ok(AppJson(service::feed(&state.db, &person, id, query).await?))
}

/// Posts in a group (its members; only its admins when posting is limited to them). A retry
/// with the same `Idempotency-Key` header answers the post already stored.
#[utoipa::path(
    post, path = "/api/v1/groups/{id}/posts", tag = "posts",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Up to 200 visible ASCII characters, unique per post")),
    request_body = WriteRequest,
    responses(
        (status = 201, body = PostDto),
        (status = 403, body = ErrorBody),
        (status = 409, description = "The group is archived (`group_archived`)", body = ErrorBody),
    ),
    security(("session" = []))
)]
async fn create_post(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
    headers: HeaderMap,
    AppJson(request): AppJson<WriteRequest>,
) -> ApiResult<(StatusCode, AppJson<PostDto>)> {
    let key =
        match headers.get("idempotency-key") {
            None => None,
            Some(value) => Some(value.to_str().map_err(|_| {
                ApiError::field("Idempotency-Key", "must be visible ASCII characters")
            })?),
        };
    let post = service::create(
        &state.db,
        &state.doorbell,
        &state.recent_posts,
        &person,
        id,
        request,
        key,
    )
    .await?;
    Ok((StatusCode::CREATED, AppJson(post)))
}

/// One post, if the caller may read its group's posts.
#[utoipa::path(
    get, path = "/api/v1/posts/{id}", tag = "posts",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = PostDto), (status = 403, description = "Not a person (API tokens)", body = ErrorBody)),
    security(("session" = []))
)]
async fn get_post(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<AppJson<PostDto>> {
    Ok(AppJson(service::get(&state.db, &person, id).await?))
}

/// Edits one's own post; it shows as edited, and the group's admins keep the earlier text.
#[utoipa::path(
    patch, path = "/api/v1/posts/{id}", tag = "posts",
    params(("id" = Uuid, Path)),
    request_body = WriteRequest,
    responses(
        (status = 200, body = PostDto),
        (status = 403, body = ErrorBody),
        (status = 409, description = "The group is archived (`group_archived`)", body = ErrorBody),
    ),
    security(("session" = []))
)]
async fn edit_post(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
    AppJson(request): AppJson<WriteRequest>,
) -> ApiResult<AppJson<PostDto>> {
    Ok(AppJson(
        service::edit(&state.db, &state.doorbell, &person, id, request).await?,
    ))
}

/// Deletes a post (its author, the group's owners and admins); with comments it keeps its place
/// as "deleted".
#[utoipa::path(
    delete, path = "/api/v1/posts/{id}", tag = "posts",
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), (status = 403, body = ErrorBody)),
    security(("session" = []))
)]
async fn delete_post(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<StatusCode> {
    service::delete(&state.db, &state.doorbell, &person, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A post's comments, oldest first; a reply quotes the comment it answers.
#[utoipa::path(
    get, path = "/api/v1/posts/{id}/comments", tag = "posts",
    params(("id" = Uuid, Path), FeedQuery),
    responses((status = 200, body = Page<CommentDto>), (status = 403, description = "Not a person (API tokens)", body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session" = []))
)]
async fn list_comments(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
    AppQuery(query): AppQuery<FeedQuery>,
) -> ApiResult<AppJson<Page<CommentDto>>> {
    Ok(AppJson(
        service::comments(&state.db, &person, id, query).await?,
    ))
}

/// Comments on a post (members of its group), optionally answering another comment.
#[utoipa::path(
    post, path = "/api/v1/posts/{id}/comments", tag = "posts",
    params(("id" = Uuid, Path)),
    request_body = CommentRequest,
    responses(
        (status = 201, body = CommentDto),
        (status = 403, body = ErrorBody),
        (status = 409, description = "The post was deleted (`post_deleted`)", body = ErrorBody),
    ),
    security(("session" = []))
)]
async fn create_comment(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
    AppJson(request): AppJson<CommentRequest>,
) -> ApiResult<(StatusCode, AppJson<CommentDto>)> {
    let comment = service::comment(&state.db, &state.doorbell, &person, id, request).await?;
    Ok((StatusCode::CREATED, AppJson(comment)))
}

/// Who reacted to a post, newest first (optionally one reaction).
#[utoipa::path(
    get, path = "/api/v1/posts/{id}/reactions", tag = "posts",
    params(("id" = Uuid, Path), ReactorsQuery),
    responses((status = 200, body = Page<Reactor>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session" = []))
)]
async fn reactors(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
    AppQuery(query): AppQuery<ReactorsQuery>,
) -> ApiResult<AppJson<Page<Reactor>>> {
    Ok(AppJson(
        service::reactors(&state.db, &person, id, query).await?,
    ))
}

/// Gives a reaction (`like`, `love`, `laugh`, `celebrate`, `insightful`, `sad`); twice is once.
#[utoipa::path(
    put, path = "/api/v1/posts/{id}/reactions/{reaction}", tag = "posts",
    params(("id" = Uuid, Path), ("reaction" = String, Path)),
    responses(
        (status = 200, body = ReactionSummary),
        (status = 403, body = ErrorBody),
        (status = 409, description = "The post was deleted (`post_deleted`)", body = ErrorBody),
        (status = 422, description = "Not one of the reactions", body = ErrorBody),
    ),
    security(("session" = []))
)]
async fn add_reaction(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath((id, reaction)): AppPath<(Uuid, String)>,
) -> ApiResult<AppJson<ReactionSummary>> {
    Ok(AppJson(
        service::react(&state.db, &state.doorbell, &person, id, &reaction, true).await?,
    ))
}

/// Takes a reaction back; twice is once.
#[utoipa::path(
    delete, path = "/api/v1/posts/{id}/reactions/{reaction}", tag = "posts",
    params(("id" = Uuid, Path), ("reaction" = String, Path)),
    responses(
        (status = 200, body = ReactionSummary),
        (status = 403, body = ErrorBody),
        (status = 409, description = "The post was deleted (`post_deleted`)", body = ErrorBody),
        (status = 422, description = "Not one of the reactions", body = ErrorBody),
    ),
    security(("session" = []))
)]
async fn remove_reaction(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath((id, reaction)): AppPath<(Uuid, String)>,
) -> ApiResult<AppJson<ReactionSummary>> {
    Ok(AppJson(
        service::react(&state.db, &state.doorbell, &person, id, &reaction, false).await?,
    ))
}
