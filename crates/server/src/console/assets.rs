//! The console's page and its assets, built into the binary (`include_str!`): no separate web
//! server, nothing fetched from elsewhere. Every answer carries a strict Content-Security-Policy
//! (only this origin's scripts, styles and connections; no inline script; no framing).

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

macro_rules! asset {
    ($name:literal, $type:literal) => {
        ($name, $type, include_str!(concat!("assets/", $name)))
    };
}

/// (file name, content type, content) of every asset under `/console/assets/`.
const ASSETS: &[(&str, &str, &str)] = &[
    asset!("console.css", "text/css; charset=utf-8"),
    asset!("api.js", "text/javascript; charset=utf-8"),
    asset!("ui.js", "text/javascript; charset=utf-8"),
    asset!("app.js", "text/javascript; charset=utf-8"),
    asset!("overview.js", "text/javascript; charset=utf-8"),
    asset!("tenant.js", "text/javascript; charset=utf-8"),
    asset!("apps.js", "text/javascript; charset=utf-8"),
    asset!("devices.js", "text/javascript; charset=utf-8"),
    asset!("schema.js", "text/javascript; charset=utf-8"),
    asset!("profiles.js", "text/javascript; charset=utf-8"),
    asset!("events.js", "text/javascript; charset=utf-8"),
];

const INDEX: &str = include_str!("assets/index.html");

fn respond(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // The binary is the version: a browser revalidates rather than keep an old script.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The single page; the script routes by the URL fragment (`#/tenant`, `#/apps`...).
pub async fn index() -> Response {
    respond("text/html; charset=utf-8", INDEX)
}

pub async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(file, _, _)| *file == name) {
        Some((_, content_type, body)) => respond(content_type, body),
        None => (StatusCode::NOT_FOUND, "no such console asset").into_response(),
    }
}
