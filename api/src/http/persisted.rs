//! Persisted documents: Apollo's automatic persisted queries (a client sends
//! `extensions.persistedQuery.sha256Hash` alone, and the document with it
//! once when the server answers `PERSISTED_QUERY_NOT_FOUND`), and an
//! allow-list of trusted documents (`TRESTLE_TRUSTED_DOCUMENTS`, hash →
//! document) that a production server can require, refusing every other
//! document with `PERSISTED_QUERY_NOT_IN_LIST`.
//!
//! Registered documents are kept in the database (`persisted_queries`), so
//! a client registers a document once for every replica, and in a cache on
//! each replica in front of it; both are bounded in bytes
//! (`TRESTLE_PERSISTED_QUERY_CACHE_BYTES`). A document is kept only once it
//! parses and passes the document limits.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use async_graphql::{Request as GqlRequest, Value};
use entity::persisted_query;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, Set,
    Statement,
    sea_query::{Expr, OnConflict},
};
use sha2::{Digest, Sha256};

use super::respond::Refusal;
use crate::error::{ApiError, codes};
use crate::i18n::{Locale, Message};

/// Bytes an entry costs besides its hash and document.
const ENTRY_OVERHEAD: usize = 256;

/// The documents a server runs by hash.
pub struct PersistedDocuments {
    /// This replica's cache of the documents clients registered; `None`
    /// when automatic persisted queries are off.
    automatic: Option<moka::sync::Cache<String, Arc<str>>>,
    /// The table every replica shares, when there is a database.
    shared: Option<Shared>,
    /// The byte budget of the cache and of the table.
    budget: u64,
    /// The trusted documents, by lowercase SHA-256 hex.
    trusted: HashMap<String, Arc<str>>,
    /// Whether only trusted documents run.
    require_trusted: bool,
}

/// A document to keep under its hash once it has been judged fit to run.
pub struct Registration(String);

/// The lowercase SHA-256 hex of a document.
pub fn hash_of(document: &str) -> String {
    hex::encode(Sha256::digest(document.as_bytes()))
}

impl PersistedDocuments {
    /// Automatic persisted queries in `cache_bytes` (off when 0 or when
    /// only trusted documents may run), and the trusted documents of `trusted_file`.
    pub fn new(
        cache_bytes: u64,
        trusted_file: Option<&Path>,
        require_trusted: bool,
    ) -> Result<Self, String> {
        let trusted = match trusted_file {
            Some(path) => load_trusted(path)?,
            None if require_trusted => {
                return Err(
                    "TRESTLE_REQUIRE_TRUSTED_DOCUMENTS needs TRESTLE_TRUSTED_DOCUMENTS: the JSON file of hash → document to allow"
                        .to_owned(),
                );
            }
            None => HashMap::new(),
        };
        let automatic = (cache_bytes > 0 && !require_trusted).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(cache_bytes)
                // The cache's own bookkeeping per entry counts too, so many
                // tiny documents cannot hold several times the budget.
                .weigher(|hash: &String, document: &Arc<str>| {
                    u32::try_from(weight(hash, document)).unwrap_or(u32::MAX)
                })
                .build()
        });
        Ok(Self {
            automatic,
            shared: None,
            budget: cache_bytes,
            trusted,
            require_trusted,
        })
    }

    /// The same documents, registered in `db` for every replica on it.
    pub fn shared_through(mut self, db: DatabaseConnection) -> Self {
        self.shared = Some(Shared {
            db,
            since_trim: Arc::new(AtomicU64::new(0)),
        });
        self
    }

    /// How many trusted documents there are.
    pub fn trusted_count(&self) -> usize {
        self.trusted.len()
    }

    /// Put the document a hash-only request stands for into `request`, check
    /// a hash sent with its document, and refuse a document that is not
    /// trusted where only trusted documents run. Returns the registration to
    /// make once the document is judged fit.
    pub async fn resolve(
        &self,
        request: &mut GqlRequest,
        locale: Locale,
    ) -> Result<Option<Registration>, Refusal> {
        let Some(extension) = request.extensions.get("persistedQuery") else {
            if self.require_trusted && !self.trusted.contains_key(&hash_of(&request.query)) {
                return Err(not_in_list(locale));
            }
            return Ok(None);
        };
        let hash = requested_hash(extension).ok_or_else(|| {
            Refusal::request_error(
                &ApiError::bad_input(
                    "extensions.persistedQuery",
                    Message::PersistedQueryMalformed,
                ),
                locale,
            )
        })?;
        if self.automatic.is_none() && self.trusted.is_empty() {
            return Err(Refusal::document(
                codes::PERSISTED_QUERY_NOT_SUPPORTED,
                &Message::PersistedQueryNotSupported,
                locale,
            ));
        }
        if request.query.is_empty() {
            let mut known = self.trusted.get(&hash).cloned().or_else(|| {
                self.automatic
                    .as_ref()
                    .and_then(|automatic| automatic.get(&hash))
            });
            if known.is_none()
                && let (Some(automatic), Some(shared)) = (&self.automatic, &self.shared)
            {
                known = shared.find(&hash).await;
                if let Some(document) = &known {
                    automatic.insert(hash, document.clone());
                }
            }
            let document = known.ok_or_else(|| {
                Refusal::document(
                    codes::PERSISTED_QUERY_NOT_FOUND,
                    &Message::PersistedQueryNotFound,
                    locale,
                )
            })?;
            request.query = document.to_string();
            return Ok(None);
        }
        if hash_of(&request.query) != hash {
            return Err(Refusal::request_error(
                &ApiError::bad_input(
                    "extensions.persistedQuery.sha256Hash",
                    Message::PersistedQueryMismatch,
                ),
                locale,
            ));
        }
        if self.trusted.contains_key(&hash) {
            return Ok(None);
        }
        if self.require_trusted {
            return Err(not_in_list(locale));
        }
        Ok(self.automatic.is_some().then_some(Registration(hash)))
    }

    /// Keep `document` under the hash it was sent with, here and for every replica.
    pub async fn register(&self, registration: Registration, document: &str) {
        let Some(automatic) = &self.automatic else {
            return;
        };
        if let Some(shared) = &self.shared {
            shared.insert(&registration.0, document, self.budget).await;
        }
        automatic.insert(registration.0, Arc::from(document));
    }
}

