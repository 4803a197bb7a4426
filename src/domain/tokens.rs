//! JWT bearer tokens: signed with a shared secret (HS256) or by an OIDC
//! provider (RS256 and the other public-key algorithms, with its public key
//! as PEM, its JWKS file, or its JWKS URL, fetched and cached).
//!
//! Claims read: `sub` (who, for the audit log), `exp` (required), `role`
//! (`admin`, `coordinator`, `analyst` or `partner`), `partner` (the partner's
//! external id, for a portal), `contact_details` (bool, for an analyst).
//! Checked: the signature, `exp` and `nbf` (within the leeway), `iss` and
//! `aud` when configured (then a token without them is refused), and the
//! token's lifetime when a maximum is set.
//!
//! Keys from a URL ([`TokenConfig::with_jwks_url`]) are fetched on first
//! use (`serve` fetches them at start), kept, and fetched again when older
//! than the refresh interval (in the background: requests go on with the
//! keys held) or when a token names a `kid` they do not have (at once, so a
//! rotated key is accepted on its first token), never twice within the
//! minimum interval, whoever asks. A failed fetch keeps the last good keys
//! (logged as a warning); before any fetch has succeeded, tokens that only
//! those keys could verify are answered "unavailable" (`503`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::Deserialize;

use super::access::{Principal, Role};
use crate::storage::entity::partner;

/// Seconds of clock difference allowed on `exp` and `nbf` by default.
pub const DEFAULT_LEEWAY: u64 = 30;
/// How long keys fetched from a URL are used before they are fetched again.
pub const DEFAULT_JWKS_REFRESH: Duration = Duration::from_secs(300);
/// The least time between two fetches of a key set (after an unknown `kid`,
/// or a failure).
pub const DEFAULT_JWKS_MIN_REFRESH: Duration = Duration::from_secs(10);
/// The largest key set read from a URL.
const JWKS_MAX_BYTES: usize = 1 << 20;
/// How long a fetch may take.
const JWKS_TIMEOUT: Duration = Duration::from_secs(10);

/// One verification key: the `kid` it answers to (none: any), and the one
/// algorithm it verifies.
#[derive(Clone)]
struct Key {
    kid: Option<String>,
    key: DecodingKey,
    alg: Algorithm,
}

/// How tokens are verified (none configured: tokens are refused).
#[derive(Clone)]
pub struct TokenConfig {
    keys: Vec<Key>,
    remote: Option<Arc<RemoteJwks>>,
    issuer: Option<String>,
    audience: Option<String>,
    leeway: u64,
    max_lifetime: Option<u64>,
}

impl Default for TokenConfig {
    fn default() -> Self {
        TokenConfig {
            keys: Vec::new(),
            remote: None,
            issuer: None,
            audience: None,
            leeway: DEFAULT_LEEWAY,
            max_lifetime: None,
        }
    }
}

impl std::fmt::Debug for TokenConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenConfig")
            .field("keys", &self.keys.len())
            .field("jwks_url", &self.remote.as_ref().map(|r| &r.url))
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("leeway", &self.leeway)
            .field("max_lifetime", &self.max_lifetime)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// Why a token is not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// The token is refused (`401`): what is wrong with it, for the client.
    Refused(String),
    /// The keys to check it with cannot be had now (`503`).
    Unavailable(String),
}

fn refused(m: impl Into<String>) -> TokenError {
    TokenError::Refused(m.into())
}

impl TokenConfig {
    pub fn is_enabled(&self) -> bool {
        !self.keys.is_empty() || self.remote.is_some()
    }

    pub fn with_hs256_secret(mut self, secret: &str) -> Self {
        self.keys.push(Key {
            kid: None,
            key: DecodingKey::from_secret(secret.as_bytes()),
            alg: Algorithm::HS256,
        });
        self
    }

    pub fn with_rs256_pem(mut self, path: &str) -> Result<Self, TokenConfigError> {
        let pem = std::fs::read(path).map_err(|source| TokenConfigError::Read {
            path: path.into(),
            source,
        })?;
        let key = DecodingKey::from_rsa_pem(&pem).map_err(|e| TokenConfigError::Invalid {
            path: path.into(),
            message: e.to_string(),
        })?;
        self.keys.push(Key {
            kid: None,
            key,
            alg: Algorithm::RS256,
        });
        Ok(self)
    }

