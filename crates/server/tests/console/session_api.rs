//! The console's routes over plain HTTP (no browser): sessions, CSRF, the sign-in rate limit,
//! tenant isolation, operators, the page's headers and the `user` commands.

use crate::harness::{Console, EMAIL, PASSWORD};
use reqwest::Method;
use serde_json::{Value, json};

/// A signed-in HTTP client: the session cookie and the CSRF token.
struct Session<'a> {
    console: &'a Console,
    cookie: String,
    csrf: String,
}

impl Session<'_> {
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        csrf: Option<&str>,
    ) -> (u16, Value) {
        let mut request = self
            .console
            .http
            .request(method, self.console.url(path))
            .header("cookie", &self.cookie);
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        crate::harness::json_reply(request).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(Method::GET, path, None, None).await
    }

    /// A state-changing request with the session's CSRF token.
    async fn write(&self, method: Method, path: &str, body: Value) -> (u16, Value) {
        self.send(method, path, Some(body), Some(&self.csrf.clone()))
            .await
    }
}

/// Signs in over HTTP: the session, or the refusal's status and body.
async fn sign_in<'a>(
    console: &'a Console,
    email: &str,
    password: &str,
) -> Result<Session<'a>, (u16, Value)> {
    let response = console
        .http
        .post(console.url("/console/api/session"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("request sent");
    let status = response.status().as_u16();
    let set_cookie = response
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if status != 200 {
        return Err((status, body));
    }
    let set_cookie = set_cookie.expect("a session cookie");
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"),
        "{set_cookie}"
    );
    Ok(Session {
        console,
        cookie: set_cookie.split(';').next().unwrap().to_owned(),
        csrf: body["csrf_token"]
            .as_str()
            .expect("a CSRF token")
            .to_owned(),
    })
}

fn problem_type(body: &Value) -> &str {
    body["type"]
        .as_str()
        .unwrap_or_default()
        .rsplit('/')
        .next()
        .unwrap_or_default()
}

#[tokio::test]
async fn requests_that_change_something_need_the_sessions_csrf_token() {
    let console = Console::start().await;
    let session = sign_in(&console, EMAIL, PASSWORD).await.expect("signed in");
    // Reads need only the cookie.
    assert_eq!(session.get("/v1/apps").await.0, 200);
    assert_eq!(session.get("/console/api/tenant").await.0, 200);
    // Writes without the token, or with another, are refused on /v1 and /console/api alike.
    for csrf in [None, Some("not-the-token")] {
        let (status, body) = session
            .send(
                Method::POST,
                "/v1/apps",
                Some(json!({"name": "Shop"})),
                csrf,
            )
            .await;
        assert_eq!((status, problem_type(&body)), (403, "csrf"), "{body}");
        let (status, _) = session
            .send(
                Method::POST,
                "/console/api/tenant/profile-key/rotate",
                Some(json!({"grace_seconds": 0})),
                csrf,
            )
            .await;
        assert_eq!(status, 403);
    }
    assert_eq!(
        console.v1_status(&console.profile_key, "/v1/apps").await,
        200,
        "no rotation happened"
    );
    let (status, app) = session
        .write(Method::POST, "/v1/apps", json!({"name": "Shop"}))
        .await;
    assert_eq!(status, 201, "{app}");
    // A forged or missing session is not signed in.
    let forged = Session {
        console: &console,
        cookie: "ps_console=pcs_forged".into(),
        csrf: session.csrf.clone(),
    };
    assert_eq!(forged.get("/console/api/session").await.0, 401);
    assert_eq!(forged.get("/v1/apps").await.0, 401);
}

