//! Device attributes: hover a platform card, Configure its monitors, and see verifyPolicy
//! (what the SDK is told) change.

use crate::browser::{Browser, tools};
use crate::harness::{Console, EMAIL, PASSWORD};
use serde_json::{Value, json};

/// verifyPolicy as an SDK of this version asks for it.
async fn verify_policy(console: &Console, app: &(String, String), sdk: &str) -> Vec<Value> {
    let response = console
        .http
        .get(console.url(&format!("/api/v3/{}/verifyPolicy?os=android", app.0)))
        .header("secretKey", &app.1)
        .header("sdkversion", sdk)
        .send()
        .await
        .expect("request sent");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["monitors"].as_array().cloned().unwrap_or_default()
}

/// The attributes the editor lists in a category, in order.
async fn listed(browser: &Browser, category: &str) -> Vec<String> {
    let value = browser
        .run(
            "return [...document.querySelectorAll(`dialog[open] fieldset[data-category='${arguments[0]}'] input[role=switch]`)]\
             .map((e) => e.dataset.attribute);",
            vec![json!(category)],
        )
        .await;
    serde_json::from_value(value).unwrap()
}

fn strings(value: &Value) -> Vec<String> {
    serde_json::from_value(value.clone()).unwrap()
}

#[tokio::test]
async fn hovering_a_platform_shows_configure_and_saved_monitors_reach_verify_policy() {
    let Some((chromium, driver)) = tools("device attributes") else {
        return;
    };
    let console = Console::start().await;
    let app = console.app("Shop for Android").await;
    let (_, catalogue) = console
        .call(reqwest::Method::GET, "/v1/device-attributes", None)
        .await;
    let offer = |band: &str| {
        catalogue["offers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["platform"] == "android" && o["sdk_band"] == band)
            .cloned()
            .unwrap()
    };
    assert!(verify_policy(&console, &app, "2.11.4").await.is_empty());

    let browser = Browser::start(&chromium, &driver).await;
    console.sign_in(&browser, EMAIL, PASSWORD).await;
    console
        .open(
            &browser,
            &format!("#/devices/{}", app.0),
            "Device attributes",
        )
        .await;
    let card = browser.find(".platform-card[data-platform=android]").await;
    let configure = ".platform-card[data-platform=android] [data-action=configure]";
    // Hidden until the pointer is over the card.
    browser.hover(&browser.find("h1").await).await;
    assert_eq!(
        browser
            .find(configure)
            .await
            .css_value("opacity")
            .await
            .unwrap(),
        "0"
    );
    browser.hover(&card).await;
    browser
        .until(
            "Configure to show on hover",
            "return getComputedStyle(document.querySelector(arguments[0])).opacity === '1';",
            vec![json!(configure)],
        )
        .await;
    browser.screenshot("device-attributes-hover-laptop").await;
    // Keyboard users reach it too: focus inside a card shows its button.
    browser
        .run(
            "document.querySelector('.platform-card[data-platform=ios] .configure').focus();",
            vec![],
        )
        .await;
    browser
        .until(
            "Configure to show on focus",
            "return getComputedStyle(document.querySelector('.platform-card[data-platform=ios] .configure')).opacity === '1';",
            vec![],
        )
        .await;

    browser.hover(&card).await;
    browser.click(configure).await;
    browser.find("dialog[open][data-platform=android]").await;
    let legends = browser
        .run(
            "return [...document.querySelectorAll('dialog[open] fieldset[data-category] legend')].map((l) => l.textContent);",
            vec![],
        )
        .await;
    assert_eq!(
        legends,
        json!([
            "One-time monitors",
            "Event-based monitors",
            "Interval-based monitors"
        ])
    );
    // Exactly the catalogue's attributes for Android and the band shown.
    for category in ["one_time", "event", "interval"] {
        assert_eq!(
            listed(&browser, category).await,
            strings(&offer("2.12+")[category]),
            "2.12+ {category}"
        );
    }
    browser
        .click("dialog[open] input[role=switch][data-attribute=location]")
        .await;
    browser
        .click("dialog[open] input[name=band][value='2.11-']")
        .await;
    for category in ["one_time", "event", "interval"] {
        assert_eq!(
            listed(&browser, category).await,
            strings(&offer("2.11-")[category]),
            "2.11- {category}"
        );
    }
    let location_on = browser
        .run(
            "return document.querySelector(\"dialog[open] input[data-attribute=location]\").checked;",
            vec![],
        )
        .await;
    assert_eq!(location_on, json!(true), "a toggle holds across bands");
    browser
        .click("dialog[open] fieldset[data-category=one_time] input[data-attribute=imei]")
        .await;
    browser
        .click("dialog[open] fieldset[data-category=interval] input[data-attribute=batterylevel]")
        .await;
    browser
        .fill("dialog[open] input[data-interval-for=batterylevel]", "30")
        .await;
    browser.screenshot("device-attributes-editor-laptop").await;
    browser
        .click("dialog[open] [data-action=save-policy]")
        .await;
    browser
        .until_text(
            ".platform-card[data-platform=android] [data-testid=monitor-count]",
            "3 monitors",
        )
        .await;

    // The SDK is told: an SDK 2.11 runs all three; 2.12+ offers only event monitors.
    let legacy = verify_policy(&console, &app, "2.11.4").await;
    assert!(
        legacy.contains(&json!({"attribute": "location", "category": "event"})),
        "{legacy:?}"
    );
    assert!(
        legacy.contains(&json!({"attribute": "imei", "category": "one_time"})),
        "{legacy:?}"
    );
    assert!(
        legacy.contains(
            &json!({"attribute": "batterylevel", "category": "interval", "interval_seconds": 1800})
        ),
        "{legacy:?}"
    );
    assert_eq!(
        verify_policy(&console, &app, "2.12.0").await,
        vec![json!({"attribute": "location", "category": "event"})]
    );
    browser.close().await;
}
