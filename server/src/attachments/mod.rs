//! Files attached to posts, comments and announcements. A file is uploaded first (answering its
//! id), then named in the post, comment or announcement that carries it. Its type is sniffed from
//! its content, never taken from the client: real raster pictures (JPEG, PNG, WebP, GIF) are
//! decoded under limits and get a JPEG thumbnail; everything else is served only as a download.
//! A download is authorised exactly like what carries it; an upload not yet attached is its
//! uploader's alone, and is removed after a day.

pub mod routes;

use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::Response;
use chrono::{SubsecRound as _, Utc};
use image::ImageFormat;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthenticatedPerson;
use crate::blobs::Blobs;
use crate::entities::{attachments, comments};
use crate::error::{ApiError, ApiResult};
use crate::images::{self, UploadLimiter};

/// Files one post, comment or announcement carries.
pub const MAX_PER_ITEM: usize = 10;
/// Thumbnails fit in this square.
pub const THUMBNAIL_EDGE: u32 = 800;
const MAX_NAME_CHARS: usize = 255;
/// Uploads never attached are removed after this long.
pub const UNATTACHED_HOURS: i64 = 24;

/// What a file is, as far as showing it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AttachmentKind {
    /// A picture: shown inline, with a thumbnail.
    Image,
    /// Anything else: offered as a download.
    File,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AttachmentDto {
    pub id: Uuid,
    /// The file's name as uploaded (cleaned of paths and control characters).
    pub name: String,
    /// Sniffed from the content.
    pub content_type: String,
    pub size: u64,
    pub kind: AttachmentKind,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub url: String,
    /// Images only: a JPEG at most 800 px on its longer edge.
    pub thumbnail_url: Option<String>,
}

impl From<attachments::Model> for AttachmentDto {
    fn from(row: attachments::Model) -> Self {
        let image = row.thumbnail_key.is_some();
        AttachmentDto {
            url: format!("/api/v1/attachments/{}", row.id),
            thumbnail_url: image.then(|| format!("/api/v1/attachments/{}/thumbnail", row.id)),
            id: row.id,
            name: row.file_name,
            content_type: row.content_type,
            size: u64::try_from(row.size).unwrap_or_default(),
            kind: if image {
                AttachmentKind::Image
            } else {
                AttachmentKind::File
            },
            width: row.width.and_then(|value| u32::try_from(value).ok()),
            height: row.height.and_then(|value| u32::try_from(value).ok()),
        }
    }
}

/// What carries a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Owner {
    Post(Uuid),
    Comment(Uuid),
    Announcement(Uuid),
    Message(Uuid),
}

impl Owner {
    fn column(self) -> (attachments::Column, Uuid) {
        match self {
            Owner::Post(id) => (attachments::Column::PostId, id),
            Owner::Comment(id) => (attachments::Column::CommentId, id),
            Owner::Announcement(id) => (attachments::Column::AnnouncementId, id),
            Owner::Message(id) => (attachments::Column::MessageId, id),
        }
    }

    fn of(row: &attachments::Model) -> Option<Owner> {
        row.post_id
            .map(Owner::Post)
            .or(row.comment_id.map(Owner::Comment))
            .or(row.announcement_id.map(Owner::Announcement))
            .or(row.message_id.map(Owner::Message))
    }
}

/// The last segment of an uploaded name, without control characters, at most 255 characters;
/// "file" when nothing is left.
pub fn clean_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
        .take(MAX_NAME_CHARS)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    if cleaned.is_empty() {
        "file".to_owned()
    } else {
        cleaned.to_owned()
    }
}

/// The media type of some content, from its first bytes; the picture format when it is one
/// Plein decodes.
pub fn sniff(bytes: &[u8]) -> (String, Option<ImageFormat>) {
    if let Some(format) = image::guess_format(bytes)
        .ok()
        .filter(|format| images::decodable(*format))
    {
        return (format.to_mime_type().to_owned(), Some(format));
    }
    if let Some(kind) = infer::get(bytes) {
        return (kind.mime_type().to_owned(), None);
    }
    if !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok() {
        return ("text/plain; charset=utf-8".to_owned(), None);
    }
    ("application/octet-stream".to_owned(), None)
}

