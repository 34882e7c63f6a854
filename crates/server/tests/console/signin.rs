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

#[tokio::test]
async fn an_operator_chooses_the_tenant_to_act_on() {
    let Some((chromium, driver)) = tools("operator") else {
        return;
    };
    let console = Console::start().await;
    console.cli(&["tenant", "create", "beta"], None);
    console.cli(
        &["user", "create", "--operator", "--email", "ops@example.org"],
        Some(PASSWORD),
    );
    let browser = Browser::start(&chromium, &driver).await;
    console.sign_in(&browser, "ops@example.org", PASSWORD).await;
    browser.until_text("main h1", "Choose a tenant").await;
    assert!(
        browser
            .text("[data-testid=signed-in-as]")
            .await
            .contains("operator")
    );
    let picker = browser.find(".tenant-picker select").await;
    browser
        .until(
            "the tenants to be listed",
            "return document.querySelectorAll('.tenant-picker option').length === 3;",
            vec![],
        )
        .await;
    picker.select_by_label("beta").await.expect("beta chosen");
    console.open(&browser, "#/tenant", "Tenant Settings").await;
    browser.until_text("main", "Tenant beta").await;
    // An operator sets the rate limit (a tenant's user only sees it).
    browser.fill("input[name=rate_limit]", "25").await;
    browser
        .click("form:has(input[name=rate_limit]) button[type=submit]")
        .await;
    browser
        .until_text("form:has(input[name=rate_limit]) .alert.ok", "Saved")
        .await;
    let listed = console.cli(&["tenant", "list", "--json"], None);
    assert!(
        listed.contains(r#""name":"beta","rate_limit":25"#),
        "{listed}"
    );
    browser.close().await;
}
