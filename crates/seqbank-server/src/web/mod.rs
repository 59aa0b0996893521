//! The web pages: server-rendered HTML over the same service as the API, for reading without
//! JavaScript and for submitting and curating with a little of it (uploads).
//!
//! Every page links its JSON twin in the API. A browser signs in with a form; the API token it
//! gets is kept in an `HttpOnly` cookie that the API also accepts, so the page's upload script
//! speaks tus to `/api/v1/uploads` like any other client. Requests that change state and carry
//! the cookie must come from the archive's own pages ([`same_origin`]).

mod forms;
mod pages;

use std::sync::LazyLock;

use axum::{
    Router,
    extract::FromRequestParts,
    http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts},
    response::{Html, IntoResponse, Response},
    routing::{get, post},
};
use minijinja::Environment;
use seqbank_service::{Actor, Error};
use serde_json::{Value, json};

use crate::AppState;

/// The cookie that holds a signed-in browser's API token.
pub(crate) const SESSION_COOKIE: &str = "seqbank_session";

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/search", get(pages::search))
        .route("/project/{key}", get(pages::project))
        .route("/sample/{key}", get(pages::sample))
        .route("/experiment/{key}", get(pages::experiment))
        .route("/run/{key}", get(pages::run))
        .route("/{kind}/{key}/release", post(forms::release))
        .route("/help/search", get(pages::search_help))
        .route("/mirror", get(pages::mirror_status))
        .route("/login", get(forms::login_page).post(forms::login))
        .route("/register", get(forms::register_page).post(forms::register))
        .route("/logout", post(forms::logout))
        .route("/account", get(forms::account))
        .route("/account/tokens", post(forms::create_token))
        .route("/account/tokens/{id}/revoke", post(forms::revoke_token))
        .route(
            "/submissions",
            get(forms::submissions).post(forms::create_submission),
        )
        .route("/submissions/{id}", get(forms::submission))
        .route("/submissions/{id}/objects", post(forms::add_objects))
        .route("/submissions/{id}/sheet", post(forms::add_sheet))
        .route("/submissions/{id}/hold", post(forms::set_hold))
        .route("/submissions/{id}/submit", post(forms::submit))
        .route("/submissions/{id}/approve", post(forms::approve))
        .route("/submissions/{id}/return", post(forms::return_submission))
        .route("/curation", get(forms::curation))
        .route("/static/seqbank.css", get(stylesheet))
        .route("/static/seqbank.js", get(script))
}

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in [
        ("base.html", include_str!("templates/base.html")),
        ("macros.html", include_str!("templates/macros.html")),
        ("home.html", include_str!("templates/home.html")),
        ("search.html", include_str!("templates/search.html")),
        (
            "search_help.html",
            include_str!("templates/search_help.html"),
        ),
        ("record.html", include_str!("templates/record.html")),
        ("mirror.html", include_str!("templates/mirror.html")),
        (
            "mirror_status.html",
            include_str!("templates/mirror_status.html"),
        ),
        ("login.html", include_str!("templates/login.html")),
        ("account.html", include_str!("templates/account.html")),
        (
            "submissions.html",
            include_str!("templates/submissions.html"),
        ),
        ("submission.html", include_str!("templates/submission.html")),
        ("curation.html", include_str!("templates/curation.html")),
        ("error.html", include_str!("templates/error.html")),
    ] {
        // The templates are part of the binary; a broken one is a build mistake the tests catch.
        if let Err(e) = env.add_template(name, source) {
            panic!("template {name} does not parse: {e}");
        }
    }
    // HTML escaping that leaves '/' alone, so paths in links read as paths.
    env.set_formatter(|out, state, value| match value.as_str() {
        Some(text) if state.auto_escape() == minijinja::AutoEscape::Html && !value.is_safe() => {
            let mut escaped = String::with_capacity(text.len());
            pages::escape_into(text, &mut escaped);
            out.write_str(&escaped).map_err(minijinja::Error::from)
        }
        _ => minijinja::escape_formatter(out, state, value),
    });
    env.add_filter("bytes", human_bytes);
    env.add_filter("thousands", thousands);
    env
});

/// Renders a page with the signed-in user in its context.
pub(crate) fn render(
    status: StatusCode,
    name: &str,
    actor: &Actor,
    mut context: Value,
) -> Response {
    if let Actor::User(user) = actor {
        context["user"] = json!({"name": user.name, "role": user.role.as_str(),
            "curator": actor.is_curator()});
    }
    let html = TEMPLATES
        .get_template(name)
        .and_then(|t| t.render(&context));
    match html {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => {
            tracing::error!(template = name, error = %e, "a page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
                .into_response()
        }
    }
}

/// An error shown as a page, with the status the API would give.
pub(crate) fn error_page(actor: &Actor, error: &Error) -> Response {
    let status = crate::ApiError::status_of(error);
    let (title, advice) = match error {
        Error::Unauthenticated => ("Sign in first", "This page is for signed-in users."),
        Error::NotFound(_) => (
            "Not found",
            "Nothing you may see has this name. Records still private are shown only to their submitters.",
        ),
        Error::Forbidden(_) => ("Not allowed", ""),
        _ => ("Something went wrong", ""),
    };
    let message = match error {
        Error::Internal(_) => {
            "internal error; the administrators can find it in the log".to_owned()
        }
        e => e.to_string(),
    };
    render(
        status,
        "error.html",
        actor,
        json!({"title": title, "message": message, "advice": advice,
               "status": status.as_u16(), "signin": matches!(error, Error::Unauthenticated)}),
    )
}

/// Who is looking at a page: the user of the session cookie, or anonymous. A state-changing
/// request with the cookie from another site is refused here, before any handler runs.
pub(crate) struct Session {
    pub(crate) actor: Actor,
    pub(crate) token: Option<String>,
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = session_token(&parts.headers) else {
            return Ok(Session {
                actor: Actor::Anonymous,
                token: None,
            });
        };
        if !same_origin(&parts.method, &parts.headers) {
            return Err(error_page(
                &Actor::Anonymous,
                &Error::Forbidden("this form was sent from another site; open the page on the archive and send it again".into()),
            ));
        }
        match state.service.authenticate(token).await {
            Ok(actor) => Ok(Session {
                actor,
                token: Some(token.to_owned()),
            }),
            Err(_) => Ok(Session {
                actor: Actor::Anonymous,
                token: None,
            }),
        }
    }
}

/// The token in the session cookie, if any.
pub(crate) fn session_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty())
}

/// Whether a request that carries the session cookie may act with it: safe methods always;
/// others only from the archive's own pages (`Sec-Fetch-Site`, or else `Origin` against `Host`).
/// Clients that send neither header are not browsers and are let through.
pub(crate) fn same_origin(method: &Method, headers: &HeaderMap) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    let get = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    match (get(header::ORIGIN), get(header::HOST)) {
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest.trim_end_matches('/') == host),
        (Some(_), None) => false,
        (None, _) => true,
    }
}

async fn stylesheet() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("static/seqbank.css"),
    )
}

async fn script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("static/seqbank.js"),
    )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

fn human_bytes(value: minijinja::Value) -> String {
    let n = f64::try_from(value).unwrap_or(0.0);
    let units = ["B", "KB", "MB", "GB", "TB", "PB"];
    let mut size = n;
    let mut unit = 0;
    while size >= 1000.0 && unit + 1 < units.len() {
        size /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n:.0} B")
    } else {
        format!("{size:.1} {}", units[unit])
    }
}

fn thousands(value: minijinja::Value) -> String {
    let n = i64::try_from(value).unwrap_or(0);
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}
