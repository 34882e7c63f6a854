//! Signing in and out in the browser.

use crate::browser::{Browser, tools};
use crate::harness::{Console, EMAIL, PASSWORD};

#[tokio::test]
async fn a_user_signs_in_is_refused_a_wrong_password_and_signs_out() {
    let Some((chromium, driver)) = tools("sign in") else {
        return;
    };
    let console = Console::start().await;
    let browser = Browser::start(&chromium, &driver).await;

    browser.goto(&console.url("/console")).await;
    browser.fill("input[name=email]", EMAIL).await;
    browser
        .fill("input[name=password]", "not the password")
        .await;
    browser.click("form button[type=submit]").await;
    browser.until_text(".alert.error", "wrong").await;
    browser.screenshot("signin-laptop").await;

    console.sign_in(&browser, EMAIL, PASSWORD).await;
    assert!(
        browser
            .text("[data-testid=signed-in-as]")
            .await
            .contains(EMAIL)
    );
    assert_eq!(browser.text("[data-testid=tenant-name]").await, "acme");
    // The session cookie is HttpOnly: the page's script cannot read it.
    let visible = browser.run("return document.cookie;", vec![]).await;
    assert_eq!(visible, "", "the session cookie is not visible to scripts");
    let cookie = browser
        .client
        .get_named_cookie("ps_console")
        .await
        .expect("the session cookie");
    assert!(cookie.http_only().unwrap_or(false));
    assert_eq!(format!("{:?}", cookie.same_site()), "Some(Strict)");
    let session = format!("ps_console={}", cookie.value());
    let with_session = |path: &str| {
        console
            .http
            .get(console.url(path))
            .header("cookie", session.clone())
            .send()
    };
    assert_eq!(with_session("/v1/apps").await.unwrap().status(), 200);

    browser.click("[data-action=sign-out]").await;
    browser.find("input[name=email]").await;
    // The session ended on the server, not only in this browser.
    assert_eq!(with_session("/v1/apps").await.unwrap().status(), 401);
    browser.close().await;
}
