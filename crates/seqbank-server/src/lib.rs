//! The HTTP face of seqbank: the REST API under `/api/v1`, documented by `docs/openapi.json`.
//!
//! [`router`] builds an axum `Router` over a [`seqbank_service::Service`]. Handlers only
//! translate: they read the request, call the service, and shape the answer; the status code of
//! every error is chosen in one place, [`ApiError`]'s `IntoResponse`.

mod api;
mod error;
mod files;
mod search;
mod web;

use std::sync::Arc;

pub use self::error::ApiError;

/// The OpenAPI document of the REST API.
pub const OPENAPI: &str = include_str!("../../../docs/openapi.json");

/// What handlers share.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The service.
    pub service: Arc<seqbank_service::Service>,
}

/// Builds the router of the whole HTTP interface.
pub fn router(state: AppState) -> axum::Router {
    web::routes()
        .merge(search::routes())
        .merge(api::routes())
        .merge(files::routes())
        .with_state(state)
}

/// Serves the router on a bound listener until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
