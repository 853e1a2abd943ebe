//! GraphiQL and the landing page, served from the binary: the page and its
//! pinned scripts (`api/assets/graphiql/`, versions in its `VERSIONS`) come
//! from this origin only, so the playground works offline and nothing from
//! another host runs in the page where people paste their tokens.

use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock};

use axum::{
    body::{Body, Bytes},
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

/// An asset compressed once, the first time a client asks for it that way:
/// compressing GraphiQL's 3.5 MB on every request would let anyone spend
/// the server's CPU.
#[derive(Default)]
struct Compressed {
    brotli: OnceLock<Bytes>,
    gzip: OnceLock<Bytes>,
}

impl Compressed {
    /// The form in `encoding`.
    fn cell(&self, encoding: Encoding) -> &OnceLock<Bytes> {
        match encoding {
            Encoding::Brotli => &self.brotli,
            Encoding::Gzip => &self.gzip,
        }
    }
}

/// Every asset's compressed forms, by name.
static COMPRESSED: LazyLock<HashMap<String, Compressed>> = LazyLock::new(|| {
    Assets::iter()
        .map(|name| (name.into_owned(), Compressed::default()))
        .collect()
});

/// How a response body is encoded.
#[derive(Clone, Copy)]
enum Encoding {
    Brotli,
    Gzip,
}

impl Encoding {
    /// The best encoding `headers` accept, if any.
    fn accepted(headers: &HeaderMap) -> Option<Self> {
        let accepted = headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let offers = |name: &str| {
            accepted.split(',').any(|item| {
                let mut parts = item.split(';');
                parts.next().map(str::trim) == Some(name)
                    && parts.all(|param| param.trim().replace(' ', "") != "q=0")
            })
        };
        if offers("br") {
            Some(Self::Brotli)
        } else if offers("gzip") {
            Some(Self::Gzip)
        } else {
            None
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Brotli => "br",
            Self::Gzip => "gzip",
        }
    }

    fn compress(self, data: &[u8]) -> Bytes {
        use std::io::Write;
        let mut out = Vec::with_capacity(data.len() / 3);
        let written = match self {
            Self::Brotli => {
                let mut writer = brotli::CompressorWriter::new(&mut out, 64 * 1024, 9, 22);
                writer.write_all(data).and_then(|()| writer.flush())
            }
            Self::Gzip => {
                let mut writer =
                    flate2::write::GzEncoder::new(&mut out, flate2::Compression::best());
                writer.write_all(data).and_then(|()| writer.try_finish())
            }
        };
        match written {
            Ok(()) => Bytes::from(out),
            Err(error) => {
                tracing::error!(%error, "could not compress a playground file");
                Bytes::new()
            }
        }
    }
}

/// `name`'s data in `encoding`, compressed on first use off the async threads.
async fn compressed(name: &str, data: &'static [u8], encoding: Encoding) -> Option<Bytes> {
    if let Some(done) = COMPRESSED.get(name)?.cell(encoding).get() {
        return Some(done.clone());
    }
    let name = name.to_owned();
    tokio::task::spawn_blocking(move || {
        let cell = COMPRESSED.get(&name)?.cell(encoding);
        Some(cell.get_or_init(|| encoding.compress(data)).clone())
    })
    .await
    .ok()
    .flatten()
    .filter(|bytes| !bytes.is_empty())
}

/// `GET /graphiql/{name}`: one of the page's files, compressed when the
/// client asks (once per file and encoding). Their names carry their
/// versions, so browsers keep them for a year.
pub async fn asset(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
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
    let mut response = (
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
            (header::VARY, HeaderValue::from_static("accept-encoding")),
        ],
        Body::empty(),
    )
        .into_response();
    // Embedded in the binary (`debug-embed` too): the data lives as long as the process.
    let std::borrow::Cow::Borrowed(data) = file.data else {
        *response.body_mut() = Body::from(file.data.into_owned());
        return response;
    };
    let encoded = match Encoding::accepted(&headers) {
        Some(encoding) => compressed(&name, data, encoding)
            .await
            .map(|bytes| (encoding, bytes)),
        None => None,
    };
    *response.body_mut() = match encoded {
        Some((encoding, bytes)) => {
            response.headers_mut().insert(
                header::CONTENT_ENCODING,
                HeaderValue::from_static(encoding.name()),
            );
            Body::from(bytes)
        }
        None => Body::from(data),
    };
    response
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
