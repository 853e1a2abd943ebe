//! Persisted documents: Apollo's automatic persisted queries (a client sends
//! `extensions.persistedQuery.sha256Hash` alone, and the document with it
//! once when the server answers `PERSISTED_QUERY_NOT_FOUND`), and an
//! allow-list of trusted documents (`TRESTLE_TRUSTED_DOCUMENTS`, hash →
//! document) that a production server can require, refusing every other
//! document with `PERSISTED_QUERY_NOT_IN_LIST`.
//!
//! Registered documents live in memory on each replica, bounded in bytes
//! (`TRESTLE_PERSISTED_QUERY_CACHE_BYTES`); a document is kept only once it
//! parses and passes the document limits, and clients fall back to sending
//! the document on any replica that has not seen it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use async_graphql::{Request as GqlRequest, Value};
use sha2::{Digest, Sha256};

use super::respond::Refusal;
use crate::error::{ApiError, codes};
use crate::i18n::{Locale, Message};

/// Bytes an entry costs besides its hash and document.
const ENTRY_OVERHEAD: usize = 256;

/// The documents a server runs by hash.
pub struct PersistedDocuments {
    /// Documents clients registered; `None` when automatic persisted queries are off.
    automatic: Option<moka::sync::Cache<String, Arc<str>>>,
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
                    u32::try_from(hash.len() + document.len() + ENTRY_OVERHEAD).unwrap_or(u32::MAX)
                })
                .build()
        });
        Ok(Self {
            automatic,
            trusted,
            require_trusted,
        })
    }

    /// How many trusted documents there are.
    pub fn trusted_count(&self) -> usize {
        self.trusted.len()
    }

    /// Put the document a hash-only request stands for into `request`, check
    /// a hash sent with its document, and refuse a document that is not
    /// trusted where only trusted documents run. Returns the registration to
    /// make once the document is judged fit.
    pub fn resolve(
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
            let known = self.trusted.get(&hash).cloned().or_else(|| {
                self.automatic
                    .as_ref()
                    .and_then(|automatic| automatic.get(&hash))
            });
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

    /// Keep `document` under the hash it was sent with.
    pub fn register(&self, registration: Registration, document: &str) {
        if let Some(automatic) = &self.automatic {
            automatic.insert(registration.0, Arc::from(document));
        }
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

    #[test]
    fn a_hash_is_found_once_registered_and_checked_against_its_document() {
        let documents = PersistedDocuments::new(1 << 20, None, false).unwrap();
        let query = "{ viewer { id } }";
        let hash = hash_of(query);
        let mut hash_only = request_with_hash("", &hash);
        let refused = documents.resolve(&mut hash_only, Locale::En).err().unwrap();
        assert_eq!(code(refused), codes::PERSISTED_QUERY_NOT_FOUND);

        let mut wrong = request_with_hash("{ teams { totalCount } }", &hash);
        let refused = documents.resolve(&mut wrong, Locale::En).err().unwrap();
        assert_eq!(code(refused), codes::BAD_USER_INPUT);

        let mut full = request_with_hash(query, &hash.to_ascii_uppercase());
        let registration = documents.resolve(&mut full, Locale::En).unwrap().unwrap();
        documents.register(registration, query);
        let mut again = request_with_hash("", &hash);
        assert!(documents.resolve(&mut again, Locale::En).unwrap().is_none());
        assert_eq!(again.query, query);
    }

    #[test]
    fn without_a_cache_or_trusted_documents_hashes_are_not_supported() {
        let documents = PersistedDocuments::new(0, None, false).unwrap();
        let mut hash_only = request_with_hash("", &hash_of("{ a }"));
        let refused = documents.resolve(&mut hash_only, Locale::En).err().unwrap();
        assert_eq!(code(refused), codes::PERSISTED_QUERY_NOT_SUPPORTED);
        let mut plain = GqlRequest::new("{ a }");
        assert!(documents.resolve(&mut plain, Locale::En).unwrap().is_none());
    }
}