/// Decodes a picture and makes its thumbnail: (width, height, JPEG).
fn thumbnail(bytes: &[u8], format: ImageFormat) -> ApiResult<(u32, u32, Vec<u8>)> {
    let picture = images::decode(bytes, &[format])?;
    let (width, height) = (picture.width(), picture.height());
    let small = if width > THUMBNAIL_EDGE || height > THUMBNAIL_EDGE {
        picture.thumbnail(THUMBNAIL_EDGE, THUMBNAIL_EDGE)
    } else {
        picture
    };
    Ok((width, height, images::jpeg(&small)?))
}

fn blob_key(id: Uuid) -> String {
    format!("attachments/{id}/file")
}

fn thumbnail_key(id: Uuid) -> String {
    format!("attachments/{id}/thumbnail.jpg")
}

/// Stores an upload, not yet attached to anything.
pub async fn upload(
    db: &DatabaseConnection,
    blobs: &Blobs,
    limiter: &UploadLimiter,
    person: &AuthenticatedPerson,
    name: &str,
    bytes: bytes::Bytes,
) -> ApiResult<AttachmentDto> {
    if bytes.is_empty() {
        return Err(ApiError::field("body", "the file is empty"));
    }
    limiter.check(person.id)?;
    let (content_type, format) = sniff(&bytes);
    let picture = match format {
        Some(format) => {
            let bytes = bytes.clone();
            Some(images::process(move || thumbnail(&bytes, format)).await?)
        }
        None => None,
    };
    let id = Uuid::now_v7();
    let row = attachments::Model {
        id,
        uploader_id: person.id,
        file_name: clean_name(name),
        content_type: content_type.clone(),
        size: i64::try_from(bytes.len()).map_err(ApiError::internal)?,
        width: picture
            .as_ref()
            .and_then(|(width, _, _)| i32::try_from(*width).ok()),
        height: picture
            .as_ref()
            .and_then(|(_, height, _)| i32::try_from(*height).ok()),
        blob_key: blob_key(id),
        thumbnail_key: picture.as_ref().map(|_| thumbnail_key(id)),
        post_id: None,
        comment_id: None,
        announcement_id: None,
        message_id: None,
        position: 0,
        created_at: Utc::now().trunc_subsecs(6),
    };
    let stored = async {
        blobs
            .put_bytes(&row.blob_key, &content_type, bytes.to_vec())
            .await?;
        if let Some((_, _, jpeg)) = picture {
            blobs
                .put_bytes(&thumbnail_key(id), "image/jpeg", jpeg)
                .await?;
        }
        attachments::Entity::insert(attachments::ActiveModel::from(row.clone()))
            .exec_without_returning(db)
            .await?;
        anyhow::Ok(())
    }
    .await;
    if let Err(error) = stored {
        remove_blobs(blobs, &row).await;
        return Err(ApiError::internal(error));
    }
    Ok(AttachmentDto::from(row))
}

async fn remove_blobs(blobs: &Blobs, row: &attachments::Model) {
    for key in std::iter::once(&row.blob_key).chain(row.thumbnail_key.as_ref()) {
        if let Err(error) = blobs.delete(key).await {
            tracing::warn!(%key, error = %format!("{error:#}"), "cannot remove an attachment's file");
        }
    }
}