/// The `persisted_queries` table.
#[derive(Clone)]
struct Shared {
    db: DatabaseConnection,
    /// Bytes registered since the table was last trimmed to its budget.
    since_trim: Arc<AtomicU64>,
}

/// What an entry weighs against the budget.
fn weight(hash: &str, document: &str) -> usize {
    hash.len() + document.len() + ENTRY_OVERHEAD
}

impl Shared {
    /// The document registered under `hash`, marked as used in the same
    /// statement. A database that cannot answer is a document not found:
    /// the client sends it again.
    async fn find(&self, hash: &str) -> Option<Arc<str>> {
        let found = persisted_query::Entity::update_many()
            .col_expr(persisted_query::Column::UsedAt, Expr::value(entity::now()))
            .filter(persisted_query::Column::Hash.eq(hash))
            .exec_with_returning(&self.db)
            .await;
        match found {
            Ok(rows) => rows
                .into_iter()
                .find(|row| hash_of(&row.document) == hash)
                .map(|row| Arc::from(row.document)),
            Err(error) => {
                tracing::warn!(%error, "reading a persisted query failed");
                None
            }
        }
    }

    /// Register `document` under `hash`; once an eighth of the budget has
    /// been registered here, drop the least recently used entries beyond it.
    async fn insert(&self, hash: &str, document: &str, budget: u64) {
        let bytes = weight(hash, document);
        let row = persisted_query::ActiveModel {
            hash: Set(hash.to_owned()),
            document: Set(document.to_owned()),
            bytes: Set(i32::try_from(bytes).unwrap_or(i32::MAX)),
            used_at: Set(entity::now()),
        };
        let inserted = persisted_query::Entity::insert(row)
            .on_conflict(
                OnConflict::column(persisted_query::Column::Hash)
                    .update_column(persisted_query::Column::UsedAt)
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await;
        if let Err(error) = inserted {
            tracing::warn!(%error, "registering a persisted query failed");
            return;
        }
        let since = self.since_trim.fetch_add(bytes as u64, Ordering::Relaxed) + bytes as u64;
        if since >= budget / 8 {
            self.since_trim.store(0, Ordering::Relaxed);
            // Beside the request that registered, not in its way.
            let shared = self.clone();
            tokio::spawn(async move {
                if let Err(error) = shared.trim(budget).await {
                    tracing::warn!(%error, "trimming persisted queries failed");
                }
            });
        }
    }

    /// Delete the least recently used entries beyond `budget` bytes.
    async fn trim(&self, budget: u64) -> Result<(), sea_orm::DbErr> {
        let backend = self.db.get_database_backend();
        let parameter = match backend {
            DbBackend::Postgres => "$1",
            _ => "?",
        };
        let sql = format!(
            "DELETE FROM persisted_queries WHERE hash IN (SELECT hash FROM (\
             SELECT hash, SUM(bytes) OVER (ORDER BY used_at DESC, hash) AS kept \
             FROM persisted_queries) AS ranked WHERE kept > {parameter})"
        );
        let budget = i64::try_from(budget).unwrap_or(i64::MAX);
        self.db
            .execute_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [budget.into()],
            ))
            .await?;
        Ok(())
    }
}

fn not_in_list(locale: Locale) -> Refusal {
    Refusal::document(
        codes::PERSISTED_QUERY_NOT_IN_LIST,
        &Message::DocumentNotTrusted,
        locale,
    )
}

