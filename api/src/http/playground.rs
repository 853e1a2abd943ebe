//! GraphiQL and the landing page, served from the binary: the page and its
//! pinned scripts (`api/assets/graphiql/`, versions in its `VERSIONS`) come
//! from this origin only, so the playground works offline and nothing from
//! another host runs in the page where people paste their tokens.

use axum::{
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use rust_embed::Embed;

use super::AppState;

#[derive(Embed)]
#[folder = "assets/graphiql/"]
#[exclude = "VERSIONS"]
struct Assets;

/// What the page may load and where it may connect: this origin only (its
/// WebSocket included); GraphiQL sets inline styles.
const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; \
base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

/// Where the assets are served.
pub const ASSET_PATH: &str = "/graphiql/{name}";

/// Whether a request's `Accept` asks for a page.
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// The GraphiQL page.
pub fn page() -> Response {
    let Some(file) = Assets::get("index.html") else {
        tracing::error!("the GraphiQL page is missing from this build");
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(PAGE_POLICY),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
        ],
        file.data,
    )
        .into_response()
}

/// `GET /graphiql/{name}`: one of the page's files. Their names carry their
/// versions, so browsers keep them for a year.
pub async fn asset(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    let file = state
        .limits
        .graphiql
        .then(|| Assets::get(&name))
        .flatten()
        .filter(|_| name != "index.html");
    let Some(file) = file else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let media = match name.rsplit_once('.').map(|(_, extension)| extension) {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(media)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        file.data,
    )
        .into_response()
}

/// `GET /`: where to go from here, instead of an empty 404.
pub async fn landing(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let playground = state.limits.graphiql;
    if wants_html(&headers) {
        let next = if playground {
            r#"<p>Open <a href="/graphql">the GraphQL playground</a> to explore the API.</p>"#
        } else {
            "<p>The playground is off on this server (production); send GraphQL to <code>POST /graphql</code>.</p>"
        };
        return Html(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Trestle</title></head>\
             <body><h1>Trestle</h1><p>GraphQL API for technical program management.</p>{next}\
             <ul><li><code>POST /graphql</code> and <code>GET /graphql</code>: GraphQL over HTTP</li>\
             <li><code>/graphql/ws</code>: subscriptions (graphql-transport-ws)</li>\
             <li><code>/healthz</code>, <code>/readyz</code>, <code>/metrics</code></li></ul></body></html>"
        ))
        .into_response();
    }
    let mut text = String::from(
        "Trestle: GraphQL API for technical program management.\n\
         POST /graphql (or GET for queries): GraphQL over HTTP\n\
         /graphql/ws: subscriptions (graphql-transport-ws)\n\
         /healthz, /readyz, /metrics: health and metrics\n",
    );
    if playground {
        text.push_str("Open /graphql in a browser for the GraphQL playground.\n");
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}
