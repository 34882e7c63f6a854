//! Live events: the feed shows the tenant's events as they happen, filtered by type.

use crate::browser::{Browser, tools};
use crate::harness::{Console, EMAIL, PASSWORD};
use serde_json::json;

#[tokio::test]
async fn an_event_arrives_in_the_live_feed_filtered_by_type() {
    let Some((chromium, driver)) = tools("live events") else {
        return;
    };
    let console = Console::start().await;
    let browser = Browser::start(&chromium, &driver).await;
    console.sign_in(&browser, EMAIL, PASSWORD).await;
    console.open(&browser, "#/events", "Live events").await;
    browser
        .until_text("[data-testid=stream-state]", "Live: every type")
        .await;
    browser
        .click("input[name=type][value='customer.updated']")
        .await;
    browser
        .until_text("[data-testid=stream-state]", "Live: customer.updated")
        .await;

    console.write_customer("C-9", json!({"name": "Nine"})).await;
    console
        .write_customer("C-9", json!({"name": "Nine", "email": "nine@example.org"}))
        .await;
    browser
        .until_text("[data-testid=feed] li[data-type='customer.updated']", "C-9")
        .await;
    let entry = browser
        .text("[data-testid=feed] li[data-type='customer.updated']")
        .await;
    assert!(entry.contains("email"), "the change is shown: {entry}");
    let created = browser
        .run(
            "return document.querySelectorAll(\"[data-testid=feed] li[data-type='customer.created']\").length;",
            vec![],
        )
        .await;
    assert_eq!(created, json!(0), "filtered out");
    browser.screenshot("live-events-feed-laptop").await;
    browser.close().await;
}
