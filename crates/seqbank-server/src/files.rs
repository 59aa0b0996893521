//! Files over HTTP: tus 1.0 resumable uploads at `/api/v1/uploads`, and downloads with ranges,
//! validators and digests at `/files/...`.

use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::State,
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use base64::{Engine, engine::general_purpose::STANDARD as B64};
use futures_util::{StreamExt, TryStreamExt, stream};
use seqbank_metadata::ParseError;
use seqbank_service::{Error, FileEntry};
use serde_json::json;

use crate::{
    ApiError, AppState,
    api::{Auth, P},
};

const TUS_VERSION: &str = "1.0.0";
/// A request that carries `Upload-Checksum` is held in memory to be checked before it is kept.
const CHECKSUM_BODY_LIMIT: usize = 256 << 20;

type ApiResult<T = Response> = Result<T, ApiError>;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/uploads",
            get(list_uploads).post(create_upload).options(options),
        )
        .route(
            "/api/v1/uploads/{id}",
            get(get_upload)
                .head(head_upload)
                .patch(patch_upload)
                .delete(delete_upload)
                .options(options),
        )
        .layer(axum::middleware::map_response(tus_headers))
        .route("/files", get(download_root))
        .route("/files/", get(download_root))
        .route("/files/{*path}", get(download))
}

async fn tus_headers(mut response: Response) -> Response {
    response.headers_mut().insert(
        HeaderName::from_static("tus-resumable"),
        HeaderValue::from_static(TUS_VERSION),
    );
    response
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// tus requests other than OPTIONS must name the protocol version.
fn tus_rejection(headers: &HeaderMap) -> Option<Response> {
    match header_str(headers, "tus-resumable") {
        Some(TUS_VERSION) => None,
        other => {
            let message = match other {
                None => "send 'Tus-Resumable: 1.0.0': this endpoint speaks the tus resumable upload protocol".to_owned(),
                Some(v) => format!("tus version {v:?} is not supported; use 1.0.0"),
            };
            let mut response = (
                StatusCode::PRECONDITION_FAILED,
                Json(json!({"error": {"code": "tus_version", "message": message}})),
            )
                .into_response();
            response.headers_mut().insert(
                HeaderName::from_static("tus-version"),
                HeaderValue::from_static(TUS_VERSION),
            );
            Some(response)
        }
    }
}

fn bad(path: &str, message: impl Into<String>) -> ApiError {
    ApiError::from(ParseError::new(path, message))
}

async fn options(State(state): State<AppState>) -> Response {
    let max = state.service.upload_config().max_size.to_string();
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        ("tus-version", TUS_VERSION.to_owned()),
        (
            "tus-extension",
            "creation,checksum,termination,expiration".to_owned(),
        ),
        ("tus-max-size", max),
        ("tus-checksum-algorithm", "md5,sha1,sha256".to_owned()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    response
}

/// Parses `Upload-Metadata`: comma-separated `key base64value` pairs.
fn metadata(headers: &HeaderMap) -> Result<Vec<(String, String)>, ApiError> {
    let Some(raw) = header_str(headers, "upload-metadata") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once(' ').unwrap_or((pair, ""));
        let value = B64
            .decode(value.trim())
            .ok()
            .and_then(|v| String::from_utf8(v).ok())
            .ok_or_else(|| {
                bad(
                    "Upload-Metadata",
                    format!("the value of {key:?} is not base64-encoded UTF-8"),
                )
            })?;
        out.push((key.to_owned(), value));
    }
    Ok(out)
}

fn expires_header(response: &mut Response, expires_at: &str) {
    let http = expires_at
        .parse::<jiff::Timestamp>()
        .map(http_date)
        .unwrap_or_default();
    if let Ok(value) = HeaderValue::from_str(&http) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("upload-expires"), value);
    }
}

fn http_date(t: jiff::Timestamp) -> String {
    t.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn set(response: &mut Response, name: &'static str, value: impl ToString) {
    if let Ok(value) = HeaderValue::from_str(&value.to_string()) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(name), value);
    }
}

