//! `/api/v1/search`: one box over every record, with `searchFields` and `returnFields` to
//! describe it, like ENA's Portal API.

use axum::{
    Json, Router,
    extract::State,
    http::header,
    response::{IntoResponse, Response},
    routing::get,
};
use seqbank_search::{FIELDS, Request, Sort};
use seqbank_service::Error;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    ApiError, AppState,
    api::{Auth, Q},
};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/search", get(search))
        .route("/api/v1/search/fields", get(search_fields))
        .route("/api/v1/search/searchFields", get(search_fields))
        .route("/api/v1/search/returnFields", get(return_fields))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchQuery {
    #[serde(default)]
    query: String,
    result: Option<String>,
    fields: Option<String>,
    facets: Option<String>,
    facet_limit: Option<usize>,
    limit: Option<usize>,
    cursor: Option<String>,
    sort: Option<String>,
    format: Option<String>,
}

fn list(text: Option<&str>) -> Vec<String> {
    text.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn bad(parameter: &str, message: String) -> ApiError {
    ApiError(Error::BadRequest(seqbank_metadata::ParseError::new(
        parameter, message,
    )))
}

async fn search(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Q(q): Q<SearchQuery>,
) -> Result<Response, ApiError> {
    let tsv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("tsv") => true,
        Some(other) => {
            return Err(bad(
                "format",
                format!("format {other:?} is neither json nor tsv"),
            ));
        }
    };
    let sort = Sort::parse(q.sort.as_deref().unwrap_or("relevance"))
        .map_err(|e| bad("sort", e.to_string()))?;
    let facet_limit = q.facet_limit.unwrap_or(10);
    if facet_limit > 1000 {
        return Err(bad(
            "facet_limit",
            format!("facet_limit {facet_limit} is too large: at most 1000 values per facet"),
        ));
    }
    let request = Request {
        query: q.query,
        result: q.result.filter(|r| !r.is_empty()),
        fields: list(q.fields.as_deref()),
        facets: list(q.facets.as_deref()),
        facet_limit,
        limit: q.limit.unwrap_or(seqbank_search::DEFAULT_LIMIT),
        cursor: q.cursor.filter(|c| !c.is_empty()),
        sort,
    };
    let names = request.fields.clone();
    let response = state.service.search(&actor, request).await?;
    if !tsv {
        return Ok(Json(response).into_response());
    }
    // TSV: a header of the returned fields, one line per hit, lists joined by ';'.
    let header: Vec<String> = if names.is_empty() || names.iter().any(|n| n == "all") {
        response
            .hits
            .first()
            .map(|h| h.fields.iter().map(|(n, _)| n.clone()).collect())
            .unwrap_or_else(|| {
                seqbank_search::DEFAULT_FIELDS
                    .iter()
                    .map(|f| (*f).to_owned())
                    .collect()
            })
    } else {
        names
    };
    let mut out = header.join("\t");
    out.push('\n');
    for hit in &response.hits {
        let cells: Vec<String> = header
            .iter()
            .map(|name| {
                hit.get(name)
                    .map(seqbank_search::tsv_cell)
                    .unwrap_or_default()
            })
            .collect();
        out.push_str(&cells.join("\t"));
        out.push('\n');
    }
    let mut answer = (
        [(
            header::CONTENT_TYPE,
            "text/tab-separated-values; charset=utf-8",
        )],
        out,
    )
        .into_response();
    answer
        .headers_mut()
        .insert("x-total-count", header::HeaderValue::from(response.total));
    if let Some(next) = response.next_cursor
        && let Ok(value) = header::HeaderValue::from_str(&next)
    {
        answer.headers_mut().insert("x-next-cursor", value);
    }
    Ok(answer)
}

async fn search_fields(State(state): State<AppState>) -> Result<Response, ApiError> {
    let tags = state.service.attribute_tags(1000).await?;
    let fields: Vec<&seqbank_search::FieldInfo> = FIELDS.iter().filter(|f| f.searchable).collect();
    let attributes: Vec<Value> = tags
        .into_iter()
        .map(|(tag, records)| json!({"name": tag, "type": "text", "records": records}))
        .collect();
    Ok(Json(json!({
        "fields": fields,
        "attributes": attributes,
        "functions": [
            {"name": "tax_eq", "description": "Records of exactly this NCBI Taxonomy id: tax_eq(9606)."},
            {"name": "tax_tree", "description": "Records of this taxon and everything below it; needs the NCBI Taxonomy tree loaded."}
        ],
        "results": ["project", "sample", "experiment", "run"],
    }))
    .into_response())
}

async fn return_fields() -> Response {
    let mut fields: Vec<Value> = FIELDS
        .iter()
        .filter(|f| f.name != "text")
        .map(|f| json!({"name": f.name, "type": f.kind, "description": f.description}))
        .collect();
    fields.push(json!({"name": "score", "type": "number", "description": "Relevance score (relevance order only)."}));
    Json(json!({
        "fields": fields,
        "default": seqbank_search::DEFAULT_FIELDS,
    }))
    .into_response()
}
