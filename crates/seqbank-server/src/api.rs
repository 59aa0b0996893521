//! Routes and handlers of `/api/v1`.

use std::str::FromStr;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, FromRequestParts, Path, Query, State},
    http::{HeaderMap, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use seqbank_core::{ObjectKind, Role, Status};
use seqbank_metadata::{Checklist, ParseError, sheet};
use seqbank_service::{Actor, Error, NewSubmission, Page, SheetFormat};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{ApiError, AppState, OPENAPI};

type ApiResult<T = Response> = Result<T, ApiError>;

/// Spreadsheets of tens of thousands of rows are a few tens of megabytes.
const BODY_LIMIT: usize = 256 * 1024 * 1024;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/auth/token", post(login))
        .route("/api/v1/me", get(me))
        .route("/api/v1/users", get(users).post(create_user))
        .route("/api/v1/checklists", get(checklists))
        .route("/api/v1/checklists/{name}", get(checklist))
        .route("/api/v1/checklists/{name}/template", get(template))
        .route(
            "/api/v1/submissions",
            get(submissions).post(create_submission),
        )
        .route(
            "/api/v1/submissions/{id}",
            get(submission).patch(update_submission),
        )
        .route("/api/v1/submissions/{id}/history", get(submission_history))
        .route("/api/v1/submissions/{id}/objects", post(add_objects))
        .route(
            "/api/v1/submissions/{id}/spreadsheet",
            post(add_spreadsheet),
        )
        .route("/api/v1/submissions/{id}/xml", post(add_xml))
        .route("/api/v1/submissions/{id}/validate", post(validate))
        .route("/api/v1/submissions/{id}/submit", post(submit))
        .route("/api/v1/submissions/{id}/return", post(return_submission))
        .route("/api/v1/submissions/{id}/approve", post(approve))
        .route("/api/v1/jobs", get(jobs))
        .route("/api/v1/mirror", get(mirror_status))
        .route("/api/v1/{kind}", get(objects).post(create_object))
        .route("/api/v1/{kind}/{key}", get(object).put(update_object))
        .route("/api/v1/{kind}/{key}/history", get(history))
        .route("/api/v1/{kind}/{key}/files", get(run_files))
        .route("/api/v1/{kind}/{key}/release", post(release))
        .route("/api/v1/{kind}/{key}/suppress", post(suppress))
        .route("/api/v1/{kind}/{key}/withdraw", post(withdraw))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// The caller, from an `Authorization: Bearer TOKEN` header (anonymous without one).
pub(crate) struct Auth(pub(crate) Actor);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            // A browser signed in on the web pages sends its session cookie instead.
            return match crate::web::session_token(&parts.headers) {
                Some(_) if !crate::web::same_origin(&parts.method, &parts.headers) => {
                    Err(ApiError(Error::Forbidden(
                        "a cross-site request may not use the session cookie".into(),
                    )))
                }
                Some(token) => Ok(Auth(
                    state
                        .service
                        .authenticate(token)
                        .await
                        .unwrap_or(Actor::Anonymous),
                )),
                None => Ok(Auth(Actor::Anonymous)),
            };
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(ApiError(Error::BadCredentials))?;
        Ok(Auth(state.service.authenticate(token).await?))
    }
}

/// `Query`, with errors as JSON naming the query string.
pub(crate) struct Q<T>(pub(crate) T);

impl<T: serde::de::DeserializeOwned + Send> FromRequestParts<AppState> for Q<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(Q(value)),
            Err(rejection) => Err(ParseError::new(
                "query",
                rejection
                    .body_text()
                    .replace("Failed to deserialize query string: ", ""),
            )
            .into()),
        }
    }
}

/// `Path`, with errors as JSON: a path that names nothing is not found.
pub(crate) struct P<T>(pub(crate) T);

impl<T: serde::de::DeserializeOwned + Send> FromRequestParts<AppState> for P<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(P(value)),
            Err(_) => Err(ApiError(Error::NotFound("object"))),
        }
    }
}

