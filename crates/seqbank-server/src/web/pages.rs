//! Pages for readers: the home page, search, and a page per record.

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
};
use seqbank_core::ObjectKind;
use seqbank_search::{Request, Sort};
use seqbank_service::{Actor, Error};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Session, error_page, render};
use crate::AppState;

/// Facets offered on the search page, with their labels.
const FACETS: &[(&str, &str)] = &[
    ("type", "Record type"),
    ("organism", "Organism"),
    ("library_strategy", "Strategy"),
    ("platform", "Platform"),
    ("source", "Source"),
    ("year", "Year released"),
    ("access", "Access"),
];

const RESULT_FIELDS: &[&str] = &[
    "accession",
    "type",
    "title",
    "description",
    "organism",
    "platform",
    "library_strategy",
    "status",
    "released",
    "source",
];

/// Hits per page on the search page.
const PAGE_SIZE: usize = 20;

pub(crate) async fn home(
    State(state): State<AppState>,
    Session { actor, .. }: Session,
) -> Response {
    let service = &state.service;
    let counts = service
        .search(
            &actor,
            Request {
                facets: vec!["type".into()],
                limit: 0,
                ..Request::default()
            },
        )
        .await;
    let latest = service
        .search(
            &actor,
            Request {
                query: "access:public".into(),
                fields: ["accession", "type", "title", "organism", "released"]
                    .map(String::from)
                    .to_vec(),
                limit: 8,
                sort: Sort::Field {
                    name: "released".into(),
                    descending: true,
                },
                ..Request::default()
            },
        )
        .await;
    let holdings = service.holdings().await;
    let (counts, latest, holdings) = match (counts, latest, holdings) {
        (Ok(c), Ok(l), Ok(h)) => (c, l, h),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return error_page(&actor, &e),
    };
    let mut by_kind = serde_json::Map::new();
    for value in counts.facets.iter().flat_map(|f| &f.values) {
        by_kind.insert(value.value.clone(), json!(value.count));
    }
    let kinds: Vec<Value> = ["project", "sample", "experiment", "run"]
        .iter()
        .map(|k| json!({"kind": k, "plural": format!("{k}s"), "count": by_kind.get(*k).cloned().unwrap_or(json!(0))}))
        .collect();
    render(
        StatusCode::OK,
        "home.html",
        &actor,
        json!({
            "title": "Home",
            "json": "/api/v1/search?limit=0&facets=type",
            "kinds": kinds,
            "total": counts.total,
            "files": holdings.files,
            "bytes": holdings.bytes,
            "latest": hits_json(&latest.hits),
        }),
    )
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct SearchParams {
    #[serde(default)]
    query: String,
    #[serde(default)]
    result: String,
    #[serde(default)]
    cursor: String,
    #[serde(default)]
    sort: String,
    /// How many pages came before, for the page number shown.
    #[serde(default)]
    page: usize,
}

pub(crate) async fn search(
    State(state): State<AppState>,
    Session { actor, .. }: Session,
    Query(params): Query<SearchParams>,
) -> Response {
    let sort_text = if params.sort.is_empty() {
        "relevance"
    } else {
        params.sort.as_str()
    };
    let mut context = json!({
        "title": if params.query.is_empty() { "Search".to_owned() } else { format!("{} – search", params.query) },
        "query": params.query,
        "result": params.result,
        "sort": sort_text,
        "page": params.page + 1,
    });
    let this_query = api_query(&params.query, &params.result, sort_text);
    context["json"] = json!(format!("/api/v1/search?{this_query}&fields=all"));
    context["tsv"] = json!(format!(
        "/api/v1/search?{this_query}&format=tsv&limit=1000&fields={}",
        RESULT_FIELDS.join(",")
    ));
    let sort = match Sort::parse(sort_text) {
        Ok(s) => s,
        Err(e) => {
            context["error"] = json!({"parameter": "sort", "message": e.to_string()});
            return render(StatusCode::BAD_REQUEST, "search.html", &actor, context);
        }
    };
    let request = Request {
        query: params.query.clone(),
        result: (!params.result.is_empty()).then(|| params.result.clone()),
        fields: RESULT_FIELDS.iter().map(|f| (*f).to_owned()).collect(),
        facets: FACETS.iter().map(|(f, _)| (*f).to_owned()).collect(),
        facet_limit: 8,
        limit: PAGE_SIZE,
        cursor: (!params.cursor.is_empty()).then(|| params.cursor.clone()),
        sort,
    };
    match state.service.search(&actor, request).await {
        Ok(response) => {
            let terms = highlight_terms(&params.query);
            let mut hits = hits_json(&response.hits);
            for hit in hits.iter_mut() {
                for field in ["title", "description"] {
                    if let Some(text) = hit.get(field).and_then(Value::as_str) {
                        let text = if field == "description" {
                            excerpt(text, &terms, 240)
                        } else {
                            text.to_owned()
                        };
                        hit[format!("{field}_html")] = json!(highlight(&text, &terms));
                    }
                }
            }
            let facets: Vec<Value> = FACETS
                .iter()
                .filter_map(|(name, label)| {
                    let facet = response.facets.iter().find(|f| f.field == *name)?;
                    let values: Vec<Value> = facet
                        .values
                        .iter()
                        .map(|v| {
                            let href = if *name == "type" {
                                format!("/search?{}", api_query(&params.query, &v.value, sort_text))
                            } else {
                                let filter = format!("{name}:{}", quote(&v.value));
                                let query = if params.query.trim().is_empty() {
                                    filter
                                } else {
                                    format!("{} AND {filter}", params.query.trim())
                                };
                                format!("/search?{}", api_query(&query, &params.result, sort_text))
                            };
                            json!({"value": v.value, "count": v.count, "href": href})
                        })
                        .collect();
                    (!values.is_empty())
                        .then(|| json!({"name": name, "label": label, "values": values}))
                })
                .collect();
            context["total"] = json!(response.total);
            context["hits"] = json!(hits);
            context["facets"] = json!(facets);
            if let Some(cursor) = response.next_cursor {
                context["next"] = json!(format!(
                    "/search?{}&cursor={}&page={}",
                    api_query(&params.query, &params.result, sort_text),
                    encode(&cursor),
                    params.page + 1
                ));
            }
            if !params.cursor.is_empty() {
                context["first"] = json!(format!(
                    "/search?{}",
                    api_query(&params.query, &params.result, sort_text)
                ));
            }
            render(StatusCode::OK, "search.html", &actor, context)
        }
        Err(Error::BadRequest(e)) => {
            context["error"] = json!({"parameter": e.path, "message": e.message});
            render(StatusCode::BAD_REQUEST, "search.html", &actor, context)
        }
        Err(e) => error_page(&actor, &e),
    }
}

pub(crate) async fn search_help(Session { actor, .. }: Session) -> Response {
    render(
        StatusCode::OK,
        "search_help.html",
        &actor,
        json!({"title": "How to search", "json": "/api/v1/search/fields"}),
    )
}

pub(crate) async fn project(s: State<AppState>, v: Session, k: Path<String>) -> Response {
    record(s, v, ObjectKind::Project, k).await
}

pub(crate) async fn sample(s: State<AppState>, v: Session, k: Path<String>) -> Response {
    record(s, v, ObjectKind::Sample, k).await
}

pub(crate) async fn experiment(s: State<AppState>, v: Session, k: Path<String>) -> Response {
    record(s, v, ObjectKind::Experiment, k).await
}

pub(crate) async fn run(s: State<AppState>, v: Session, k: Path<String>) -> Response {
    record(s, v, ObjectKind::Run, k).await
}

async fn record(
    State(state): State<AppState>,
    Session { actor, .. }: Session,
    kind: ObjectKind,
    Path(key): Path<String>,
) -> Response {
    let tree = match state.service.record_tree(&actor, kind, &key).await {
        Ok(t) => t,
        Err(Error::NotFound(_)) => return mirrored(&state, &actor, kind, &key).await,
        Err(e) => return error_page(&actor, &e),
    };
    let history = if tree.object.metadata.is_some() {
        state
            .service
            .history(&actor, kind, &key)
            .await
            .map(|(events, _)| events)
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let object = &tree.object;
    let name = object
        .accession
        .clone()
        .or_else(|| object.alias.clone())
        .unwrap_or_else(|| object.id.to_string());
    let may_release = object.status == "private"
        && match &actor {
            Actor::User(user) => {
                actor.is_curator() || object.owner.as_deref() == Some(user.name.as_str())
            }
            Actor::Anonymous => false,
        };
    let fields = object
        .metadata
        .as_ref()
        .map(|m| flatten(m, ""))
        .unwrap_or_default();
    render(
        StatusCode::OK,
        "record.html",
        &actor,
        json!({
            "title": format!("{} {name}", kind.as_str()),
            "json": format!("/api/v1/{}/{key}", kind.plural()),
            "kind": kind.as_str(),
            "key": key,
            "name": name,
            "tree": tree,
            "fields": fields,
            "history": history,
            "may_release": may_release,
            "tombstone": object.metadata.is_none(),
        }),
    )
}

/// The mirror's record counts and latest imports, with their counts and errors.
pub(crate) async fn mirror_status(
    State(state): State<AppState>,
    Session { actor, .. }: Session,
) -> Response {
    match state.service.mirror_status().await {
        Ok(status) => render(
            StatusCode::OK,
            "mirror_status.html",
            &actor,
            json!({"title": "Mirrored records", "json": "/api/v1/mirror", "status": status}),
        ),
        Err(e) => error_page(&actor, &e),
    }
}

/// A record mirrored from another archive: its fields, attributes, links and the dump's own
/// text. Read-only: there is nothing to release or edit.
async fn mirrored(state: &AppState, actor: &Actor, kind: ObjectKind, key: &str) -> Response {
    let (view, raw) = match state
        .service
        .mirror_record(actor, Some(kind.as_str()), key)
        .await
    {
        Ok(found) => found,
        Err(e) => return error_page(actor, &e),
    };
    let mut fields = view.fields.clone();
    let take = |fields: &mut Value, key: &str| {
        fields
            .as_object_mut()
            .and_then(|m| m.remove(key))
            .unwrap_or(Value::Null)
    };
    let attributes = take(&mut fields, "attributes");
    let links = take(&mut fields, "links");
    let description = take(&mut fields, "description");
    render(
        StatusCode::OK,
        "mirror.html",
        actor,
        json!({
            "title": format!("{} {}", kind.as_str(), view.accession),
            "json": format!("/api/v1/{}/{}", kind.plural(), view.accession),
            "xml": format!("/api/v1/{}/{}?format=xml", kind.plural(), view.accession),
            "kind": kind.as_str(),
            "record": view,
            "fields": flatten(&fields, ""),
            "description": description,
            "attributes": attributes,
            "links": links,
            "raw": raw,
        }),
    )
}

/// Turns metadata into (label, value) rows: nested objects as `library › strategy`, lists of
/// scalars joined, the file list left to its own table.
fn flatten(value: &Value, prefix: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Value::Object(map) = value {
        for (key, value) in map {
            if prefix.is_empty() && matches!(key.as_str(), "alias" | "files") {
                continue;
            }
            let label = if prefix.is_empty() {
                key.replace('_', " ")
            } else {
                format!("{prefix} › {}", key.replace('_', " "))
            };
            match value {
                Value::Object(_) => out.extend(flatten(value, &label)),
                Value::Array(items) => {
                    let text: Vec<String> = items.iter().map(scalar).collect();
                    out.push((label, text.join("; ")));
                }
                other => out.push((label, scalar(other))),
            }
        }
    }
    out
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn hits_json(hits: &[seqbank_search::Hit]) -> Vec<Value> {
    hits.iter()
        .map(|hit| Value::Object(hit.fields.iter().cloned().collect()))
        .collect()
}

fn api_query(query: &str, result: &str, sort: &str) -> String {
    let mut out = format!("query={}", encode(query));
    if !result.is_empty() {
        out.push_str(&format!("&result={}", encode(result)));
    }
    if sort != "relevance" {
        out.push_str(&format!("&sort={}", encode(sort)));
    }
    out
}

/// Percent-encodes a query-string value.
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else if b == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn quote(value: &str) -> String {
    if value
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        value.to_owned()
    } else {
        format!("\"{}\"", value.replace('"', ""))
    }
}

/// The words of a query worth marking in results: not operators, not field names, not ranges.
fn highlight_terms(query: &str) -> Vec<String> {
    let mut terms = Vec::new();
    for raw in query.split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '"')) {
        if matches!(raw, "AND" | "OR" | "NOT" | "TO") || raw.starts_with('-') {
            continue;
        }
        let word = raw.rsplit(':').next().unwrap_or(raw);
        if word.contains('[') || word.contains(']') || word.contains('{') {
            continue;
        }
        let word: String = word
            .trim_end_matches('*')
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        if word.chars().count() >= 3 && !terms.contains(&word) {
            terms.push(word);
        }
    }
    terms
}

