//! Apps: create one, view its client key, rotate it (the SDK API refuses the old one), and
//! change its options (a refused value is shown beside its field).

use crate::browser::{Browser, tools};
use crate::harness::{Console, EMAIL, PASSWORD};
use serde_json::Value;

/// The status verifyPolicy answers an SDK using this client key.
async fn sdk_status(console: &Console, app_id: &str, client_key: &str) -> u16 {
    console
        .http
        .get(console.url(&format!("/api/v3/{app_id}/verifyPolicy?os=android")))
        .header("secretKey", client_key)
        .send()
        .await
        .expect("request sent")
        .status()
        .as_u16()
}

#[tokio::test]
async fn an_app_is_created_its_client_key_rotated_and_its_options_changed() {
    let Some((chromium, driver)) = tools("apps") else {
        return;
    };
    let console = Console::start().await;
    let browser = Browser::start(&chromium, &driver).await;
    console.sign_in(&browser, EMAIL, PASSWORD).await;
    console.open(&browser, "#/apps", "Apps").await;
    browser.fill("input[name=name]", "Kiosk").await;
    browser.click("form button[type=submit]").await;
    // The new app opens with its client key shown.
    browser.until_text("[data-testid=client-key]", "ck_").await;
    let app_id = browser.text("[data-testid=app-id]").await;
    let first_key = browser.text("[data-testid=client-key]").await;
    assert_eq!(sdk_status(&console, &app_id, &first_key).await, 200);

    browser.click("[data-action=rotate]").await;
    browser
        .client
        .accept_alert()
        .await
        .expect("the confirmation");
    browser.until_text(".alert.ok", "new client key").await;
    let second_key = browser.text("[data-testid=client-key]").await;
    assert!(second_key.starts_with("ck_") && second_key != first_key);
    assert_eq!(sdk_status(&console, &app_id, &first_key).await, 401);
    assert_eq!(sdk_status(&console, &app_id, &second_key).await, 200);

    // Options: a TTL out of range is refused beside its field; then saved.
    browser.fill("input[name=profile_ttl_days]", "400").await;
    browser
        .click("form:has(input[name=profile_ttl_days]) button[type=submit]")
        .await;
    browser
        .until(
            "the TTL refused beside its field",
            "const i = document.querySelector('input[name=profile_ttl_days]'); \
             return i.getAttribute('aria-invalid') === 'true' \
                 && i.closest('.field').querySelector('.field-error').textContent.length > 0;",
            vec![],
        )
        .await;
    browser.fill("input[name=profile_ttl_days]", "30").await;
    browser.click("input[name=multi_user_per_device]").await;
    browser
        .click("form:has(input[name=profile_ttl_days]) button[type=submit]")
        .await;
    browser
        .until_text(
            "form:has(input[name=profile_ttl_days]) .alert.ok",
            "Options saved",
        )
        .await;
    let (status, app): (u16, Value) = console
        .call(reqwest::Method::GET, &format!("/v1/apps/{app_id}"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(app["options"]["profile_ttl_days"], 30);
    assert_eq!(app["options"]["multi_user_per_device"], true);
    browser.screenshot("app-options-laptop").await;
    browser.close().await;
}
