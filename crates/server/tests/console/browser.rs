//! A real headless Chromium driven over WebDriver: chromedriver is started by the test on a
//! free loopback port and killed when the [`Browser`] is dropped. Debian's packages put them at
//! /usr/bin/chromium and /usr/bin/chromedriver (`.ci/run` installs them). Without them a test
//! is skipped with the reason printed, except under `CI=true`, where that is a failure.

use crate::support::say;
use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &[&str] = &["/usr/bin/chromium", "/usr/bin/chromium-browser"];
const CHROMEDRIVER: &[&str] = &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"];
/// How long a condition in the page is waited for.
pub const PATIENCE: Duration = Duration::from_secs(15);

pub const LAPTOP: (u32, u32) = (1366, 768);
pub const PHONE: (u32, u32) = (390, 844);

fn first_existing(candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

/// Chromium and chromedriver, or None (skip) when they are missing outside CI.
pub fn tools(test: &str) -> Option<(PathBuf, PathBuf)> {
    match (first_existing(CHROMIUM), first_existing(CHROMEDRIVER)) {
        (Some(chromium), Some(driver)) => Some((chromium, driver)),
        _ => {
            let why = "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)";
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{test}: {why}, and CI=true: the console's browser tests must run");
            }
            say(&format!("{test}: skipped: {why}"));
            None
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// chromedriver and one browser session.
pub struct Browser {
    pub client: Client,
    driver: Child,
    port: u16,
    session: String,
    _profile: tempfile::TempDir,
}

/// `POST /session/{id}/permissions` (W3C Permissions): lets the page read the clipboard, so a
/// test can check what the copy icon wrote.
#[derive(Debug)]
struct SetPermission(&'static str);

impl WebDriverCompatibleCommand for SetPermission {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/permissions",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({"descriptor": {"name": self.0}, "state": "granted"});
        (http::Method::POST, Some(body.to_string()))
    }
}

impl Browser {
    /// Starts chromedriver and a headless Chromium at laptop size.
    pub async fn start(chromium: &Path, driver_path: &Path) -> Browser {
        let port = free_port();
        let mut driver = Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().expect("a browser profile dir");
        let mut caps = Capabilities::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--no-first-run", "--disable-extensions", "--hide-scrollbars",
                         format!("--window-size={},{}", LAPTOP.0, LAPTOP.1),
                         format!("--user-data-dir={}", profile.path().display())],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(error) if Instant::now() < deadline => {
                    let _ = error;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(error) => {
                    let _ = driver.kill();
                    panic!("no WebDriver session: {error}");
                }
            }
        };
        let session = client.session_id().await.ok().flatten().unwrap_or_default();
        Browser {
            client,
            driver,
            port,
            session,
            _profile: profile,
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("page loads");
    }

    pub async fn size(&self, (width, height): (u32, u32)) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("window resized");
    }

    /// Waits for an element to be present (and returns it).
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("no element {css}: {error}"))
    }

    /// Waits until a script returns true.
    pub async fn until(&self, what: &str, script: &str, args: Vec<Value>) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let value = self.client.execute(script, args.clone()).await;
            if matches!(value, Ok(Value::Bool(true))) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what} (last: {value:?})"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the text of the first element matching `css` contains `text`.
    pub async fn until_text(&self, css: &str, text: &str) {
        self.until(
            &format!("{css} to say {text:?}"),
            "const e = document.querySelector(arguments[0]); return !!e && e.textContent.includes(arguments[1]);",
            vec![json!(css), json!(text)],
        )
        .await;
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("element text")
    }

    /// Clicks an element, scrolled to the middle of the view first (a sticky header or
    /// footer must not cover it).
    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.run(
            "document.querySelector(arguments[0])?.scrollIntoView({block: 'center', inline: 'center'});",
            vec![serde_json::json!(css)],
        )
        .await;
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Replaces an input's value by typing into it.
    pub async fn fill(&self, css: &str, value: &str) {
        let input = self.find(css).await;
        input.clear().await.expect("input cleared");
        input.send_keys(value).await.expect("typed");
    }

    pub async fn run(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .expect("script runs")
    }

    /// What the page reads from the clipboard. Permissions belong to an origin: reading is
    /// granted to the page's own, now.
    pub async fn clipboard(&self) -> String {
        self.client
            .issue_cmd(SetPermission("clipboard-read"))
            .await
            .expect("clipboard permission granted");
        let value = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1]; \
                 navigator.clipboard.readText().then(done, (e) => done('clipboard error: ' + e));",
                vec![],
            )
            .await
            .expect("clipboard read");
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Moves the mouse pointer over an element (a hover).
    pub async fn hover(&self, element: &fantoccini::elements::Element) {
        use fantoccini::actions::{InputSource, MouseActions, PointerAction};
        let actions = MouseActions::new("mouse".into()).then(PointerAction::MoveToElement {
            element: element.clone(),
            duration: None,
            x: 0.0,
            y: 0.0,
        });
        self.client
            .perform_actions(actions)
            .await
            .expect("pointer moved");
    }

    /// Saves a PNG of the viewport to docs/console/<name>.png when
    /// PROFILESTORE_WRITE_SCREENSHOTS=1 (CI leaves the tree clean).
    pub async fn screenshot(&self, name: &str) {
        if std::env::var("PROFILESTORE_WRITE_SCREENSHOTS").as_deref() != Ok("1") {
            return;
        }
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/console");
        std::fs::create_dir_all(&dir).expect("docs/console exists");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("screenshot written");
    }

    /// Ends the session (the browser quits), then chromedriver (on drop).
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }

    /// Ends the session with a plain blocking request: drop cannot await, and a failing test
    /// must not leave its browser running.
    fn end_session(&self) {
        use std::io::{Read, Write};
        let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let request = format!(
            "DELETE /session/{} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.session, self.port
        );
        if stream.write_all(request.as_bytes()).is_ok() {
            let mut answer = Vec::new();
            let _ = stream.read_to_end(&mut answer);
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // After `close` the session is gone already and this answers 404 at once.
        self.end_session();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