/// Makes `ids` (in this order) the files `owner` carries, in the caller's transaction: each must
/// be the person's own upload, not attached elsewhere. Files `owner` carried before and no longer
/// does are let go (and removed with the unattached ones).
pub async fn attach(
    db: &impl ConnectionTrait,
    uploader: Uuid,
    owner: Owner,
    ids: &[Uuid],
) -> ApiResult<()> {
    if ids.len() > MAX_PER_ITEM {
        return Err(ApiError::field(
            "attachments",
            format!("at most {MAX_PER_ITEM} files"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(twice) = ids.iter().find(|id| !seen.insert(**id)) {
        return Err(ApiError::field(
            "attachments",
            format!("names {twice} twice"),
        ));
    }
    let (column, owner_id) = owner.column();
    let rows: HashMap<Uuid, attachments::Model> = attachments::Entity::find()
        .filter(crate::db::one_of(
            db.get_database_backend(),
            attachments::Column::Id,
            ids.iter().copied(),
        ))
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.id, row))
        .collect();
    for id in ids {
        let usable = rows.get(id).is_some_and(|row| {
            row.uploader_id == uploader && Owner::of(row).is_none_or(|now| now == owner)
        });
        if !usable {
            return Err(ApiError::field(
                "attachments",
                format!("{id} is not a file you uploaded that is free to attach"),
            ));
        }
    }
    attachments::Entity::update_many()
        .col_expr(column, Expr::value(Option::<Uuid>::None))
        .filter(column.eq(owner_id))
        .filter(attachments::Column::Id.is_not_in(ids.iter().copied()))
        .exec(db)
        .await?;
    for (position, id) in ids.iter().enumerate() {
        attachments::Entity::update_many()
            .col_expr(column, Expr::value(Some(owner_id)))
            .col_expr(
                attachments::Column::Position,
                Expr::value(i32::try_from(position).unwrap_or(i32::MAX)),
            )
            .filter(attachments::Column::Id.eq(*id))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// The files each of `ids` carries, in order; `owner` says what kind of thing they are
/// (`Owner::Post` and so on).
pub async fn of(
    db: &impl ConnectionTrait,
    owner: fn(Uuid) -> Owner,
    ids: &[Uuid],
) -> ApiResult<HashMap<Uuid, Vec<AttachmentDto>>> {
    let mut result: HashMap<Uuid, Vec<AttachmentDto>> = HashMap::new();
    if ids.is_empty() {
        return Ok(result);
    }
    let (column, _) = owner(Uuid::nil()).column();
    let rows = attachments::Entity::find()
        .filter(crate::db::one_of(
            db.get_database_backend(),
            column,
            ids.iter().copied(),
        ))
        .order_by_asc(attachments::Column::Position)
        .all(db)
        .await?;
    for row in rows {
        if let Some(found) = Owner::of(&row) {
            result
                .entry(found.column().1)
                .or_default()
                .push(AttachmentDto::from(row));
        }
    }
    Ok(result)
}

/// May `person` read what carries `row`?
async fn may_read(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
    row: &attachments::Model,
) -> ApiResult<bool> {
    Ok(match Owner::of(row) {
        None => row.uploader_id == person.id,
        Some(Owner::Post(post)) => crate::posts::service::readable_live(db, person, post).await?,
        Some(Owner::Comment(comment)) => {
            match comments::Entity::find_by_id(comment).one(db).await? {
                Some(comment) if comment.deleted_at.is_none() => {
                    crate::posts::service::readable_live(db, person, comment.post_id).await?
                }
                _ => false,
            }
        }
        Some(Owner::Announcement(announcement)) => {
            crate::announcements::service::may_read(db, person, announcement).await?
        }
        Some(Owner::Message(message)) => {
            crate::chat::service::may_read_message(db, person, message).await?
        }
    })
}

/// Serves a file (or its thumbnail) to someone who may read what carries it; 404 to anyone
/// else, so ids reveal nothing.
pub async fn download(
    db: &DatabaseConnection,
    blobs: &Blobs,
    person: &AuthenticatedPerson,
    id: Uuid,
    thumbnail: bool,
    request: &HeaderMap,
) -> ApiResult<Response> {
    let row = attachments::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|row| !thumbnail || row.thumbnail_key.is_some())
        .ok_or_else(|| ApiError::not_found("attachment"))?;
    if !may_read(db, person, &row).await? {
        return Err(ApiError::not_found("attachment"));
    }
    let key = if thumbnail {
        row.thumbnail_key.clone().unwrap_or_default()
    } else {
        row.blob_key.clone()
    };
    let info = blobs
        .info(&key)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("attachment"))?;
    let inline = row.thumbnail_key.is_some();
    let name = if thumbnail {
        format!("{}.jpg", row.file_name)
    } else {
        row.file_name.clone()
    };
    let headers = vec![
        (header::CONTENT_DISPOSITION, disposition(inline, &name)?),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, max-age=3600"),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            HeaderName::from_static("content-security-policy"),
            HeaderValue::from_static("default-src 'none'; sandbox"),
        ),
    ];
    crate::blobs::respond(blobs, &info, request, headers).await
}

/// `Content-Disposition` with the name in RFC 6266's UTF-8 form, and an ASCII fallback.
fn disposition(inline: bool, name: &str) -> ApiResult<HeaderValue> {
    const SPECIAL: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = percent_encoding::utf8_percent_encode(name, SPECIAL);
    let kind = if inline { "inline" } else { "attachment" };
    HeaderValue::from_str(&format!(
        "{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .map_err(ApiError::internal)
}

/// Removes uploads that were never attached (or were let go) more than a day ago.
pub async fn remove_unattached(db: &DatabaseConnection, blobs: &Blobs) -> ApiResult<usize> {
    let cutoff = Utc::now() - chrono::Duration::hours(UNATTACHED_HOURS);
    let rows = attachments::Entity::find()
        .filter(attachments::Column::PostId.is_null())
        .filter(attachments::Column::CommentId.is_null())
        .filter(attachments::Column::AnnouncementId.is_null())
        .filter(attachments::Column::MessageId.is_null())
        .filter(attachments::Column::CreatedAt.lt(cutoff))
        .all(db)
        .await?;
    let mut removed = 0;
    for row in rows {
        // Only if it is still unattached: a post may have taken it meanwhile.
        let gone = attachments::Entity::delete_many()
            .filter(attachments::Column::Id.eq(row.id))
            .filter(attachments::Column::PostId.is_null())
            .filter(attachments::Column::CommentId.is_null())
            .filter(attachments::Column::AnnouncementId.is_null())
            .filter(attachments::Column::MessageId.is_null())
            .exec(db)
            .await?;
        if gone.rows_affected == 1 {
            remove_blobs(blobs, &row).await;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_paths_and_controls() {
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("C:\\Users\\me\\report.pdf"), "report.pdf");
        assert_eq!(clean_name("a\u{0}b\nc.txt"), "abc.txt");
        assert_eq!(clean_name("evil\u{202e}gpj.exe"), "evilgpj.exe");
        assert_eq!(clean_name("  "), "file");
        assert_eq!(clean_name(".htaccess"), "htaccess");
        assert_eq!(clean_name(&"é".repeat(400)).chars().count(), MAX_NAME_CHARS);
    }

    #[test]
    fn content_decides_the_type_not_the_name() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n....").1, Some(ImageFormat::Png));
        assert_eq!(sniff(b"%PDF-1.7\n").0, "application/pdf");
        assert_eq!(
            sniff(b"<svg onload=alert(1)>").0,
            "text/plain; charset=utf-8"
        );
        assert_eq!(sniff(b"\x00\x01\x02\xff").0, "application/octet-stream");
    }

    #[test]
    fn dispositions_carry_unicode_names_safely() {
        let value = disposition(false, "verslag \"Q3\" ü.pdf").expect("header");
        assert_eq!(
            value.to_str().expect("ascii"),
            "attachment; filename=\"verslag _Q3_ _.pdf\"; filename*=UTF-8''verslag%20%22Q3%22%20%C3%BC.pdf"
        );
    }
}