    /// The signing keys of a JWKS file (keys for encryption, shared secrets
    /// and keys of unknown kinds are left out, with a warning).
    pub fn with_jwks(mut self, path: &str) -> Result<Self, TokenConfigError> {
        let invalid = |message: String| TokenConfigError::Invalid {
            path: path.into(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|source| TokenConfigError::Read {
            path: path.into(),
            source,
        })?;
        let (keys, skipped) = jwks_keys(&text).map_err(invalid)?;
        for s in &skipped {
            tracing::warn!(jwks = path, "left out of the key set: {s}");
        }
        if keys.is_empty() {
            return Err(invalid(format!("no signing key in it ({})", skipped.join("; "))));
        }
        self.keys.extend(keys);
        Ok(self)
    }

    /// The keys an identity provider publishes at `url` (its `jwks_uri`):
    /// fetched on first use, fetched again after `refresh`, or when a token
    /// names an unknown `kid`, never twice within `min_interval`.
    pub fn with_jwks_url(
        mut self,
        url: &str,
        refresh: Duration,
        min_interval: Duration,
    ) -> Result<Self, TokenConfigError> {
        let invalid = |message: String| TokenConfigError::Invalid {
            path: url.into(),
            message,
        };
        let parsed = reqwest::Url::parse(url).map_err(|e| invalid(format!("not a URL: {e}")))?;
        match parsed.scheme() {
            "https" => {}
            "http" => {
                let host = parsed.host_str().unwrap_or("");
                let host = host.trim_start_matches('[').trim_end_matches(']');
                let local = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
                if !local {
                    tracing::warn!(
                        jwks_url = url,
                        "the identity provider's keys are fetched over plain HTTP: whoever is on the way can replace them (use https)"
                    );
                }
            }
            s => return Err(invalid(format!("the scheme must be https (or http), not {s}"))),
        }
        let client = reqwest::Client::builder()
            .timeout(JWKS_TIMEOUT)
            .connect_timeout(JWKS_TIMEOUT)
            .redirect(reqwest::redirect::Policy::limited(3))
            .user_agent(concat!("maillage/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| invalid(format!("cannot make an HTTP client: {}", chain(&e))))?;
        self.remote = Some(Arc::new(RemoteJwks {
            url: url.to_owned(),
            client,
            refresh: refresh.max(min_interval),
            min_interval,
            state: RwLock::new(Fetched::default()),
            fetching: tokio::sync::Mutex::new(()),
            refreshing: AtomicBool::new(false),
        }));
        Ok(self)
    }

    pub fn with_issuer(mut self, iss: Option<String>) -> Self {
        self.issuer = iss;
        self
    }

    pub fn with_audience(mut self, aud: Option<String>) -> Self {
        self.audience = aud;
        self
    }

    /// Seconds of clock difference allowed on `exp` and `nbf`.
    pub fn with_leeway(mut self, seconds: u64) -> Self {
        self.leeway = seconds;
        self
    }

    /// The longest a token may live: `exp − iat` (`exp` − now without
    /// `iat`); `None`: any.
    pub fn with_max_lifetime(mut self, seconds: Option<u64>) -> Self {
        self.max_lifetime = seconds;
        self
    }

    /// Fetches the keys of the JWKS URL, if one is configured (`serve` calls
    /// it at start): the number of keys, or why there are none yet. A
    /// failure is logged, and the keys are fetched again on demand.
    pub async fn fetch_keys(&self) -> Option<Result<usize, String>> {
        let r = self.remote.as_ref()?;
        r.fetch_if(|_, _| true).await;
        let f = r.state.read().expect("jwks state");
        Some(match (&f.loaded, &f.last_error) {
            (_, Some(e)) => Err(e.clone()),
            (Some(_), None) => Ok(f.keys.len()),
            (None, None) => Err("not fetched".into()),
        })
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut v = Validation::new(alg);
        let mut required = vec!["exp"];
        if let Some(i) = &self.issuer {
            v.set_issuer(&[i]);
            required.push("iss");
        }
        match &self.audience {
            Some(a) => {
                v.set_audience(&[a]);
                required.push("aud");
            }
            None => v.validate_aud = false,
        }
        v.set_required_spec_claims(&required);
        v.validate_nbf = true;
        v.leeway = self.leeway;
        v
    }
}

/// A key set fetched from a URL, and when.
struct RemoteJwks {
    url: String,
    client: reqwest::Client,
    refresh: Duration,
    min_interval: Duration,
    state: RwLock<Fetched>,
    /// Held while fetching: one fetch at a time, and who waited for it
    /// uses its result.
    fetching: tokio::sync::Mutex<()>,
    /// A background refresh is under way.
    refreshing: AtomicBool,
}

#[derive(Default)]
struct Fetched {
    keys: Arc<Vec<Key>>,
    /// The last successful fetch.
    loaded: Option<Instant>,
    /// The last fetch, successful or not.
    attempted: Option<Instant>,
    last_error: Option<String>,
}

impl RemoteJwks {
    fn may_fetch(&self, f: &Fetched, now: Instant) -> bool {
        f.attempted
            .is_none_or(|a| now.saturating_duration_since(a) >= self.min_interval)
    }

    fn keys(&self) -> Arc<Vec<Key>> {
        self.state.read().expect("jwks state").keys.clone()
    }

    /// Fetches the set if `want` still holds once it is this caller's turn
    /// (a caller that waited for another's fetch sees its result instead).
    async fn fetch_if(&self, want: impl Fn(&Fetched, Instant) -> bool) {
        let _turn = self.fetching.lock().await;
        if !want(&self.state.read().expect("jwks state"), Instant::now()) {
            return;
        }
        let result = self.fetch().await;
        let mut f = self.state.write().expect("jwks state");
        let now = Instant::now();
        f.attempted = Some(now);
        match result {
            Ok((keys, skipped)) => {
                ::metrics::counter!("maillage_jwks_fetches_total", "outcome" => "ok").increment(1);
                for s in &skipped {
                    tracing::warn!(jwks_url = %self.url, "left out of the key set: {s}");
                }
                let kids: Vec<&str> = keys.iter().filter_map(|k| k.kid.as_deref()).collect();
                tracing::info!(jwks_url = %self.url, keys = keys.len(), ?kids, "identity provider's keys fetched");
                f.keys = Arc::new(keys);
                f.loaded = Some(now);
                f.last_error = None;
            }
            Err(e) => {
                ::metrics::counter!("maillage_jwks_fetches_total", "outcome" => "failed").increment(1);
                if f.loaded.is_some() {
                    tracing::warn!(
                        jwks_url = %self.url,
                        "cannot fetch the identity provider's keys ({e}): going on with the last good ones"
                    );
                } else {
                    tracing::error!(
                        jwks_url = %self.url,
                        "cannot fetch the identity provider's keys ({e}): its tokens are answered 503 until they are fetched"
                    );
                }
                f.last_error = Some(e);
            }
        }
    }

    /// Starts a refresh in the background, unless one is under way.
    fn refresh_in_background(self: &Arc<Self>) {
        if self.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let stale = |f: &Fetched, now: Instant| {
                this.may_fetch(f, now)
                    && f.loaded
                        .is_none_or(|l| now.saturating_duration_since(l) >= this.refresh)
            };
            this.fetch_if(stale).await;
            this.refreshing.store(false, Ordering::Release);
        });
    }

    async fn fetch(&self) -> Result<(Vec<Key>, Vec<String>), String> {
        let mut resp = self
            .client
            .get(&self.url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| format!("cannot reach it: {}", chain(&e)))?;
        if !resp.status().is_success() {
            return Err(format!("it answered {}", resp.status()));
        }
        let too_large = || format!("its answer is larger than {JWKS_MAX_BYTES} bytes");
        if resp.content_length().is_some_and(|n| n > JWKS_MAX_BYTES as u64) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| format!("its answer broke off: {}", chain(&e)))?
        {
            if body.len() + chunk.len() > JWKS_MAX_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        let text = std::str::from_utf8(&body).map_err(|_| "its answer is not UTF-8 text".to_owned())?;
        let (keys, skipped) = jwks_keys(text)?;
        if keys.is_empty() {
            return Err(format!("no signing key in its set ({})", skipped.join("; ")));
        }
        Ok((keys, skipped))
    }
}

/// An error and its causes, on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

/// The signing keys of a JWKS document, and what was left out (one
/// unreadable key does not spoil the others).
fn jwks_keys(text: &str) -> Result<(Vec<Key>, Vec<String>), String> {
    #[derive(Deserialize)]
    struct Set {
        keys: Vec<serde_json::Value>,
    }
    let set: Set = serde_json::from_str(text).map_err(|e| format!("not a JWKS: {e}"))?;
    let (mut keys, mut skipped) = (Vec::new(), Vec::new());
    for (i, v) in set.keys.into_iter().enumerate() {
        let name = v
            .get("kid")
            .and_then(|k| k.as_str())
            .map_or_else(|| format!("key #{i}"), |k| format!("key {k:?}"));
        match serde_json::from_value::<Jwk>(v)
            .map_err(|e| e.to_string())
            .and_then(|jwk| key_of(&jwk))
        {
            Ok(k) => keys.push(k),
            Err(why) => skipped.push(format!("{name}: {why}")),
        }
    }
    Ok((keys, skipped))
}

/// A JWK as a verification key, with the one algorithm it is for.
fn key_of(jwk: &Jwk) -> Result<Key, String> {
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return Err("a key for encryption (use: enc)".into());
    }
    use KeyAlgorithm as K;
    let alg = match (&jwk.algorithm, jwk.common.key_algorithm) {
        (AlgorithmParameters::OctetKey(_), _) => {
            return Err("a shared secret (kty: oct) is never taken from a key set".into());
        }
        (AlgorithmParameters::RSA(_), None | Some(K::RS256)) => Algorithm::RS256,
        (AlgorithmParameters::RSA(_), Some(K::RS384)) => Algorithm::RS384,
        (AlgorithmParameters::RSA(_), Some(K::RS512)) => Algorithm::RS512,
        (AlgorithmParameters::RSA(_), Some(K::PS256)) => Algorithm::PS256,
        (AlgorithmParameters::RSA(_), Some(K::PS384)) => Algorithm::PS384,
        (AlgorithmParameters::RSA(_), Some(K::PS512)) => Algorithm::PS512,
        (AlgorithmParameters::EllipticCurve(p), a) => match (&p.curve, a) {
            (EllipticCurve::P256, None | Some(K::ES256)) => Algorithm::ES256,
            (EllipticCurve::P384, None | Some(K::ES384)) => Algorithm::ES384,
            (c, _) => return Err(format!("curve {c:?} with algorithm {a:?} is not supported")),
        },
        (AlgorithmParameters::OctetKeyPair(_), None | Some(K::EdDSA)) => Algorithm::EdDSA,
        (_, Some(a)) => return Err(format!("algorithm {a} is not a signature algorithm of this key")),
    };
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    Ok(Key {
        kid: jwk.common.key_id.clone(),
        key,
        alg,
    })
}