/// Parses a JSON body with field paths in errors.
fn body<T: serde::de::DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    if bytes.is_empty() {
        return seqbank_metadata::parse_json(b"{}").map_err(ApiError::from);
    }
    seqbank_metadata::parse_json(bytes).map_err(ApiError::from)
}

fn kind_of(plural: &str) -> Result<ObjectKind, ApiError> {
    ObjectKind::from_plural(plural).ok_or(ApiError(Error::NotFound("object")))
}

fn statuses(list: &Option<String>) -> Result<Vec<Status>, ApiError> {
    let mut out = Vec::new();
    for name in list
        .iter()
        .flat_map(|l| l.split(','))
        .filter(|s| !s.is_empty())
    {
        out.push(Status::from_str(name).map_err(|e| ParseError::new("status", e.to_string()))?);
    }
    Ok(out)
}

fn page(query: &ListQuery) -> Page {
    Page {
        after: query.after.unwrap_or(0),
        limit: query.limit.unwrap_or(100),
    }
}

fn listing<T: serde::Serialize>(items: Vec<T>, next: Option<i64>, limit: i64) -> Response {
    let next_after = if items.len() as i64 >= limit.clamp(1, 1000) {
        next
    } else {
        None
    };
    Json(json!({"items": items, "next_after": next_after})).into_response()
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    status: Option<String>,
    submission: Option<i64>,
    #[serde(default)]
    mine: bool,
    after: Option<i64>,
    limit: Option<i64>,
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({"error": {"code": "no_route", "message": "no such endpoint; see /api/v1/openapi.json"}}))).into_response()
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    name: String,
    password: String,
}

async fn login(State(state): State<AppState>, bytes: Bytes) -> ApiResult {
    let login: Login = body(&bytes)?;
    let token = state.service.login(&login.name, &login.password).await?;
    Ok((StatusCode::CREATED, Json(json!({"token": token}))).into_response())
}

async fn me(Auth(actor): Auth) -> ApiResult {
    let user = actor.user()?;
    Ok(Json(seqbank_service::UserView::from(user)).into_response())
}

async fn users(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult {
    Ok(Json(json!({"items": state.service.users(&actor).await?})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    name: String,
    role: String,
    #[serde(default)]
    password: Option<String>,
}

async fn create_user(State(state): State<AppState>, Auth(actor): Auth, bytes: Bytes) -> ApiResult {
    let new: NewUser = body(&bytes)?;
    let role = Role::from_str(&new.role).map_err(|e| ParseError::new("role", e.to_string()))?;
    let (user, token) = state
        .service
        .create_user(&actor, &new.name, role, new.password.as_deref())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"user": user, "token": token})),
    )
        .into_response())
}

fn checklist_json(checklist: &Checklist) -> Value {
    json!({
        "name": checklist.name,
        "title": checklist.title,
        "description": checklist.description,
        "fields": checklist.fields.iter().map(|f| json!({
            "name": f.name,
            "requirement": f.requirement.as_str(),
            "description": f.description,
            "format": f.format.map(|f| format!("{f:?}").to_lowercase()),
            "vocabulary": f.vocabulary,
            "values": f.values,
            "pattern": f.pattern,
            "units": f.units,
        })).collect::<Vec<_>>(),
    })
}

async fn checklists() -> Response {
    Json(json!({"items": Checklist::all().iter().map(checklist_json).collect::<Vec<_>>()}))
        .into_response()
}

fn find_checklist(name: &str) -> Result<&'static Checklist, ApiError> {
    Checklist::get(name).ok_or(ApiError(Error::NotFound("object")))
}

