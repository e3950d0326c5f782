//! Keyset pagination: `?cursor=&limit=` in, `{"items", "next_cursor"}` out.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 200;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Opaque cursor from a previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
}

impl PageQuery {
    pub fn limit(&self) -> ApiResult<u64> {
        checked_limit(self.limit, DEFAULT_LIMIT, MAX_LIMIT)
    }
}

/// A page size a client asked for: `default` when left out, else 1 to `max`.
pub fn checked_limit(limit: Option<u64>, default: u64, max: u64) -> ApiResult<u64> {
    match limit {
        None => Ok(default),
        Some(limit) if (1..=max).contains(&limit) => Ok(limit),
        Some(_) => Err(ApiError::field(
            "limit",
            format!("must be between 1 and {max}"),
        )),
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` fetched rows: the extra row only says a next page exists.
    pub fn from_rows<R>(
        rows: Vec<R>,
        limit: u64,
        cursor_of: impl Fn(&R) -> String,
        convert: impl Fn(R) -> T,
    ) -> Page<T> {
        let (rows, next_cursor) = split_page(rows, limit, cursor_of);
        Page {
            items: rows.into_iter().map(convert).collect(),
            next_cursor,
        }
    }
}

/// The rows of a page from `limit + 1` fetched ones, and the cursor of the next page (none when
/// the extra row is not there), for pages whose items are made afterwards.
pub fn split_page<R>(
    mut rows: Vec<R>,
    limit: u64,
    cursor_of: impl Fn(&R) -> String,
) -> (Vec<R>, Option<String>) {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = if has_more {
        rows.last().map(&cursor_of)
    } else {
        None
    };
    (rows, next_cursor)
}

pub struct Cursor;

impl Cursor {
    pub fn encode_uuid(id: Uuid) -> String {
        URL_SAFE_NO_PAD.encode(id.as_bytes())
    }

    /// A position given by several values (e.g. a name and an id), as JSON.
    pub fn encode_json<T: serde::Serialize>(position: &T) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).unwrap_or_default())
    }

    pub fn decode_json<T: serde::de::DeserializeOwned>(cursor: &str) -> ApiResult<T> {
        URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| ApiError::field("cursor", "is not a cursor this server gave out"))
    }

    /// A position in a ranked list: how many results come before the page.
    pub fn encode_offset(offset: usize) -> String {
        URL_SAFE_NO_PAD.encode(format!("offset:{offset}"))
    }

    pub fn decode_offset(cursor: &str) -> ApiResult<usize> {
        URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|text| text.strip_prefix("offset:")?.parse().ok())
            .ok_or_else(|| ApiError::field("cursor", "is not a cursor this server gave out"))
    }

    pub fn decode_uuid(cursor: &str) -> ApiResult<Uuid> {
        URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|bytes| Uuid::from_slice(&bytes).ok())
            .ok_or_else(|| ApiError::field("cursor", "is not a cursor this server gave out"))
    }
}

/// Longest text a full-text search takes.
pub const MAX_SEARCH_CHARS: usize = 200;

/// A full-text search's words (checked for length) and where its page starts (from an offset
/// cursor).
pub fn search_start(q: Option<String>, cursor: Option<&str>) -> ApiResult<(String, usize)> {
    let text = q.unwrap_or_default();
    if text.chars().count() > MAX_SEARCH_CHARS {
        return Err(ApiError::field(
            "q",
            format!("must be at most {MAX_SEARCH_CHARS} characters"),
        ));
    }
    let offset = cursor.map(Cursor::decode_offset).transpose()?.unwrap_or(0);
    Ok((text, offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_with_an_extra_row_points_at_its_last_item() {
        let page = Page::from_rows(vec![1, 2, 3], 2, |n| n.to_string(), |n| n * 10);
        assert_eq!(page.items, vec![10, 20]);
        assert_eq!(page.next_cursor.as_deref(), Some("2"));
        let last = Page::from_rows(vec![1, 2], 2, |n| n.to_string(), |n| n);
        assert_eq!(last.next_cursor, None);
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() -> ApiResult<()> {
        let id = Uuid::now_v7();
        assert_eq!(Cursor::decode_uuid(&Cursor::encode_uuid(id))?, id);
        assert!(Cursor::decode_uuid("not-a-cursor").is_err());
        assert_eq!(Cursor::decode_offset(&Cursor::encode_offset(250))?, 250);
        assert!(Cursor::decode_offset(&Cursor::encode_uuid(id)).is_err());
        Ok(())
    }
}