/// Escapes text for HTML and wraps words that start with a query term (so `liver` marks
/// `livers`) in `<mark>`.
fn highlight(text: &str, terms: &[String]) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.is_empty() {
            return;
        }
        let lower = word.to_lowercase();
        let hit = terms.iter().any(|t| lower.starts_with(t.as_str()));
        if hit {
            out.push_str("<mark>");
        }
        escape_into(word, out);
        if hit {
            out.push_str("</mark>");
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            let mut buf = [0u8; 4];
            escape_into(c.encode_utf8(&mut buf), &mut out);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Escapes text for HTML text and attribute values.
pub(crate) fn escape_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// About `width` characters of a long text around its first matching term.
fn excerpt(text: &str, terms: &[String], width: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= width {
        return text.to_owned();
    }
    let lower = text.to_lowercase();
    let first = terms
        .iter()
        .filter_map(|t| lower.find(t.as_str()))
        .min()
        .map_or(0, |byte| lower[..byte].chars().count());
    let start = first.saturating_sub(width / 3);
    let end = (start + width).min(chars.len());
    let mut out: String = chars[start..end].iter().collect();
    if start > 0 {
        out.insert(0, '…');
    }
    if end < chars.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlight_marks_words_starting_with_terms_and_escapes_the_rest() {
        let terms = highlight_terms(
            "liver tissue:brain AND NOT mouse -rat released:[2020 TO 2021] \"<b>\"",
        );
        assert_eq!(terms, ["liver", "brain", "mouse"]);
        assert_eq!(
            highlight("Livers & <brain> cells", &terms),
            "<mark>Livers</mark> &amp; &lt;<mark>brain</mark>&gt; cells"
        );
    }

    #[test]
    fn excerpt_centres_on_the_first_match() {
        let text = format!("{} liver {}", "a".repeat(300), "b".repeat(300));
        let cut = excerpt(&text, &["liver".to_owned()], 60);
        assert!(cut.starts_with('…') && cut.ends_with('…'), "{cut}");
        assert!(cut.contains("liver"), "{cut}");
    }

    #[test]
    fn flatten_names_nested_fields_and_skips_files() {
        let rows = flatten(
            &json!({"alias": "x", "title": "T", "library": {"strategy": "WGS"}, "files": [1], "ids": ["a", "b"]}),
            "",
        );
        assert_eq!(
            rows,
            [
                ("ids".to_owned(), "a; b".to_owned()),
                ("library › strategy".to_owned(), "WGS".to_owned()),
                ("title".to_owned(), "T".to_owned())
            ]
        );
    }
}