async fn checklist(P(name): P<String>) -> ApiResult {
    Ok(Json(checklist_json(find_checklist(&name)?)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateQuery {
    format: Option<String>,
    sheet: Option<String>,
}

async fn template(P(name): P<String>, Q(query): Q<TemplateQuery>) -> ApiResult {
    let checklist = find_checklist(&name)?;
    match query.format.as_deref().unwrap_or("xlsx") {
        "tsv" => {
            let sheet_name = query.sheet.as_deref().unwrap_or("samples");
            let kind = ObjectKind::from_plural(sheet_name).ok_or_else(|| {
                ParseError::new("sheet", "use projects, samples, experiments or runs")
            })?;
            let text = sheet::template_tsv(kind, checklist);
            let disposition = format!(
                "attachment; filename=\"{}-{}.tsv\"",
                checklist.name,
                kind.plural()
            );
            Ok((
                [
                    (
                        header::CONTENT_TYPE,
                        "text/tab-separated-values; charset=utf-8".to_owned(),
                    ),
                    (header::CONTENT_DISPOSITION, disposition),
                ],
                text,
            )
                .into_response())
        }
        "xlsx" => {
            let bytes = sheet::template_xlsx(checklist)
                .map_err(|e| ApiError(Error::Internal(Box::new(e))))?;
            let disposition = format!("attachment; filename=\"{}.xlsx\"", checklist.name);
            Ok((
                [
                    (
                        header::CONTENT_TYPE,
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                            .to_owned(),
                    ),
                    (header::CONTENT_DISPOSITION, disposition),
                ],
                bytes,
            )
                .into_response())
        }
        other => Err(ParseError::new(
            "format",
            format!("unknown template format {other:?}; use tsv or xlsx"),
        )
        .into()),
    }
}

async fn submissions(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Q(query): Q<ListQuery>,
) -> ApiResult {
    let items = state
        .service
        .submissions(&actor, &statuses(&query.status)?, page(&query))
        .await?;
    let next = items.last().map(|s| s.id);
    Ok(listing(items, next, page(&query).limit))
}

async fn create_submission(
    State(state): State<AppState>,
    Auth(actor): Auth,
    bytes: Bytes,
) -> ApiResult {
    let new: NewSubmission = body(&bytes)?;
    let view = state.service.create_submission(&actor, new).await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

async fn submission(State(state): State<AppState>, Auth(actor): Auth, P(id): P<i64>) -> ApiResult {
    Ok(Json(state.service.submission(&actor, id).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmissionPatch {
    #[serde(default)]
    title: Option<String>,
    #[serde(default, deserialize_with = "present")]
    hold_until: Option<Option<String>>,
}

/// Tells an absent field (keep) from an explicit null (clear).
fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

async fn update_submission(
    State(state): State<AppState>,
    Auth(actor): Auth,
    P(id): P<i64>,
    bytes: Bytes,
) -> ApiResult {
    let patch: SubmissionPatch = body(&bytes)?;
    Ok(Json(
        state
            .service
            .update_submission(&actor, id, patch.title, patch.hold_until)
            .await?,
    )
    .into_response())
}

async fn submission_history(
    State(state): State<AppState>,
    Auth(actor): Auth,
    P(id): P<i64>,
) -> ApiResult {
    Ok(
        Json(json!({"events": state.service.submission_history(&actor, id).await?}))
            .into_response(),
    )
}

fn added(findings: Vec<seqbank_service::FindingView>) -> Response {
    (
        StatusCode::CREATED,
        Json(json!({"added": true, "findings": findings})),
    )
        .into_response()
}

async fn add_objects(
    State(state): State<AppState>,
    Auth(actor): Auth,
    P(id): P<i64>,
    bytes: Bytes,
) -> ApiResult {
    Ok(added(state.service.add_json(&actor, id, &bytes).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SheetQuery {
    sheet: Option<String>,
    format: Option<String>,
}

async fn add_spreadsheet(
    State(state): State<AppState>,
    Auth(actor): Auth,
    P(id): P<i64>,
    Q(query): Q<SheetQuery>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // XLSX files are ZIP archives: they start with "PK".
    let format = match query.format.as_deref() {
        Some("xlsx") => SheetFormat::Xlsx,
        Some("tsv") => SheetFormat::Tsv,
        Some(other) => {
            return Err(ParseError::new(
                "format",
                format!("unknown spreadsheet format {other:?}; use tsv or xlsx"),
            )
            .into());
        }
        None if content_type.contains("spreadsheetml") || bytes.starts_with(b"PK\x03\x04") => {
            SheetFormat::Xlsx
        }
        None => SheetFormat::Tsv,
    };
    Ok(added(
        state
            .service
            .add_sheet(&actor, id, &bytes, format, query.sheet.as_deref())
            .await?,
    ))
}

async fn add_xml(
    State(state): State<AppState>,
    Auth(actor): Auth,
    P(id): P<i64>,
    bytes: Bytes,
) -> ApiResult {
    Ok(added(state.service.add_xml(&actor, id, &bytes).await?))
}

async fn validate(State(state): State<AppState>, Auth(actor): Auth, P(id): P<i64>) -> ApiResult {
    let findings = state.service.validate_submission(&actor, id).await?;
    let valid = !findings.iter().any(|f| f.severity == "error");
    Ok(Json(json!({"valid": valid, "findings": findings})).into_response())
}

async fn submit(State(state): State<AppState>, Auth(actor): Auth, P(id): P<i64>) -> ApiResult {
    Ok(Json(state.service.submit(&actor, id).await?).into_response())
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Reason {
    #[serde(default)]
    reason: Option<String>,
}

async fn return_submission(
    State(state): State<AppState>,
    Auth(actor): Auth,
    P(id): P<i64>,
    bytes: Bytes,
) -> ApiResult {
    let reason: Reason = body(&bytes)?;
    Ok(Json(
        state
            .service
            .return_submission(&actor, id, reason.reason.as_deref().unwrap_or(""))
            .await?,
    )
    .into_response())
}

async fn approve(
    State(state): State<AppState>,
    Auth(actor): Auth,
    P(id): P<i64>,
    bytes: Bytes,
) -> ApiResult {
    let reason: Reason = body(&bytes)?;
    Ok(Json(
        state
            .service
            .approve(&actor, id, reason.reason.as_deref())
            .await?,
    )
    .into_response())
}

async fn objects(
    State(state): State<AppState>,
    Auth(actor): Auth,
    P(kind): P<String>,
    Q(query): Q<ListQuery>,
) -> ApiResult {
    let kind = kind_of(&kind)?;
    let items = state
        .service
        .objects(
            &actor,
            kind,
            &statuses(&query.status)?,
            query.submission,
            query.mine,
            page(&query),
        )
        .await?;
    let next = items.last().map(|o| o.id);
    Ok(listing(items, next, page(&query).limit))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateQuery {
    submission: i64,
}

async fn create_object(
    State(state): State<AppState>,
    Auth(actor): Auth,
    P(kind): P<String>,
    query: Result<Q<CreateQuery>, ApiError>,
    bytes: Bytes,
) -> ApiResult {
    let kind = kind_of(&kind)?;
    let Ok(Q(query)) = query else {
        return Err(
            ParseError::new("submission", "name the draft submission: ?submission=ID").into(),
        );
    };
    // One object is a batch of one.
    let object: Value = body(&bytes)?;
    let batch = json!({kind.plural(): [object]});
    let findings = state
        .service
        .add_json(&actor, query.submission, batch.to_string().as_bytes())
        .await?;
    Ok(added(findings))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FormatQuery {
    format: Option<String>,
}

/// The mirrored type a plural path segment names.
fn mirror_kind(plural: &str) -> Option<&'static str> {
    Some(match plural {
        "projects" => "project",
        "samples" => "sample",
        "experiments" => "experiment",
        "runs" => "run",
        "analyses" => "analysis",
        "assemblies" => "assembly",
        "submissions" => "submission",
        _ => return None,
    })
}

fn xml_response(xml: String) -> Response {
    (
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        xml,
    )
        .into_response()
}

/// A record by accession (or row id): this center's own first, then the mirror.
/// `?format=xml` gives INSDC XML: generated for released local records, the dump's own text
/// for mirrored ones.
async fn object(
    State(state): State<AppState>,
    Auth(actor): Auth,
    P((kind, key)): P<(String, String)>,
    Q(query): Q<FormatQuery>,
) -> ApiResult {
    let xml = match query.format.as_deref() {
        None | Some("json") => false,
        Some("xml") => true,
        Some(other) => {
            return Err(ApiError::from(ParseError::new(
                "format",
                format!("{other:?} is not a format: use json or xml"),
            )));
        }
    };
    if let Some(local) = ObjectKind::from_plural(&kind) {
        match state.service.object(&actor, local, &key).await {
            Ok(_) if xml => {
                return Ok(xml_response(
                    state.service.export_xml(&actor, local, &key).await?,
                ));
            }
            Ok(view) => return Ok(Json(view).into_response()),
            Err(Error::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let singular = mirror_kind(&kind).ok_or(ApiError(Error::NotFound("object")))?;
    let (view, raw) = state
        .service
        .mirror_record(&actor, Some(singular), &key)
        .await?;
    if xml {
        if raw.starts_with('<') {
            return Ok(xml_response(format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{raw}\n"
            )));
        }
        return Err(ApiError::from(ParseError::new(
            "format",
            format!(
                "{} came from a tab-separated dump ({}); it has no XML form",
                view.accession, view.mirror.dump
            ),
        )));
    }
    Ok(Json(view).into_response())
}

/// Mirrored record counts and the latest imports with their problems.
async fn mirror_status(State(state): State<AppState>, Auth(_actor): Auth) -> ApiResult {
    Ok(Json(state.service.mirror_status().await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateQuery {
    reason: Option<String>,
}

async fn update_object(
    State(state): State<AppState>,
    Auth(actor): Auth,
    P((kind, key)): P<(String, String)>,
    Q(query): Q<UpdateQuery>,
    bytes: Bytes,
) -> ApiResult {
    Ok(Json(
        state
            .service
            .update_object(
                &actor,
                kind_of(&kind)?,
                &key,
                &bytes,
                query.reason.as_deref(),
            )
            .await?,
    )
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JobsQuery {
    kind: Option<String>,
    subject: Option<i64>,
}

async fn jobs(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Q(query): Q<JobsQuery>,
) -> ApiResult {
    let jobs = state
        .service
        .jobs(&actor, query.kind.as_deref(), query.subject)
        .await?;
    Ok(Json(json!({"items": jobs})).into_response())
}

async fn run_files(
    State(state): State<AppState>,
    Auth(actor): Auth,
    P((kind, key)): P<(String, String)>,
) -> ApiResult {
    if kind_of(&kind)? != ObjectKind::Run {
        return Err(ApiError(Error::NotFound("object")));
    }
    let files = state.service.run_files(&actor, &key).await?;
    Ok(Json(json!({"items": files})).into_response())
}

async fn history(
    State(state): State<AppState>,
    Auth(actor): Auth,
    P((kind, key)): P<(String, String)>,
) -> ApiResult {
    let (events, versions) = state.service.history(&actor, kind_of(&kind)?, &key).await?;
    let versions: Vec<Value> = versions.into_iter().map(|(version, metadata, replaced_at)| json!({"version": version, "metadata": metadata, "replaced_at": replaced_at})).collect();
    Ok(Json(json!({"events": events, "versions": versions})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseQuery {
    #[serde(default)]
    cascade: bool,
}

async fn release(
    State(state): State<AppState>,
    Auth(actor): Auth,
    P((kind, key)): P<(String, String)>,
    Q(query): Q<ReleaseQuery>,
) -> ApiResult {
    Ok(Json(
        state
            .service
            .release(&actor, kind_of(&kind)?, &key, query.cascade)
            .await?,
    )
    .into_response())
}

async fn suppress(
    state: State<AppState>,
    auth: Auth,
    path: P<(String, String)>,
    bytes: Bytes,
) -> ApiResult {
    tombstone(state, auth, path, bytes, false).await
}

async fn withdraw(
    state: State<AppState>,
    auth: Auth,
    path: P<(String, String)>,
    bytes: Bytes,
) -> ApiResult {
    tombstone(state, auth, path, bytes, true).await
}

async fn tombstone(
    State(state): State<AppState>,
    Auth(actor): Auth,
    P((kind, key)): P<(String, String)>,
    bytes: Bytes,
    withdraw: bool,
) -> ApiResult {
    let reason: Reason = body(&bytes)?;
    let reason = reason.reason.as_deref().unwrap_or("");
    let view = state
        .service
        .suppress(&actor, kind_of(&kind)?, &key, withdraw, reason)
        .await?;
    Ok(Json(view).into_response())
}
