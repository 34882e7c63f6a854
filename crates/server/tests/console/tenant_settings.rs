//! Tenant Settings: view and copy the profile key, rotate it with a grace period.

use crate::browser::{Browser, tools};
use crate::harness::{Console, EMAIL, PASSWORD};
use std::time::{Duration, Instant};

#[tokio::test]
async fn the_profile_key_is_viewed_copied_and_rotated_with_a_grace_period() {
    let Some((chromium, driver)) = tools("profile key") else {
        return;
    };
    let console = Console::start().await;
    let browser = Browser::start(&chromium, &driver).await;
    console.sign_in(&browser, EMAIL, PASSWORD).await;
    console.open(&browser, "#/tenant", "Tenant Settings").await;

    // Masked until the view icon is used.
    let masked = browser.text("[data-testid=profile-key]").await;
    assert!(!masked.contains("psk_"), "masked: {masked}");
    browser.click("[data-action=view]").await;
    browser
        .until_text("[data-testid=profile-key]", "psk_")
        .await;
    assert_eq!(
        browser.text("[data-testid=profile-key]").await,
        console.profile_key
    );
    browser.screenshot("tenant-settings-key-shown-laptop").await;

    // Copy: a visible confirmation, and the clipboard holds the key.
    browser.click("[data-action=copy]").await;
    browser
        .until_text("[data-testid=profile-key-copied]", "Copied")
        .await;
    assert_eq!(browser.clipboard().await, console.profile_key);

    // Rotate with a grace period of a few seconds.
    browser.click("[data-action=rotate]").await;
    browser
        .find("select[name=grace]")
        .await
        .select_by_value("custom")
        .await
        .expect("custom grace");
    // Long enough that the old key is certainly checked inside it, even on a slow machine.
    browser.fill("input[name=grace_seconds]", "10").await;
    let rotated_at = Instant::now();
    browser.click("[data-action=confirm-rotate]").await;
    browser.until_text(".alert.ok", "new profile key").await;
    let new_key = browser.text("[data-testid=profile-key]").await;
    assert!(new_key.starts_with("psk_") && new_key != console.profile_key);

    // Both keys work during the grace period; afterwards only the new one.
    assert_eq!(console.v1_status(&new_key, "/v1/apps").await, 200);
    assert!(
        rotated_at.elapsed() < Duration::from_secs(9),
        "the check must fall inside the grace period"
    );
    assert_eq!(
        console.v1_status(&console.profile_key, "/v1/apps").await,
        200
    );
    tokio::time::sleep(Duration::from_secs(10).saturating_sub(rotated_at.elapsed())).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while console.v1_status(&console.profile_key, "/v1/apps").await != 401 {
        assert!(
            Instant::now() < deadline,
            "the old key still works after its grace period"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(console.v1_status(&new_key, "/v1/apps").await, 200);
    // The CLI shows the same new key.
    assert_eq!(
        console.cli(&["tenant", "show-key", "acme"], None).trim(),
        new_key
    );
    browser.close().await;
}