/// The hash of `{"version": 1, "sha256Hash": "<64 hex>"}`, lowercased.
fn requested_hash(extension: &Value) -> Option<String> {
    let Value::Object(fields) = extension else {
        return None;
    };
    let version_one =
        matches!(fields.get("version"), Some(Value::Number(n)) if n.as_u64() == Some(1));
    match fields.get("sha256Hash") {
        Some(Value::String(hash))
            if version_one && hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            Some(hash.to_ascii_lowercase())
        }
        _ => None,
    }
}

/// Read a trusted-documents file: a JSON object of SHA-256 hex → document
/// (GraphQL Code Generator's `persisted-documents.json`), or Apollo's
/// persisted-query manifest (`{"format": "apollo-persisted-query-manifest",
/// "operations": [{"id", "body"}]}`). Every hash must be its document's.
fn load_trusted(path: &Path) -> Result<HashMap<String, Arc<str>>, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read the trusted documents file {shown}: {error}"))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|error| format!("the trusted documents file {shown} is not JSON: {error}"))?;
    let pairs: Vec<(String, String)> = match &json {
        serde_json::Value::Object(fields) if fields.contains_key("operations") => {
            fields["operations"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|operation| {
                    let field = |name: &str| {
                        operation
                            .get(name)
                            .and_then(|v| v.as_str())
                            .map(str::to_owned)
                    };
                    field("id").zip(field("body")).ok_or_else(|| {
                        format!("{shown}: every entry of \"operations\" needs \"id\" and \"body\"")
                    })
                })
                .collect::<Result<_, _>>()?
        }
        serde_json::Value::Object(fields) => fields
            .iter()
            .map(|(hash, document)| {
                document
                    .as_str()
                    .map(|document| (hash.clone(), document.to_owned()))
                    .ok_or_else(|| {
                        format!("{shown}: the value of {hash:?} is not a document string")
                    })
            })
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(format!(
                "{shown}: expected a JSON object of SHA-256 hash → document, e.g. {{\"3b1c…\": \"query Viewer {{ viewer {{ id }} }}\"}}"
            ));
        }
    };
    let mut trusted = HashMap::with_capacity(pairs.len());
    for (hash, document) in pairs {
        let hash = hash.trim_start_matches("sha256:").to_ascii_lowercase();
        let actual = hash_of(&document);
        if hash != actual {
            return Err(format!(
                "{shown}: the document under {hash:?} has SHA-256 {actual}; trusted documents are keyed by their SHA-256 hex"
            ));
        }
        trusted.insert(hash, Arc::from(document));
    }
    Ok(trusted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_with_hash(query: &str, hash: &str) -> GqlRequest {
        let mut request = GqlRequest::new(query);
        request.extensions.insert(
            "persistedQuery".to_owned(),
            Value::from_json(serde_json::json!({"version": 1, "sha256Hash": hash})).unwrap(),
        );
        request
    }

    fn code(refusal: Refusal) -> String {
        refusal.code()
    }

    #[tokio::test]
    async fn a_hash_is_found_once_registered_and_checked_against_its_document() {
        let documents = PersistedDocuments::new(1 << 20, None, false).unwrap();
        let query = "{ viewer { id } }";
        let hash = hash_of(query);
        let mut hash_only = request_with_hash("", &hash);
        let refused = documents
            .resolve(&mut hash_only, Locale::En)
            .await
            .err()
            .unwrap();
        assert_eq!(code(refused), codes::PERSISTED_QUERY_NOT_FOUND);

        let mut wrong = request_with_hash("{ teams { totalCount } }", &hash);
        let refused = documents
            .resolve(&mut wrong, Locale::En)
            .await
            .err()
            .unwrap();
        assert_eq!(code(refused), codes::BAD_USER_INPUT);

        let mut full = request_with_hash(query, &hash.to_ascii_uppercase());
        let registration = documents
            .resolve(&mut full, Locale::En)
            .await
            .unwrap()
            .unwrap();
        documents.register(registration, query).await;
        let mut again = request_with_hash("", &hash);
        assert!(
            documents
                .resolve(&mut again, Locale::En)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(again.query, query);
    }

    #[tokio::test]
    async fn without_a_cache_or_trusted_documents_hashes_are_not_supported() {
        let documents = PersistedDocuments::new(0, None, false).unwrap();
        let mut hash_only = request_with_hash("", &hash_of("{ a }"));
        let refused = documents
            .resolve(&mut hash_only, Locale::En)
            .await
            .err()
            .unwrap();
        assert_eq!(code(refused), codes::PERSISTED_QUERY_NOT_SUPPORTED);
        let mut plain = GqlRequest::new("{ a }");
        assert!(
            documents
                .resolve(&mut plain, Locale::En)
                .await
                .unwrap()
                .is_none()
        );
    }
}
