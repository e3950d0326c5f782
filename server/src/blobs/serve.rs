//! Downloads of blobs over HTTP: a strong ETag (the content hash) with `If-None-Match`, and
//! single byte ranges (`Range`, `If-Range`) answered with 206, or 416 when unsatisfiable.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_range_header::RangeUnsatisfiableError;

use super::{BlobInfo, Blobs};
use crate::error::ApiError;
use crate::http::etag_matches;

/// Bytes `start..=end` of a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

/// What part of a blob a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requested {
    Whole,
    Part(ByteRange),
    Unsatisfiable,
}

/// Reads `Range` and `If-Range`. Several ranges, a malformed header or an `If-Range` naming
/// another version mean the whole blob, as RFC 9110 allows.
pub fn requested_range(headers: &HeaderMap, size: u64, etag: &str) -> Requested {
    let Some(range) = headers
        .get(header::RANGE)
        .and_then(|value| value.to_str().ok())
    else {
        return Requested::Whole;
    };
    if let Some(condition) = headers.get(header::IF_RANGE)
        && condition.to_str().ok().map(str::trim) != Some(etag)
    {
        return Requested::Whole;
    }
    let parsed = match http_range_header::parse_range_header(range) {
        Ok(parsed) => parsed,
        Err(RangeUnsatisfiableError::Unsatisfiable) => return Requested::Unsatisfiable,
        Err(_) => return Requested::Whole,
    };
    match parsed.validate(size) {
        Ok(ranges) => match ranges.as_slice() {
            [only] => Requested::Part(ByteRange {
                start: *only.start(),
                end: *only.end(),
            }),
            _ => Requested::Whole,
        },
        Err(RangeUnsatisfiableError::Unsatisfiable) => Requested::Unsatisfiable,
        Err(_) => Requested::Whole,
    }
}

/// Answers a download of `info`, with `headers_out` (cache and disposition) added.
pub async fn respond(
    blobs: &Blobs,
    info: &BlobInfo,
    request: &HeaderMap,
    headers_out: Vec<(header::HeaderName, HeaderValue)>,
) -> Result<Response, ApiError> {
    let etag = info.etag();
    let mut common = headers_out;
    common.push((
        header::ETAG,
        HeaderValue::from_str(&etag).map_err(ApiError::internal)?,
    ));
    common.push((header::ACCEPT_RANGES, HeaderValue::from_static("bytes")));
    if etag_matches(request, &etag) {
        return Ok(with_headers(
            StatusCode::NOT_MODIFIED.into_response(),
            common,
        ));
    }
    let content_type = HeaderValue::from_str(&info.content_type).map_err(ApiError::internal)?;
    common.push((header::CONTENT_TYPE, content_type));
    let (status, range) = match requested_range(request, info.size, &etag) {
        Requested::Whole => (StatusCode::OK, None),
        Requested::Part(range) => (StatusCode::PARTIAL_CONTENT, Some(range)),
        Requested::Unsatisfiable => {
            let mut error = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range_not_satisfiable",
                format!("the file has {} bytes; that range is outside it", info.size),
            )
            .into_response();
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{}", info.size)) {
                error.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return Ok(error);
        }
    };
    let length = range.map_or(info.size, |range| range.end - range.start + 1);
    if let Some(range) = range {
        let value = format!("bytes {}-{}/{}", range.start, range.end, info.size);
        common.push((
            header::CONTENT_RANGE,
            HeaderValue::from_str(&value).map_err(ApiError::internal)?,
        ));
    }
    common.push((header::CONTENT_LENGTH, HeaderValue::from(length)));
    let body = blobs.read(info, range).await.map_err(ApiError::internal)?;
    let response = (status, Body::from_stream(body)).into_response();
    Ok(with_headers(response, common))
}

fn with_headers(
    mut response: Response,
    headers: Vec<(header::HeaderName, HeaderValue)>,
) -> Response {
    for (name, value) in headers {
        response.headers_mut().insert(name, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(name.clone(), value);
            }
        }
        headers
    }

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        let etag = "\"abc\"";
        let part = |start, end| Requested::Part(ByteRange { start, end });
        assert_eq!(requested_range(&request(&[]), 100, etag), Requested::Whole);
        assert_eq!(
            requested_range(&request(&[(header::RANGE, "bytes=0-9")]), 100, etag),
            part(0, 9)
        );
        assert_eq!(
            requested_range(&request(&[(header::RANGE, "bytes=90-")]), 100, etag),
            part(90, 99)
        );
        assert_eq!(
            requested_range(&request(&[(header::RANGE, "bytes=-5")]), 100, etag),
            part(95, 99)
        );
        assert_eq!(
            requested_range(&request(&[(header::RANGE, "bytes=50-500")]), 100, etag),
            part(50, 99)
        );
        assert_eq!(
            requested_range(&request(&[(header::RANGE, "bytes=100-")]), 100, etag),
            Requested::Unsatisfiable
        );
        assert_eq!(
            requested_range(&request(&[(header::RANGE, "bytes=0-1,5-6")]), 100, etag),
            Requested::Whole
        );
        assert_eq!(
            requested_range(&request(&[(header::RANGE, "pages=1")]), 100, etag),
            Requested::Whole
        );
        assert_eq!(
            requested_range(
                &request(&[(header::RANGE, "bytes=0-9"), (header::IF_RANGE, "\"old\"")]),
                100,
                etag
            ),
            Requested::Whole
        );
        assert_eq!(
            requested_range(
                &request(&[(header::RANGE, "bytes=0-9"), (header::IF_RANGE, etag)]),
                100,
                etag
            ),
            part(0, 9)
        );
    }
}