#[tokio::test]
async fn sign_in_attempts_are_rate_limited_per_address() {
    let console = Console::start().await;
    console.cli(
        &[
            "user",
            "create",
            "--tenant",
            "acme",
            "--email",
            "bob@example.org",
        ],
        Some(PASSWORD),
    );
    for attempt in 0..5 {
        let (status, body) = sign_in(&console, EMAIL, "wrong password")
            .await
            .err()
            .unwrap();
        assert_eq!(
            (status, problem_type(&body)),
            (401, "unauthorized"),
            "attempt {attempt}"
        );
    }
    // Locked: even the right password is refused until the window has passed.
    let (status, body) = sign_in(&console, EMAIL, PASSWORD).await.err().unwrap();
    assert_eq!(
        (status, problem_type(&body)),
        (429, "sign-in-throttled"),
        "{body}"
    );
    // Another address is not locked by ann's failures.
    assert!(sign_in(&console, "bob@example.org", PASSWORD).await.is_ok());
    // A cross-site form cannot send JSON: a sign-in body of another type is refused unread.
    let form = console
        .http
        .post(console.url("/console/api/session"))
        .header("content-type", "text/plain")
        .body(format!(
            r#"{{"email":"bob@example.org","password":"{PASSWORD}"}}"#
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 415);
    // Unknown addresses are refused like wrong passwords (nothing tells which exist).
    let (status, _) = sign_in(&console, "nobody@example.org", PASSWORD)
        .await
        .err()
        .unwrap();
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_tenant_user_reaches_only_its_tenant_and_an_operator_chooses_one() {
    let console = Console::start().await;
    let beta: Value =
        serde_json::from_str(&console.cli(&["tenant", "create", "beta", "--json"], None)).unwrap();
    let beta_key = beta["profile_key"].as_str().unwrap();
    console.wait_for_key(beta_key).await;
    let response = console
        .http
        .post(console.url("/resources/v2/customerprofile"))
        .header("key", beta_key)
        .json(&json!({"Records": [{"customerId": "B-1", "Attributes": {"name": "Beta"}}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let ann = sign_in(&console, EMAIL, PASSWORD).await.expect("signed in");
    assert_eq!(
        ann.get("/v1/customers/B-1").await.0,
        404,
        "another tenant's customer is not found"
    );
    let (status, tenants) = ann.get("/console/api/tenants").await;
    assert_eq!(
        (status, tenants["tenants"].as_array().unwrap().len()),
        (200, 1)
    );
    let (status, body) = ann
        .write(
            Method::PUT,
            "/console/api/session/tenant",
            json!({"tenant_id": "beta"}),
        )
        .await;
    assert_eq!((status, problem_type(&body)), (403, "operators-only"));
    let (status, _) = ann
        .write(
            Method::PUT,
            "/console/api/tenant/rate-limit",
            json!({"requests_per_second": 5}),
        )
        .await;
    assert_eq!(status, 403, "tenant users do not set rate limits");

    // An operator with a generated password, printed once.
    let created = console.cli(
        &[
            "user",
            "create",
            "--operator",
            "--email",
            "Op@Example.org",
            "--json",
        ],
        None,
    );
    let created: Value = serde_json::from_str(&created).unwrap();
    let password = created["password"].as_str().expect("a generated password");
    assert_eq!(created["email"], "op@example.org");
    let op = sign_in(&console, "op@example.org", password)
        .await
        .expect("operator signed in");
    let (status, body) = op.get("/v1/apps").await;
    assert_eq!((status, problem_type(&body)), (409, "no-tenant"));
    assert_eq!(
        op.get("/console/api/tenants").await.1["tenants"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let (status, view) = op
        .write(
            Method::PUT,
            "/console/api/session/tenant",
            json!({"tenant_id": "beta"}),
        )
        .await;
    assert_eq!(
        (status, view["tenant"]["name"].as_str()),
        (200, Some("beta"))
    );
    assert_eq!(op.get("/v1/customers/B-1").await.0, 200);
    let (status, settings) = op
        .write(
            Method::PUT,
            "/console/api/tenant/rate-limit",
            json!({"requests_per_second": 5}),
        )
        .await;
    assert_eq!((status, settings["rate_limit"].as_u64()), (200, Some(5)));
    let listed = console.cli(&["tenant", "list", "--json"], None);
    assert!(listed.contains("\"rate_limit\":5"), "{listed}");
}

#[tokio::test]
async fn the_page_and_its_assets_come_from_the_binary_with_a_strict_policy() {
    let console = Console::start().await;
    let page = console
        .http
        .get(console.url("/console"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing is loaded from elsewhere"
    );
    for asset in [
        "console.css",
        "app.js",
        "api.js",
        "ui.js",
        "overview.js",
        "tenant.js",
        "apps.js",
        "devices.js",
        "schema.js",
        "profiles.js",
        "events.js",
    ] {
        let response = console
            .http
            .get(console.url(&format!("/console/assets/{asset}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{asset}");
        // The SVG namespace is a name, not an address anything is loaded from.
        let body = response
            .text()
            .await
            .unwrap()
            .replace("http://www.w3.org/2000/svg", "");
        assert!(
            !body.contains("https://") && !body.contains("http://"),
            "{asset} refers elsewhere"
        );
    }
    let missing = console
        .http
        .get(console.url("/console/assets/nothing.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn user_commands_create_change_and_delete_console_users() {
    let console = Console::start().await;
    // Without a password on stdin, one is generated and printed once.
    let out = console.cli(
        &[
            "user",
            "create",
            "--tenant",
            "acme",
            "--email",
            "carol@example.org",
        ],
        Some(""),
    );
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("printed")
        .to_owned();
    let carol = sign_in(&console, "carol@example.org", &password)
        .await
        .expect("signed in");
    assert_eq!(carol.get("/console/api/session").await.0, 200);
    // A new password ends the user's sessions.
    console.cli(
        &["user", "set-password", "--email", "carol@example.org"],
        Some("another long passphrase"),
    );
    assert_eq!(carol.get("/console/api/session").await.0, 401);
    assert!(
        sign_in(&console, "carol@example.org", "another long passphrase")
            .await
            .is_ok()
    );
    let listed = console.cli(&["user", "list", "--tenant", "acme"], None);
    assert!(
        listed.contains("carol@example.org") && listed.contains(EMAIL),
        "{listed}"
    );
    console.cli(&["user", "delete", "--email", "carol@example.org"], None);
    assert!(
        sign_in(&console, "carol@example.org", "another long passphrase")
            .await
            .is_err()
    );

    // Refusals: a taken address, a short password, an unknown tenant, no scope.
    for (args, stdin, message) in [
        (
            vec!["user", "create", "--tenant", "acme", "--email", EMAIL],
            PASSWORD,
            "exists",
        ),
        (
            vec![
                "user",
                "create",
                "--tenant",
                "acme",
                "--email",
                "dan@example.org",
            ],
            "short",
            "at least 12",
        ),
        (
            vec![
                "user",
                "create",
                "--tenant",
                "nope",
                "--email",
                "dan@example.org",
            ],
            PASSWORD,
            "no tenant",
        ),
        (
            vec![
                "user",
                "create",
                "--tenant",
                "acme",
                "--email",
                "not-an-address",
            ],
            PASSWORD,
            "not an e-mail",
        ),
    ] {
        let failure = console.cli_failure(&args, stdin);
        assert!(failure.contains(message), "{args:?}: {failure}");
    }
}