async fn create_upload(
    State(state): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
) -> ApiResult {
    if let Some(response) = tus_rejection(&headers) {
        return Ok(response);
    }
    if headers.contains_key("upload-defer-length") {
        return Err(bad(
            "Upload-Defer-Length",
            "the length must be known when the upload starts (creation-defer-length is not supported)",
        ));
    }
    let length: u64 = header_str(&headers, "upload-length")
        .ok_or_else(|| bad("Upload-Length", "send the file's length in bytes"))?
        .trim()
        .parse()
        .map_err(|_| bad("Upload-Length", "not a non-negative whole number"))?;
    let metadata = metadata(&headers)?;
    let get = |key: &str| {
        metadata
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let file_name = get("filename").or_else(|| get("name")).ok_or_else(|| {
        bad(
            "Upload-Metadata.filename",
            "name the file (metadata key 'filename')",
        )
    })?;
    let run = get("run").ok_or_else(|| {
        bad(
            "Upload-Metadata.run",
            "name the run the file belongs to (metadata key 'run': alias, accession or id)",
        )
    })?;
    let view = state
        .service
        .create_upload(&actor, run, file_name, length)
        .await?;
    let location = format!("/api/v1/uploads/{}", view.id);
    let mut response = (StatusCode::CREATED, Json(&view)).into_response();
    set(&mut response, "location", &location);
    set(&mut response, "upload-offset", view.offset);
    expires_header(&mut response, &view.expires_at);
    Ok(response)
}

async fn head_upload(
    State(state): State<AppState>,
    Auth(actor): Auth,
    P(id): P<String>,
    headers: HeaderMap,
) -> ApiResult {
    if let Some(response) = tus_rejection(&headers) {
        return Ok(response);
    }
    let view = state.service.upload(&actor, &id).await?;
    if matches!(view.state, "expired" | "cancelled") {
        return Err(ApiError(Error::Gone(format!(
            "upload {id} is {}",
            view.state
        ))));
    }
    let mut response = StatusCode::OK.into_response();
    set(&mut response, "upload-offset", view.offset);
    set(&mut response, "upload-length", view.length);
    set(&mut response, "cache-control", "no-store");
    expires_header(&mut response, &view.expires_at);
    Ok(response)
}

async fn patch_upload(
    State(state): State<AppState>,
    Auth(actor): Auth,
    P(id): P<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    if let Some(response) = tus_rejection(&headers) {
        return Ok(response);
    }
    if header_str(&headers, "content-type") != Some("application/offset+octet-stream") {
        return Ok((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Json(json!({"error": {"code": "unsupported_media_type", "message": "send the bytes as 'Content-Type: application/offset+octet-stream'"}})),
        )
            .into_response());
    }
    let offset: u64 = header_str(&headers, "upload-offset")
        .ok_or_else(|| bad("Upload-Offset", "send the offset the bytes start at"))?
        .trim()
        .parse()
        .map_err(|_| bad("Upload-Offset", "not a non-negative whole number"))?;
    let view = match header_str(&headers, "upload-checksum") {
        None => {
            state
                .service
                .append_upload(&actor, &id, offset, body.into_data_stream())
                .await?
        }
        Some(checksum) => {
            let (algorithm, expected) = checksum
                .trim()
                .split_once(' ')
                .ok_or_else(|| bad("Upload-Checksum", "expected 'ALGORITHM BASE64DIGEST'"))?;
            let bytes = axum::body::to_bytes(body, CHECKSUM_BODY_LIMIT)
                .await
                .map_err(|_| {
                    ApiError(Error::TooLarge(format!(
                        "a request with Upload-Checksum may carry at most {CHECKSUM_BODY_LIMIT} bytes; send smaller chunks"
                    )))
                })?;
            let actual = match algorithm {
                "md5" => {
                    use md5::Digest;
                    md5::Md5::digest(&bytes).to_vec()
                }
                "sha1" => {
                    use sha1::Digest;
                    sha1::Sha1::digest(&bytes).to_vec()
                }
                "sha256" => {
                    use sha2::Digest;
                    sha2::Sha256::digest(&bytes).to_vec()
                }
                other => {
                    return Err(bad(
                        "Upload-Checksum",
                        format!(
                            "checksum algorithm {other:?} is not supported; use md5, sha1 or sha256"
                        ),
                    ));
                }
            };
            if B64.encode(&actual) != expected.trim() {
                // Nothing of this request is kept.
                let status = StatusCode::from_u16(460).unwrap_or(StatusCode::BAD_REQUEST);
                return Ok((
                    status,
                    Json(json!({"error": {"code": "checksum_mismatch", "message": format!("the {algorithm} of the {} bytes received does not match Upload-Checksum; nothing was kept, send them again", bytes.len())}})),
                )
                    .into_response());
            }
            state
                .service
                .append_upload(
                    &actor,
                    &id,
                    offset,
                    stream::iter([Ok::<_, std::convert::Infallible>(bytes)]),
                )
                .await?
        }
    };
    let mut response = StatusCode::NO_CONTENT.into_response();
    set(&mut response, "upload-offset", view.offset);
    expires_header(&mut response, &view.expires_at);
    Ok(response)
}

async fn delete_upload(
    State(state): State<AppState>,
    Auth(actor): Auth,
    P(id): P<String>,
    headers: HeaderMap,
) -> ApiResult {
    if let Some(response) = tus_rejection(&headers) {
        return Ok(response);
    }
    state.service.cancel_upload(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn get_upload(
    State(state): State<AppState>,
    Auth(actor): Auth,
    P(id): P<String>,
) -> ApiResult {
    Ok(Json(state.service.upload(&actor, &id).await?).into_response())
}

async fn list_uploads(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult {
    Ok(Json(json!({"items": state.service.uploads(&actor, None).await?})).into_response())
}

// ---- downloads ----

async fn download_root(
    State(state): State<AppState>,
    Auth(actor): Auth,
    method: Method,
    headers: HeaderMap,
) -> ApiResult {
    serve_path(&state, &actor, "", &method, &headers).await
}

async fn download(
    State(state): State<AppState>,
    Auth(actor): Auth,
    P(path): P<String>,
    method: Method,
    headers: HeaderMap,
) -> ApiResult {
    serve_path(&state, &actor, &path, &method, &headers).await
}

fn hex_to_b64(hex: &str) -> String {
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
        .collect();
    B64.encode(bytes)
}

async fn serve_path(
    state: &AppState,
    actor: &seqbank_service::Actor,
    path: &str,
    method: &Method,
    headers: &HeaderMap,
) -> ApiResult {
    let entry = state.service.file_entry(actor, path).await?;
    let (record, modified) = match entry {
        FileEntry::Manifest(text) => {
            return Ok(
                ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response(),
            );
        }
        FileEntry::Listing(entries) => return Ok(listing(path, &entries, headers)),
        FileEntry::File { record, modified } => (record, modified),
    };
    let size = record.size as u64;
    let etag = format!("\"{}\"", record.md5);
    let last_modified = jiff::Timestamp::from_second(modified)
        .map(http_date)
        .unwrap_or_default();
    let mut response = Response::new(Body::empty());
    set(&mut response, "etag", &etag);
    set(&mut response, "last-modified", &last_modified);
    set(&mut response, "accept-ranges", "bytes");
    set(
        &mut response,
        "cache-control",
        "private, max-age=0, must-revalidate",
    );
    let md5 = hex_to_b64(&record.md5);
    let sha = hex_to_b64(&record.sha256);
    set(
        &mut response,
        "repr-digest",
        format!("sha-256=:{sha}:, md5=:{md5}:"),
    );
    set(&mut response, "digest", format!("MD5={md5},SHA-256={sha}"));

    // Preconditions (RFC 9110 §13.2.2): If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since.
    let matches = |list: &str| {
        list.split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == "*" || t == etag)
    };
    let since = |name: &str| {
        header_str(headers, name).and_then(|v| {
            jiff::fmt::rfc2822::parse(v)
                .ok()
                .map(|z| z.timestamp().as_second())
        })
    };
    if let Some(list) = header_str(headers, "if-match") {
        if !matches(list) {
            *response.status_mut() = StatusCode::PRECONDITION_FAILED;
            return Ok(response);
        }
    } else if let Some(t) = since("if-unmodified-since")
        && modified > t
    {
        *response.status_mut() = StatusCode::PRECONDITION_FAILED;
        return Ok(response);
    }
    if let Some(list) = header_str(headers, "if-none-match") {
        if matches(list) {
            *response.status_mut() = StatusCode::NOT_MODIFIED;
            return Ok(response);
        }
    } else if let Some(t) = since("if-modified-since")
        && modified <= t
    {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        return Ok(response);
    }

    let file_name = record.name.replace('"', "");
    set(
        &mut response,
        "content-disposition",
        format!("attachment; filename=\"{file_name}\""),
    );
    // A range applies unless If-Range names another version.
    let if_range_ok = match header_str(headers, "if-range") {
        None => true,
        Some(v) if v.starts_with('"') || v.starts_with("W/") => v == etag,
        Some(_) => since("if-range").is_some_and(|t| t == modified),
    };
    let ranges = match header_str(headers, "range").filter(|_| if_range_ok) {
        None => None,
        Some(spec) => match parse_ranges(spec, size) {
            RangeSpec::Ignore => None,
            RangeSpec::Unsatisfiable => {
                *response.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
                set(&mut response, "content-range", format!("bytes */{size}"));
                return Ok(response);
            }
            RangeSpec::Ranges(ranges) => Some(ranges),
        },
    };
    let storage = state.service.storage().clone();
    let key = record.storage_key.clone();
    let head = method == Method::HEAD;
    match ranges {
        None => {
            set(&mut response, "content-md5", &md5);
            set(&mut response, "content-type", "application/octet-stream");
            set(&mut response, "content-length", size);
            if !head && size > 0 {
                let stream = storage
                    .get(&key, None)
                    .await
                    .map_err(|e| ApiError(e.into()))?;
                *response.body_mut() = Body::from_stream(stream);
            }
        }
        Some(ranges) if ranges.len() == 1 => {
            let r = ranges[0].clone();
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
            set(&mut response, "content-type", "application/octet-stream");
            set(
                &mut response,
                "content-range",
                format!("bytes {}-{}/{size}", r.start, r.end - 1),
            );
            set(&mut response, "content-length", r.end - r.start);
            if !head {
                let stream = storage
                    .get(&key, Some(r))
                    .await
                    .map_err(|e| ApiError(e.into()))?;
                *response.body_mut() = Body::from_stream(stream);
            }
        }
        Some(ranges) => {
            let boundary = format!("seqbank{}", &record.sha256[..16]);
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
            set(
                &mut response,
                "content-type",
                format!("multipart/byteranges; boundary={boundary}"),
            );
            let heads: Vec<String> = ranges
                .iter()
                .map(|r| {
                    format!(
                        "\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes {}-{}/{size}\r\n\r\n",
                        r.start,
                        r.end - 1
                    )
                })
                .collect();
            let tail = format!("\r\n--{boundary}--\r\n");
            let length: u64 = heads.iter().map(|h| h.len() as u64).sum::<u64>()
                + ranges.iter().map(|r| r.end - r.start).sum::<u64>()
                + tail.len() as u64;
            set(&mut response, "content-length", length);
            if !head {
                let parts = heads.into_iter().zip(ranges).map(move |(h, r)| {
                    let storage = storage.clone();
                    let key = key.clone();
                    stream::once(async move { Ok(Bytes::from(h)) }).chain(
                        stream::once(async move { storage.get(&key, Some(r)).await })
                            .map(|got| match got {
                                Ok(s) => s.boxed(),
                                Err(e) => stream::once(async move { Err(e) }).boxed(),
                            })
                            .flatten(),
                    )
                });
                let body = stream::iter(parts)
                    .flatten()
                    .chain(stream::once(async move { Ok(Bytes::from(tail)) }))
                    .map_err(std::io::Error::other);
                *response.body_mut() = Body::from_stream(body);
            }
        }
    }
    Ok(response)
}

enum RangeSpec {
    /// Not a byte range we understand: serve the whole file.
    Ignore,
    Unsatisfiable,
    Ranges(Vec<std::ops::Range<u64>>),
}

/// Parses `Range: bytes=a-b, c-, -n` against a size (RFC 9110 §14.1.2).
fn parse_ranges(spec: &str, size: u64) -> RangeSpec {
    let Some(list) = spec.trim().strip_prefix("bytes=") else {
        return RangeSpec::Ignore;
    };
    let mut out = Vec::new();
    for part in list.split(',').map(str::trim) {
        let Some((a, b)) = part.split_once('-') else {
            return RangeSpec::Ignore;
        };
        let range = match (a.trim(), b.trim()) {
            ("", "") => return RangeSpec::Ignore,
            ("", n) => match n.parse::<u64>() {
                Ok(0) => continue,
                Ok(n) => size.saturating_sub(n)..size,
                Err(_) => return RangeSpec::Ignore,
            },
            (a, "") => match a.parse::<u64>() {
                Ok(a) => a..size,
                Err(_) => return RangeSpec::Ignore,
            },
            (a, b) => match (a.parse::<u64>(), b.parse::<u64>()) {
                (Ok(a), Ok(b)) if a <= b => a..(b + 1).min(size),
                _ => return RangeSpec::Ignore,
            },
        };
        if range.start < size && range.start < range.end {
            out.push(range);
        }
    }
    if out.is_empty() {
        RangeSpec::Unsatisfiable
    } else if out.len() > 64 {
        // Many small ranges are a way to make the server work hard; serve the file.
        RangeSpec::Ignore
    } else {
        RangeSpec::Ranges(out)
    }
}

fn listing(
    path: &str,
    entries: &[(String, Option<i64>, Option<String>)],
    headers: &HeaderMap,
) -> Response {
    let html = header_str(headers, "accept").is_some_and(|a| a.contains("text/html"));
    let base = format!("/files/{}", path.trim_matches('/'));
    let base = base.trim_end_matches('/');
    if html {
        let escape = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('"', "&quot;")
        };
        let mut page = format!(
            "<!doctype html><meta charset=utf-8><title>Index of {0}/</title><h1>Index of {0}/</h1><table><tr><th>Name<th>Size<th>MD5",
            escape(base)
        );
        for (name, size, md5) in entries {
            page.push_str(&format!(
                "<tr><td><a href=\"{}/{}\">{}</a><td>{}<td><code>{}</code>",
                escape(base),
                escape(name),
                escape(name),
                size.map(|s| s.to_string()).unwrap_or_default(),
                md5.as_deref().unwrap_or("")
            ));
        }
        page.push_str("</table>");
        return ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response();
    }
    let mut text = String::new();
    for (name, size, md5) in entries {
        match (size, md5) {
            (Some(size), Some(md5)) => text.push_str(&format!("{md5}  {size:>14}  {name}\n")),
            _ => text.push_str(&format!("{name}\n")),
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(spec: &str, size: u64) -> Option<Vec<(u64, u64)>> {
        match parse_ranges(spec, size) {
            RangeSpec::Ranges(r) => Some(r.into_iter().map(|r| (r.start, r.end)).collect()),
            RangeSpec::Unsatisfiable => Some(Vec::new()),
            RangeSpec::Ignore => None,
        }
    }

    #[test]
    fn byte_ranges_follow_rfc_9110() {
        assert_eq!(ranges("bytes=0-9", 100), Some(vec![(0, 10)]));
        assert_eq!(ranges("bytes=90-", 100), Some(vec![(90, 100)]));
        assert_eq!(ranges("bytes=-5", 100), Some(vec![(95, 100)]));
        assert_eq!(ranges("bytes=-500", 100), Some(vec![(0, 100)]));
        assert_eq!(ranges("bytes=95-200", 100), Some(vec![(95, 100)]));
        assert_eq!(
            ranges("bytes=0-0, 10-19", 100),
            Some(vec![(0, 1), (10, 20)])
        );
        assert_eq!(ranges("bytes=100-", 100), Some(vec![]), "unsatisfiable");
        assert_eq!(ranges("bytes=5-1", 100), None, "invalid: ignored");
        assert_eq!(ranges("lines=1-2", 100), None);
    }
}