#[derive(Deserialize)]
struct Claims {
    sub: Option<String>,
    iss: Option<String>,
    role: String,
    partner: Option<String>,
    #[serde(default)]
    contact_details: bool,
    // Checked here again as whole numbers of seconds: jsonwebtoken skips
    // an `nbf` it cannot read as one.
    exp: Option<serde_json::Value>,
    nbf: Option<serde_json::Value>,
    iat: Option<serde_json::Value>,
}

/// What a verification failure says to the client. Only a token whose
/// signature verified gets past the signature errors, so naming the claim
/// at fault teaches nothing to someone without the key.
fn why(e: &jsonwebtoken::errors::Error) -> String {
    match e.kind() {
        ErrorKind::ExpiredSignature => "the token has expired (exp)".into(),
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)".into(),
        ErrorKind::MissingRequiredClaim(c) => {
            format!("the token has no `{c}` claim, and this server requires one")
        }
        ErrorKind::InvalidIssuer => "the token's issuer (iss) is not the one this server accepts".into(),
        ErrorKind::InvalidAudience => "the token's audience (aud) is not this server".into(),
        ErrorKind::InvalidSignature => "the token's signature does not verify".into(),
        ErrorKind::InvalidAlgorithm => "the token's algorithm is not the one of its key".into(),
        ErrorKind::Json(_) => "the token's claims are malformed (a `role` is needed)".into(),
        _ => "the token is malformed".into(),
    }
}

