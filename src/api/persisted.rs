//! Persisted operations: automatic persisted queries (a client sends the
//! SHA-256 of its query and the text only once, Apollo's protocol) and
//! registered operations — the `.graphql` files of a folder, loaded at start —
//! which, in allow-list mode, are the only operations a partner portal may
//! run.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_graphql::Request;
use lru::LruCache;
use sha2::{Digest, Sha256};

use crate::domain::access::Role;

/// How many automatic persisted queries an instance remembers.
const APQ_CAPACITY: usize = 2048;

/// Why a request's operation cannot be run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    fn new(code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            message: message.into(),
        }
    }
}

/// The registered operations and the cache of automatic ones.
pub struct PersistedQueries {
    registered: HashMap<String, Arc<str>>,
    cache: Mutex<LruCache<String, Arc<str>>>,
    /// Whether partner portals may run registered operations only.
    pub allow_list: bool,
}

impl std::fmt::Debug for PersistedQueries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersistedQueries")
            .field("registered", &self.registered.len())
            .field("allow_list", &self.allow_list)
            .finish()
    }
}

impl Default for PersistedQueries {
    fn default() -> Self {
        PersistedQueries::new(HashMap::new(), false)
    }
}

/// The hex SHA-256 of an operation's text, as clients compute it.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl PersistedQueries {
    fn new(registered: HashMap<String, Arc<str>>, allow_list: bool) -> Self {
        PersistedQueries {
            registered,
            cache: Mutex::new(LruCache::new(NonZeroUsize::new(APQ_CAPACITY).expect("non-zero"))),
            allow_list,
        }
    }

    /// Registers every `*.graphql` file of `dir` (its exact text is the
    /// operation; its SHA-256 is what a client sends).
    pub fn load_dir(dir: &Path, allow_list: bool) -> std::io::Result<Self> {
        let mut registered = HashMap::new();
        let mut paths: Vec<_> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "graphql"))
            .collect();
        paths.sort();
        for p in paths {
            let text = std::fs::read_to_string(&p)?;
            let hash = sha256_hex(&text);
            tracing::info!(operation = %p.display(), sha256 = %hash, "registered operation");
            registered.insert(hash, Arc::from(text));
        }
        Ok(PersistedQueries::new(registered, allow_list))
    }

    /// Registers operations given as text (tests, embedding).
    pub fn from_texts<'a>(texts: impl IntoIterator<Item = &'a str>, allow_list: bool) -> Self {
        let registered = texts.into_iter().map(|t| (sha256_hex(t), Arc::from(t))).collect();
        PersistedQueries::new(registered, allow_list)
    }

    /// How many operations are registered.
    pub fn len(&self) -> usize {
        self.registered.len()
    }

    pub fn is_empty(&self) -> bool {
        self.registered.is_empty()
    }

    /// Fills in the query of a request that sent only its hash, remembers a
    /// new one, and applies the allow list.
    pub fn resolve(&self, req: &mut Request, role: Role) -> Result<(), Refusal> {
        let hash = persisted_hash(req)?;
        if req.query.trim().is_empty() {
            let Some(hash) = hash else {
                return Err(Refusal::new("BAD_USER_INPUT", "the request has no query"));
            };
            let found = self.registered.get(&hash).cloned().or_else(|| {
                let mut c = self.cache.lock().expect("APQ cache lock");
                c.get(&hash).cloned()
            });
            match found {
                Some(q) => req.query = q.to_string(),
                // Apollo clients recognise this message and resend the text.
                None => return Err(Refusal::new("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")),
            }
        } else if let Some(hash) = hash {
            if sha256_hex(&req.query) != hash {
                return Err(Refusal::new(
                    "BAD_USER_INPUT",
                    "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query",
                ));
            }
            if !self.registered.contains_key(&hash) {
                self.cache
                    .lock()
                    .expect("APQ cache lock")
                    .put(hash, Arc::from(req.query.as_str()));
            }
        }
        if self.allow_list && role == Role::Partner && !self.registered.contains_key(&sha256_hex(&req.query)) {
            return Err(Refusal::new(
                "FORBIDDEN",
                "this key may run registered operations only, and this one is not registered",
            ));
        }
        Ok(())
    }
}

/// `extensions.persistedQuery.sha256Hash`, lower-cased, if the request has one.
fn persisted_hash(req: &Request) -> Result<Option<String>, Refusal> {
    use async_graphql::Value;
    let Some(pq) = req.extensions.get("persistedQuery") else {
        return Ok(None);
    };
    let bad = || {
        Refusal::new(
            "BAD_USER_INPUT",
            "extensions.persistedQuery must be {\"version\": 1, \"sha256Hash\": \"<64 hex digits>\"}",
        )
    };
    let Value::Object(o) = pq else { return Err(bad()) };
    match o.get("sha256Hash") {
        Some(Value::String(h)) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(Some(h.to_ascii_lowercase()))
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_hash(query: &str, hash: &str) -> Request {
        let mut r = Request::new(query);
        r.extensions.insert(
            "persistedQuery".into(),
            async_graphql::Value::from_json(serde_json::json!({"version": 1, "sha256Hash": hash})).unwrap(),
        );
        r
    }

    #[test]
    fn apq_remembers_a_query_sent_once() {
        let p = PersistedQueries::default();
        let q = "{ partners { totalCount } }";
        let h = sha256_hex(q);
        let mut first = with_hash("", &h);
        assert_eq!(
            p.resolve(&mut first, Role::Analyst).unwrap_err().code,
            "PERSISTED_QUERY_NOT_FOUND"
        );
        p.resolve(&mut with_hash(q, &h), Role::Analyst).unwrap();
        let mut again = with_hash("", &h);
        p.resolve(&mut again, Role::Analyst).unwrap();
        assert_eq!(again.query, q);
        let wrong = p.resolve(&mut with_hash(q, &"0".repeat(64)), Role::Analyst);
        assert_eq!(wrong.unwrap_err().code, "BAD_USER_INPUT");
    }

    #[test]
    fn the_allow_list_binds_partners_only() {
        let q = "{ viewer { role } }";
        let p = PersistedQueries::from_texts([q], true);
        p.resolve(&mut Request::new(q), Role::Partner).unwrap();
        let mut by_hash = with_hash("", &sha256_hex(q));
        p.resolve(&mut by_hash, Role::Partner).unwrap();
        assert_eq!(by_hash.query, q);
        let other = "{ partners { totalCount } }";
        assert_eq!(
            p.resolve(&mut Request::new(other), Role::Partner).unwrap_err().code,
            "FORBIDDEN"
        );
        p.resolve(&mut Request::new(other), Role::Analyst).unwrap();
    }
}
