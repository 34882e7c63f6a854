//! Console sessions: a random token in an HttpOnly, SameSite=Strict cookie (Secure under TLS),
//! kept server-side by its SHA-256 digest (so every node on one PostgreSQL shares sessions, and
//! a copy of the database holds no usable token). State-changing requests must also carry the
//! session's CSRF token in a header: a value the page's script reads from the session endpoint
//! and a cross-site form cannot know or send. It is derived from the session token (a hash with
//! its own label), so it needs no storage and dies with the session.

use crate::api::v1::problem::Problem;
use crate::secrets::{PlainSecret, digest, digests_match};
use crate::state::AppState;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use profilestore_store::console::{ConsoleSession, ConsoleUser};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// The session cookie's name.
pub const COOKIE: &str = "ps_console";
/// The header that carries the CSRF token on state-changing requests.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A session ends this long after sign-in, used or not.
pub const LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// Session tokens start with this, so that secret scanners and people recognise them.
const TOKEN_PREFIX: &str = "pcs_";
/// Separates the CSRF token's hash from the stored digest of the same session token.
const CSRF_LABEL: &[u8] = b"profilestore console csrf v1\0";

/// A new session token: 256 random bits.
pub fn new_token() -> PlainSecret {
    PlainSecret::generate(TOKEN_PREFIX)
}

/// The CSRF token of the session whose token this is.
pub fn csrf_token(token: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(CSRF_LABEL);
    hasher.update(token.as_bytes());
    URL_SAFE_NO_PAD.encode(hasher.finalize())
}

/// Whether a method changes state (and so needs the CSRF header).
pub fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The session token in the request's cookies, if any.
pub fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// The `Set-Cookie` value that stores a session in the browser. `Path=/`: the console's
/// script calls the native API (`/v1`) with it too.
pub fn set_cookie(token: &str, secure: bool) -> HeaderValue {
    cookie(token, LIFETIME.as_secs(), secure)
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> HeaderValue {
    cookie("", 0, secure)
}

fn cookie(value: &str, max_age: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("ps_console=; Path=/; Max-Age=0"))
}

/// A request's live session.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub session: ConsoleSession,
    pub user: ConsoleUser,
    /// The CSRF token of this session (the session endpoint hands it to the page).
    pub csrf: String,
}

impl SignedIn {
    pub fn is_operator(&self) -> bool {
        self.user.tenant_id.is_none()
    }

    /// The tenant this session acts on: a tenant user's own, or the one an operator chose.
    pub fn tenant_id(&self) -> Option<&str> {
        match &self.user.tenant_id {
            Some(own) => Some(own),
            None => self.session.tenant_id.as_deref(),
        }
    }
}

pub fn not_signed_in() -> Problem {
    Problem::unauthorized("sign in to the console first (the session is missing or has ended)")
}

pub fn csrf_refused() -> Problem {
    Problem::new(
        StatusCode::FORBIDDEN,
        "csrf",
        "Forbidden",
        "a console request that changes something must carry the session's X-CSRF-Token header",
    )
}

/// The live session of a request, checking the CSRF header when `method` changes state.
pub async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
    method: &Method,
) -> Result<SignedIn, Problem> {
    let token = cookie_token(headers).ok_or_else(not_signed_in)?;
    let (session, user) = state
        .store
        .console_session(&digest(token), Utc::now())
        .await?
        .ok_or_else(not_signed_in)?;
    let csrf = csrf_token(token);
    if changes_state(method) {
        let presented = headers
            .get(CSRF_HEADER)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        if !digests_match(presented, &csrf) {
            return Err(csrf_refused());
        }
    }
    Ok(SignedIn {
        session,
        user,
        csrf,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let map = headers(&[("cookie", "theme=dark; ps_console=pcs_abc ; other=1")]);
        assert_eq!(cookie_token(&map), Some("pcs_abc"));
        let split = headers(&[("cookie", "a=1"), ("cookie", "ps_console=pcs_x")]);
        assert_eq!(cookie_token(&split), Some("pcs_x"));
        assert_eq!(
            cookie_token(&headers(&[("cookie", "ps_console_old=1")])),
            None
        );
        assert_eq!(cookie_token(&headers(&[("cookie", "ps_console=")])), None);
        assert_eq!(cookie_token(&HeaderMap::new()), None);
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_under_tls() {
        let plain = set_cookie("pcs_t", false);
        let plain = plain.to_str().unwrap();
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Strict"));
        assert!(!plain.contains("Secure"));
        assert!(
            set_cookie("pcs_t", true)
                .to_str()
                .unwrap()
                .ends_with("; Secure")
        );
        assert!(clear_cookie(false).to_str().unwrap().contains("Max-Age=0"));
    }

    #[test]
    fn csrf_tokens_belong_to_one_session_and_differ_from_its_digest() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a.expose(), b.expose());
        assert!(a.expose().starts_with(TOKEN_PREFIX));
        assert_eq!(csrf_token(a.expose()), csrf_token(a.expose()));
        assert_ne!(csrf_token(a.expose()), csrf_token(b.expose()));
        assert_ne!(csrf_token(a.expose()), digest(a.expose()));
    }

    #[test]
    fn only_reads_are_exempt_from_csrf() {
        assert!(!changes_state(&Method::GET));
        assert!(!changes_state(&Method::HEAD));
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert!(changes_state(&method), "{method}");
        }
    }
}