/// Whether an error comes after the signature was verified.
fn past_signature(e: &jsonwebtoken::errors::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ExpiredSignature
            | ErrorKind::ImmatureSignature
            | ErrorKind::MissingRequiredClaim(_)
            | ErrorKind::InvalidIssuer
            | ErrorKind::InvalidAudience
            | ErrorKind::Json(_)
    )
}

/// A NumericDate claim, when present: whole seconds or an error.
fn seconds(claim: &str, v: &Option<serde_json::Value>) -> Result<Option<i64>, TokenError> {
    match v {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| refused(format!("the token's `{claim}` is not a whole number of seconds"))),
    }
}

/// The principal a token stands for, or why not (bad signature, expired,
/// not yet valid, wrong or missing issuer or audience, too long a
/// lifetime, unknown role or partner).
pub async fn authenticate(db: &DatabaseConnection, cfg: &TokenConfig, token: &str) -> Result<Principal, TokenError> {
    let header = decode_header(token).map_err(|_| refused("the bearer token is neither an API key nor a JWT"))?;
    let mut remote_keys = Arc::new(Vec::new());
    let mut remote_missing = false;
    if let Some(r) = &cfg.remote {
        let now = Instant::now();
        let (loaded, may_fetch) = {
            let f = r.state.read().expect("jwks state");
            (f.loaded, r.may_fetch(&f, now))
        };
        match loaded {
            None if may_fetch => r.fetch_if(|f, now| f.loaded.is_none() && r.may_fetch(f, now)).await,
            Some(l) if may_fetch && now.saturating_duration_since(l) >= r.refresh => r.refresh_in_background(),
            _ => {}
        }
        remote_keys = r.keys();
        // A kid the set does not have: the provider may have rotated its
        // keys. Fetched again at once, at most once per interval.
        if let Some(kid) = &header.kid {
            let has = |keys: &[Key]| keys.iter().any(|k| k.kid.as_ref() == Some(kid));
            if !remote_keys.is_empty() && !has(&remote_keys) {
                r.fetch_if(|f, now| r.may_fetch(f, now) && !has(&f.keys)).await;
                remote_keys = r.keys();
            }
        }
        remote_missing = remote_keys.is_empty();
    }
    let candidates: Vec<&Key> = cfg
        .keys
        .iter()
        .chain(remote_keys.iter())
        .filter(|k| k.alg == header.alg && (k.kid.is_none() || header.kid.is_none() || k.kid == header.kid))
        .collect();
    if candidates.is_empty() {
        if remote_missing {
            return Err(TokenError::Unavailable(
                "cannot check the token now: the identity provider's keys could not be fetched yet; the server log has the details"
                    .into(),
            ));
        }
        return Err(refused(
            if header.kid.is_some() && cfg.keys.iter().chain(remote_keys.iter()).any(|k| k.alg == header.alg) {
                "no key of this server has the token's kid".to_owned()
            } else {
                format!("this server accepts no token signed with {:?}", header.alg)
            },
        ));
    }
    let mut failure: Option<jsonwebtoken::errors::Error> = None;
    let mut claims = None;
    for k in candidates {
        match decode::<Claims>(token, &k.key, &cfg.validation(k.alg)) {
            Ok(d) => {
                claims = Some(d.claims);
                break;
            }
            Err(e) => {
                if failure.as_ref().is_none_or(|f| !past_signature(f)) {
                    failure = Some(e);
                }
            }
        }
    }
    let Some(claims) = claims else {
        return Err(refused(
            failure.as_ref().map_or_else(|| "the token is invalid".into(), why),
        ));
    };
    let exp = seconds("exp", &claims.exp)?.ok_or_else(|| refused("the token has no `exp` claim"))?;
    seconds("nbf", &claims.nbf)?;
    let iat = seconds("iat", &claims.iat)?;
    if let Some(max) = cfg.max_lifetime {
        let now = chrono::Utc::now().timestamp();
        // From when it was issued, or from now if that is earlier (a token
        // "issued" in the future lives from now).
        let from = iat.map_or(now, |i| i.min(now));
        let lifetime = exp.saturating_sub(from);
        if lifetime > max as i64 {
            return Err(refused(format!(
                "the token lives {lifetime} s ({}), longer than the {max} s this server accepts",
                if iat.is_some() {
                    "exp − iat"
                } else {
                    "exp − now, without iat"
                }
            )));
        }
    }
    let role = Role::parse(&claims.role)
        .filter(|r| *r != Role::Anonymous)
        .ok_or_else(|| refused("the token's role is not one of admin, coordinator, analyst or partner"))?;
    let partner_id = match (role, &claims.partner) {
        (Role::Partner, Some(r)) => {
            let found = partner::Entity::find()
                .filter(partner::Column::Ref.eq(r.as_str()))
                .one(db)
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "authentication: database error");
                    TokenError::Unavailable("cannot check the credential now; the server log has the details".into())
                })?;
            Some(
                found
                    .ok_or_else(|| refused("the token's partner is not known here"))?
                    .id,
            )
        }
        (Role::Partner, None) => return Err(refused("a partner's token must name its partner (`partner`)")),
        _ => None,
    };
    // Its rate bucket: the issuer's subject (a token without a subject,
    // the token itself: only the key's holder can make another).
    let identity = match &claims.sub {
        Some(sub) => format!("jwt:{}:{sub}", claims.iss.as_deref().unwrap_or("")),
        None => format!(
            "jwt:{}:#{}",
            claims.iss.as_deref().unwrap_or(""),
            crate::domain::keys::hash(token)
        ),
    };
    Ok(Principal {
        role,
        partner_id,
        name: claims.sub.unwrap_or_else(|| format!("token:{}", role.as_str())),
        contact_details: claims.contact_details,
        identity,
    })
}
