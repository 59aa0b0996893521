//! Pages with forms: sign-up and sign-in, the account, the submission wizard and the curator
//! queue. Form fields are named by the JSON path of the value they hold
//! (`samples[0].organism.taxon_id`), so the service's findings, which name paths, land next to
//! the field that caused them.

use std::collections::BTreeMap;

use axum::{
    extract::{Form, Multipart, Path, Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use seqbank_core::{ObjectKind, Status};
use seqbank_metadata::{Checklist, vocab};
use seqbank_service::{Actor, Error, FindingView, NewSubmission, Page, SheetFormat};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{SESSION_COOKIE, Session, error_page, pages::encode, render};
use crate::AppState;

type Fields = BTreeMap<String, String>;

/// A form that failed: which one, what was typed, and the messages by field path.
#[derive(Default)]
struct Failed {
    form: &'static str,
    values: Fields,
    errors: BTreeMap<String, String>,
    /// Findings without a field on the form (spreadsheet cells, other objects).
    findings: Vec<FindingView>,
}

impl Failed {
    fn new(form: &'static str, values: Fields, error: &Error) -> Self {
        let mut failed = Self {
            form,
            values,
            ..Self::default()
        };
        match error {
            Error::BadRequest(e) => {
                failed.errors.insert(e.path.clone(), e.message.clone());
                failed.findings.push(FindingView {
                    code: "bad_request".into(),
                    severity: "error".into(),
                    message: e.message.clone(),
                    path: e.path.clone(),
                });
            }
            Error::Invalid(findings) => {
                for finding in findings.iter().filter(|f| f.severity.is_error()) {
                    failed
                        .errors
                        .entry(finding.path.clone())
                        .or_insert_with(|| finding.message.clone());
                    failed.findings.push(FindingView::from(finding));
                }
            }
            other => {
                failed.findings.push(FindingView {
                    code: "error".into(),
                    severity: "error".into(),
                    message: other.to_string(),
                    path: String::new(),
                });
            }
        }
        failed
    }

    fn context(&self) -> Value {
        json!({"form": self.form, "values": self.values, "errors": self.errors,
               "findings": self.findings})
    }
}

fn session_cookie(token: &str, max_age: u64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("seqbank_session=; Path=/; Max-Age=0"))
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

fn signed_in(to: &str, token: &str) -> Response {
    let mut response = see_other(to);
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie(token, 30 * 24 * 3600));
    response
}

/// Only local paths are followed after sign-in, never another site.
fn local_next(next: Option<&String>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") => n.clone(),
        _ => "/submissions".to_owned(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Next {
    next: Option<String>,
}

pub(crate) async fn login_page(Session { actor, .. }: Session, Query(q): Query<Next>) -> Response {
    render(
        StatusCode::OK,
        "login.html",
        &actor,
        json!({"title": "Sign in", "mode": "login", "next": local_next(q.next.as_ref()),
               "json": "/api/v1/openapi.json"}),
    )
}

pub(crate) async fn register_page(Session { actor, .. }: Session) -> Response {
    render(
        StatusCode::OK,
        "login.html",
        &actor,
        json!({"title": "Sign up", "mode": "register", "next": "/submissions",
               "json": "/api/v1/openapi.json"}),
    )
}

pub(crate) async fn login(
    State(state): State<AppState>,
    Session { actor, .. }: Session,
    Form(fields): Form<Fields>,
) -> Response {
    let name = fields.get("name").map(String::as_str).unwrap_or("");
    let password = fields.get("password").map(String::as_str).unwrap_or("");
    match state.service.login(name.trim(), password).await {
        Ok(token) => signed_in(&local_next(fields.get("next")), &token),
        Err(e) => {
            let mut failed = Failed::new("login", fields.clone(), &e);
            failed.values.remove("password");
            failed.errors.insert(
                "password".into(),
                "the name or password is not right".into(),
            );
            render(
                StatusCode::UNAUTHORIZED,
                "login.html",
                &actor,
                json!({"title": "Sign in", "mode": "login", "failed": failed.context(),
                       "next": local_next(fields.get("next"))}),
            )
        }
    }
}

pub(crate) async fn register(
    State(state): State<AppState>,
    Session { actor, .. }: Session,
    Form(fields): Form<Fields>,
) -> Response {
    let name = fields.get("name").map(String::as_str).unwrap_or("").trim();
    let password = fields.get("password").map(String::as_str).unwrap_or("");
    let again = fields
        .get("password_again")
        .map(String::as_str)
        .unwrap_or("");
    let result = if password != again {
        Err(Error::BadRequest(seqbank_metadata::ParseError::new(
            "password_again",
            "the two passwords differ",
        )))
    } else {
        state.service.register(name, password).await
    };
    match result {
        Ok((_, token)) => signed_in("/submissions", &token),
        Err(e) => {
            let mut failed = Failed::new("register", fields, &e);
            if let Error::Conflict(_) = e {
                failed
                    .errors
                    .insert("name".into(), "this name is taken; choose another".into());
            }
            failed.values.remove("password");
            failed.values.remove("password_again");
            render(
                StatusCode::from_u16(crate::ApiError::status_of(&e).as_u16())
                    .unwrap_or(StatusCode::BAD_REQUEST),
                "login.html",
                &actor,
                json!({"title": "Sign up", "mode": "register", "failed": failed.context(),
                       "next": "/submissions"}),
            )
        }
    }
}

pub(crate) async fn logout(State(state): State<AppState>, session: Session) -> Response {
    if let Some(token) = &session.token {
        let _ = state.service.sign_out(token).await;
    }
    let mut response = see_other("/");
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie("", 0));
    response
}

fn require_user(actor: &Actor, next: &str) -> Option<Response> {
    matches!(actor, Actor::Anonymous).then(|| see_other(&format!("/login?next={}", encode(next))))
}

pub(crate) async fn account(
    State(state): State<AppState>,
    Session { actor, .. }: Session,
) -> Response {
    account_page(&state, &actor, None, None).await
}

async fn account_page(
    state: &AppState,
    actor: &Actor,
    new_token: Option<String>,
    failed: Option<Failed>,
) -> Response {
    if let Some(r) = require_user(actor, "/account") {
        return r;
    }
    let tokens = match state.service.tokens(actor).await {
        Ok(t) => t,
        Err(e) => return error_page(actor, &e),
    };
    let tokens: Vec<Value> = tokens
        .iter()
        .map(|t| json!({"id": t.id, "label": t.label, "created_at": t.created_at}))
        .collect();
    let status = if failed.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    render(
        status,
        "account.html",
        actor,
        json!({"title": "Your account", "json": "/api/v1/me", "tokens": tokens,
               "new_token": new_token, "failed": failed.map(|f| f.context())}),
    )
}

pub(crate) async fn create_token(
    State(state): State<AppState>,
    Session { actor, .. }: Session,
    Form(fields): Form<Fields>,
) -> Response {
    if let Some(r) = require_user(&actor, "/account") {
        return r;
    }
    let label = fields.get("label").cloned().unwrap_or_default();
    match state.service.create_token(&actor, &label).await {
        Ok(token) => account_page(&state, &actor, Some(token), None).await,
        Err(e) => account_page(&state, &actor, None, Some(Failed::new("token", fields, &e))).await,
    }
}

pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    Session { actor, .. }: Session,
    Path(id): Path<i64>,
) -> Response {
    match state.service.revoke_token(&actor, id).await {
        Ok(()) => see_other("/account"),
        Err(e) => error_page(&actor, &e),
    }
}

pub(crate) async fn submissions(
    State(state): State<AppState>,
    Session { actor, .. }: Session,
) -> Response {
    submissions_page(&state, &actor, None).await
}

async fn submissions_page(state: &AppState, actor: &Actor, failed: Option<Failed>) -> Response {
    if let Some(r) = require_user(actor, "/submissions") {
        return r;
    }
    let list = match state
        .service
        .submissions(
            actor,
            &[],
            Page {
                after: 0,
                limit: 200,
            },
        )
        .await
    {
        Ok(l) => l,
        Err(e) => return error_page(actor, &e),
    };
    let mine: Vec<_> = match actor {
        Actor::User(u) => list.into_iter().filter(|s| s.owner == u.name).collect(),
        Actor::Anonymous => Vec::new(),
    };
    render(
        if failed.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        "submissions.html",
        actor,
        json!({"title": "Your submissions", "json": "/api/v1/submissions",
               "submissions": mine, "failed": failed.map(|f| f.context())}),
    )
}

pub(crate) async fn create_submission(
    State(state): State<AppState>,
    Session { actor, .. }: Session,
    Form(fields): Form<Fields>,
) -> Response {
    if let Some(r) = require_user(&actor, "/submissions") {
        return r;
    }
    let get = |k: &str| {
        fields
            .get(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let new = NewSubmission {
        alias: get("alias"),
        title: get("title"),
        hold_until: get("hold_until"),
    };
    match state.service.create_submission(&actor, new).await {
        Ok(s) => see_other(&format!("/submissions/{}", s.id)),
        Err(e) => submissions_page(&state, &actor, Some(Failed::new("new", fields, &e))).await,
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Done {
    done: Option<String>,
}

pub(crate) async fn submission(
    State(state): State<AppState>,
    Session { actor, .. }: Session,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> Response {
    if let Some(r) = require_user(&actor, &format!("/submissions/{id}")) {
        return r;
    }
    submission_page(&state, &actor, id, None, done.done).await
}

async fn submission_page(
    state: &AppState,
    actor: &Actor,
    id: i64,
    failed: Option<Failed>,
    done: Option<String>,
) -> Response {
    let service = &state.service;
    let view = match service.submission(actor, id).await {
        Ok(v) => v,
        Err(e) => return error_page(actor, &e),
    };
    let mut objects = serde_json::Map::new();
    for kind in [
        ObjectKind::Project,
        ObjectKind::Sample,
        ObjectKind::Experiment,
        ObjectKind::Run,
    ] {
        match service
            .objects(
                actor,
                kind,
                &[],
                Some(id),
                false,
                Page {
                    after: 0,
                    limit: 1000,
                },
            )
            .await
        {
            Ok(list) => {
                objects.insert(kind.plural().to_owned(), json!(list));
            }
            Err(e) => return error_page(actor, &e),
        }
    }
    // The files each run declares, with what has arrived of them.
    let mut runs = Vec::new();
    for run in objects
        .get("runs")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        let run_id = run["id"].as_i64().unwrap_or(0);
        let stored = service
            .run_files(actor, &run_id.to_string())
            .await
            .unwrap_or_default();
        let uploads = service
            .uploads(actor, Some(run_id))
            .await
            .unwrap_or_default();
        let declared = run["metadata"]["files"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let files: Vec<Value> = declared
            .iter()
            .map(|f| {
                let name = f["name"].as_str().unwrap_or("");
                let file = stored.iter().find(|s| s.name == name);
                let upload = uploads
                    .iter()
                    .filter(|u| u.file_name == name)
                    .max_by(|a, b| a.created_at.cmp(&b.created_at));
                json!({"name": name, "md5": f["md5"], "type": f["type"], "file": file,
                       "upload": upload.map(|u| json!({"state": u.state, "offset": u.offset, "length": u.length,
                           "validation": u.validation.as_ref().map(|j| j.state.clone())}))})
            })
            .collect();
        runs.push(json!({"run": run, "files": files}));
    }
    let editable = matches!(view.status, "draft" | "returned");
    let owner = matches!(actor, Actor::User(u) if u.name == view.owner);
    let history = service
        .submission_history(actor, id)
        .await
        .unwrap_or_default();
    let checklists: Vec<Value> = Checklist::all()
        .iter()
        .map(|c| json!({"name": c.name, "title": c.title}))
        .collect();
    let status = match &failed {
        Some(f) if f.errors.contains_key("") || f.form.is_empty() => StatusCode::BAD_REQUEST,
        Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
        None => StatusCode::OK,
    };
    render(
        status,
        "submission.html",
        actor,
        json!({
            "title": format!("Submission {}", view.alias),
            "json": format!("/api/v1/submissions/{id}"),
            "submission": view,
            "objects": objects,
            "runs": runs,
            "editable": editable && owner,
            "reviewable": actor.is_curator() && view.status == "in_review",
            "history": history,
            "checklists": checklists,
            "failed": failed.map(|f| f.context()),
            "done": done,
            "vocab": {
                "strategy": vocab::library_strategy().terms(),
                "source": vocab::library_source().terms(),
                "selection": vocab::library_selection().terms(),
                "platform": platforms(),
                "layout": vocab::LAYOUTS,
            },
        }),
    )
}

fn platforms() -> Vec<&'static str> {
    let mut list: Vec<&str> = vocab::instruments().iter().map(|(p, _)| *p).collect();
    list.sort_unstable();
    list.dedup();
    list
}

/// Builds a batch from form fields named by JSON path; empty fields are left out.
fn batch_from_form(fields: &Fields) -> Value {
    let mut batch = json!({});
    for (path, value) in fields {
        let value = value.trim();
        if value.is_empty() || !path.contains('[') {
            continue;
        }
        let numeric = path.ends_with("taxon_id") || path.ends_with("insert_size");
        let value = match value.parse::<u64>() {
            Ok(n) if numeric => json!(n),
            _ => json!(value),
        };
        set_path(&mut batch, path, value);
    }
    // Free attributes, one `tag = value` per line, beside the named ones.
    if let Some(text) = fields.get("samples[0].extra_attributes") {
        for line in text.lines() {
            if let Some((tag, value)) = line.split_once('=') {
                let (tag, value) = (tag.trim(), value.trim());
                if !tag.is_empty() && !value.is_empty() {
                    set_path(
                        &mut batch,
                        &format!("samples[0].attributes.{tag}"),
                        json!(value),
                    );
                }
            }
        }
        if let Some(sample) = batch
            .get_mut("samples")
            .and_then(|s| s.get_mut(0))
            .and_then(Value::as_object_mut)
        {
            sample.remove("extra_attributes");
        }
    }
    // A run made with its experiment on one form belongs to it.
    if batch["runs"][0].is_object()
        && batch["runs"][0]["experiment"].is_null()
        && let Some(alias) = batch["experiments"][0]["alias"].as_str().map(str::to_owned)
    {
        batch["runs"][0]["experiment"] = json!(alias);
    }
    batch
}

/// Sets `a[0].b.c` in a JSON value, making objects and arrays on the way.
fn set_path(root: &mut Value, path: &str, value: Value) {
    let mut current = root;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let (name, index) = match part.split_once('[') {
            Some((name, rest)) => (name, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (*part, None),
        };
        if !current.is_object() {
            *current = json!({});
        }
        let Some(map) = current.as_object_mut() else {
            return;
        };
        let slot = map.entry(name.to_owned()).or_insert(Value::Null);
        current = match index {
            Some(index) => {
                if !slot.is_array() {
                    *slot = json!([]);
                }
                let Some(items) = slot.as_array_mut() else {
                    return;
                };
                while items.len() <= index {
                    items.push(json!({}));
                }
                &mut items[index]
            }
            None => slot,
        };
        if last {
            *current = value;
            return;
        }
    }
}

pub(crate) async fn add_objects(
    State(state): State<AppState>,
    Session { actor, .. }: Session,
    Path(id): Path<i64>,
    Form(fields): Form<Fields>,
) -> Response {
    let form = match fields.get("form").map(String::as_str) {
        Some("project") => "project",
        Some("sample") => "sample",
        _ => "run",
    };
    let batch = batch_from_form(&fields);
    let bytes = serde_json::to_vec(&batch).unwrap_or_default();
    match state.service.add_json(&actor, id, &bytes).await {
        Ok(_) => see_other(&format!("/submissions/{id}?done={form}#{form}s")),
        Err(e) => {
            submission_page(
                &state,
                &actor,
                id,
                Some(Failed::new(form, fields, &e)),
                None,
            )
            .await
        }
    }
}

pub(crate) async fn add_sheet(
    State(state): State<AppState>,
    Session { actor, .. }: Session,
    Path(id): Path<i64>,
    mut multipart: Multipart,
) -> Response {
    let mut bytes = Vec::new();
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("sheet") => match field.bytes().await {
                Ok(b) => bytes = b.to_vec(),
                Err(e) => return sheet_failed(&state, &actor, id, &e.body_text()).await,
            },
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => return sheet_failed(&state, &actor, id, &e.body_text()).await,
        }
    }
    if bytes.is_empty() {
        return sheet_failed(
            &state,
            &actor,
            id,
            "choose a spreadsheet file (TSV or XLSX) first",
        )
        .await;
    }
    let format = if bytes.starts_with(b"PK\x03\x04") {
        SheetFormat::Xlsx
    } else {
        SheetFormat::Tsv
    };
    match state
        .service
        .add_sheet(&actor, id, &bytes, format, None)
        .await
    {
        Ok(_) => see_other(&format!("/submissions/{id}?done=sheet#samples")),
        Err(e) => {
            submission_page(
                &state,
                &actor,
                id,
                Some(Failed::new("sheet", Fields::new(), &e)),
                None,
            )
            .await
        }
    }
}

async fn sheet_failed(state: &AppState, actor: &Actor, id: i64, message: &str) -> Response {
    let error = Error::BadRequest(seqbank_metadata::ParseError::new("sheet", message));
    submission_page(
        state,
        actor,
        id,
        Some(Failed::new("sheet", Fields::new(), &error)),
        None,
    )
    .await
}

/// Where a wizard form goes next: on to the page with a note of what was done, or back to it
/// with the failure shown at the form.
async fn answer<T>(
    state: &AppState,
    actor: &Actor,
    id: i64,
    result: Result<T, Error>,
    done: &str,
    form: &'static str,
    fields: Fields,
) -> Response {
    match result {
        Ok(_) => see_other(&format!("/submissions/{id}?done={done}")),
        Err(e) => {
            submission_page(state, actor, id, Some(Failed::new(form, fields, &e)), None).await
        }
    }
}

pub(crate) async fn set_hold(
    State(state): State<AppState>,
    Session { actor, .. }: Session,
    Path(id): Path<i64>,
    Form(fields): Form<Fields>,
) -> Response {
    let hold = fields
        .get("hold_until")
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    let result = state
        .service
        .update_submission(&actor, id, None, Some(hold))
        .await;
    answer(&state, &actor, id, result, "hold", "hold", fields).await
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    Session { actor, .. }: Session,
    Path(id): Path<i64>,
) -> Response {
    let result = state.service.submit(&actor, id).await;
    answer(
        &state,
        &actor,
        id,
        result,
        "submit",
        "submit",
        Fields::new(),
    )
    .await
}

pub(crate) async fn approve(
    State(state): State<AppState>,
    Session { actor, .. }: Session,
    Path(id): Path<i64>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Some(hold) = fields.get("hold_until") {
        let hold = Some(hold.trim().to_owned()).filter(|h| !h.is_empty());
        let result = state
            .service
            .update_submission(&actor, id, None, Some(hold))
            .await;
        if result.is_err() {
            return answer(&state, &actor, id, result, "approve", "review", fields).await;
        }
    }
    let comment = fields
        .get("comment")
        .map(|c| c.trim())
        .filter(|c| !c.is_empty());
    let result = state.service.approve(&actor, id, comment).await;
    answer(&state, &actor, id, result, "approve", "review", fields).await
}

pub(crate) async fn return_submission(
    State(state): State<AppState>,
    Session { actor, .. }: Session,
    Path(id): Path<i64>,
    Form(fields): Form<Fields>,
) -> Response {
    let reason = fields.get("reason").cloned().unwrap_or_default();
    let result = state.service.return_submission(&actor, id, &reason).await;
    answer(&state, &actor, id, result, "return", "review", fields).await
}

pub(crate) async fn curation(
    State(state): State<AppState>,
    Session { actor, .. }: Session,
) -> Response {
    if let Some(r) = require_user(&actor, "/curation") {
        return r;
    }
    if !actor.is_curator() {
        return error_page(
            &actor,
            &Error::Forbidden("the review queue is for curators".into()),
        );
    }
    let queue = match state
        .service
        .submissions(
            &actor,
            &[Status::Submitted, Status::InReview],
            Page {
                after: 0,
                limit: 500,
            },
        )
        .await
    {
        Ok(q) => q,
        Err(e) => return error_page(&actor, &e),
    };
    render(
        StatusCode::OK,
        "curation.html",
        &actor,
        json!({"title": "Review queue", "json": "/api/v1/submissions?status=submitted,in_review",
               "queue": queue}),
    )
}

pub(crate) async fn release(
    State(state): State<AppState>,
    Session { actor, .. }: Session,
    Path((kind, key)): Path<(String, String)>,
) -> Response {
    let Ok(kind) = kind.parse::<ObjectKind>() else {
        return error_page(&actor, &Error::NotFound("object"));
    };
    match state.service.release(&actor, kind, &key, true).await {
        Ok(view) => see_other(&format!(
            "/{}/{}",
            kind.as_str(),
            view.accession.unwrap_or(key)
        )),
        Err(e) => error_page(&actor, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_becomes_a_batch_by_path() {
        let fields: Fields = [
            ("form", "run"),
            ("experiments[0].alias", "e1"),
            ("experiments[0].library.strategy", "RNA-Seq"),
            ("runs[0].alias", "r1"),
            ("runs[0].files[1].name", "b.fq"),
            ("runs[0].files[0].name", "a.fq"),
            ("samples[0].organism.taxon_id", "9606"),
            ("samples[0].extra_attributes", "tissue = liver\nbad line\n"),
            ("samples[0].title", "  "),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let batch = batch_from_form(&fields);
        assert_eq!(
            batch,
            json!({
                "experiments": [{"alias": "e1", "library": {"strategy": "RNA-Seq"}}],
                "runs": [{"alias": "r1", "experiment": "e1", "files": [{"name": "a.fq"}, {"name": "b.fq"}]}],
                "samples": [{"organism": {"taxon_id": 9606}, "attributes": {"tissue": "liver"}}],
            })
        );
    }
}
