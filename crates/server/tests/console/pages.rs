//! Every page at laptop (1366×768) and phone (390×844) width: it renders without an error,
//! nothing overflows sideways, the phone menu opens by its button; with
//! PROFILESTORE_WRITE_SCREENSHOTS=1 each is saved to docs/console/ for docs/console.md.

use crate::browser::{Browser, LAPTOP, PHONE, tools};
use crate::harness::{Console, EMAIL, PASSWORD};
use reqwest::Method;
use serde_json::json;

/// Customers, an app with a policy, devices that reported monitors, and so events.
async fn seed(console: &Console) -> String {
    for (id, name, email, balance) in [
        ("C-1", "Ann Customer", "ann.customer@example.org", "12.5"),
        ("C-2", "Bo Brown", "bo@example.org", "3"),
        ("C-3", "Cy Green", "cy@example.org", "0"),
    ] {
        console
            .write_customer(
                id,
                json!({"name": name, "email": email, "balance": balance}),
            )
            .await;
    }
    let app = console.app("Shop").await;
    let policy = json!({
        "android": [{"attribute": "location", "category": "event"},
                    {"attribute": "timezone", "category": "event"},
                    {"attribute": "batterylevel", "category": "interval", "interval_seconds": 3600}],
        "ios": [{"attribute": "location", "category": "event"}, {"attribute": "language", "category": "event"}],
        "web": []
    });
    let (status, _) = console
        .call(
            Method::PUT,
            &format!("/v1/apps/{}/device-policy", app.0),
            Some(policy),
        )
        .await;
    assert_eq!(status, 200);
    console.app("Web shop").await;
    for (user, device, platform, update) in [
        (
            "ann",
            "d-1",
            "android",
            json!({"os": "Android", "osversion": "14", "model": "Pixel 8",
            "location": "[51.5,-0.12]", "timezone": "Europe/London", "batterylevel": "56%"}),
        ),
        (
            "ann",
            "d-2",
            "ios",
            json!({"os": "iOS", "osversion": "17.4", "model": "iPhone 15",
            "location": "[48.85,2.35]", "language": "fr-FR"}),
        ),
        (
            "bo",
            "d-3",
            "android",
            json!({"os": "Android", "osversion": "13", "timezone": "Europe/Paris"}),
        ),
    ] {
        console
            .register_device(&app, user, device, platform, update)
            .await;
    }
    for (user, device, customer) in [
        ("ann", "d-1", "C-1"),
        ("ann", "d-2", "C-1"),
        ("bo", "d-3", "C-2"),
    ] {
        let response = console
            .http
            .post(console.url(&format!("/api/v3/{}/setCustomerId", app.0)))
            .header("secretKey", &app.1)
            .json(
                &json!({"clientId": format!("{}/{user}/{device}", app.0), "customerId": customer}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    console
        .write_customer("C-1", json!({"name": "Ann Customer", "balance": "14"}))
        .await;
    app.0
}

async fn check_page(
    console: &Console,
    browser: &Browser,
    hash: &str,
    heading: &str,
    name: &str,
    phone: bool,
) {
    console.open(browser, hash, heading).await;
    // Pages that load more after their heading settle first.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let failed = browser
        .run("return [...document.querySelectorAll('main .alert.error')].map((e) => e.textContent).join(' ');", vec![])
        .await;
    assert_eq!(failed, json!(""), "{hash} shows an error");
    if phone {
        let overflow = browser
            .run(
                "return document.documentElement.scrollWidth - window.innerWidth;",
                vec![],
            )
            .await;
        assert!(
            overflow.as_i64().unwrap() <= 0,
            "{hash} overflows sideways by {overflow}px"
        );
    }
    browser
        .run(
            "window.scrollTo(0, 0); document.activeElement && document.activeElement.blur();",
            vec![],
        )
        .await;
    browser.screenshot(name).await;
}

#[tokio::test]
async fn every_page_renders_at_laptop_and_phone_width() {
    let Some((chromium, driver)) = tools("pages") else {
        return;
    };
    let console = Console::start().await;
    let app = seed(&console).await;
    let browser = Browser::start(&chromium, &driver).await;
    let pages = [
        ("#/overview", "Overview", "overview"),
        ("#/tenant", "Tenant Settings", "tenant-settings"),
        ("#/apps", "Apps", "apps"),
        (&format!("#/apps/{app}") as &str, "Apps", "app"),
        (
            &format!("#/devices/{app}"),
            "Device attributes",
            "device-attributes",
        ),
        ("#/schema", "Customer attributes", "customer-attributes"),
        ("#/profiles", "Profiles", "profiles-search"),
        ("#/profiles/C-1", "Customer", "profile"),
        ("#/events", "Live events", "live-events"),
    ];
    for (size, label) in [(LAPTOP, "laptop"), (PHONE, "phone")] {
        browser.size(size).await;
        browser.goto(&console.url("/console")).await;
        if label == "laptop" {
            browser.find("input[name=email]").await;
            browser.screenshot("signin-laptop").await;
            console.sign_in(&browser, EMAIL, PASSWORD).await;
        } else {
            browser.find("[data-testid=signed-in-as]").await;
        }
        for (hash, heading, name) in &pages {
            check_page(
                &console,
                &browser,
                hash,
                heading,
                &format!("{name}-{label}"),
                size == PHONE,
            )
            .await;
        }
        if size == PHONE {
            // The navigation folds into a menu button.
            let menu = browser.find(".menu-button").await;
            assert_eq!(
                menu.attr("aria-expanded").await.unwrap().as_deref(),
                Some("false")
            );
            menu.click().await.unwrap();
            assert_eq!(
                menu.attr("aria-expanded").await.unwrap().as_deref(),
                Some("true")
            );
            browser.screenshot("menu-phone").await;
            browser.click("nav.side a[data-page=overview]").await;
            // The editor at phone width (no hover: the button is reached by focus).
            console
                .open(&browser, &format!("#/devices/{app}"), "Device attributes")
                .await;
            browser
                .find(".platform-card[data-platform=android] .configure")
                .await;
            browser
                .run(
                    "document.querySelector('.platform-card[data-platform=android] .configure').click();",
                    vec![],
                )
                .await;
            browser.find("dialog[open]").await;
            browser.screenshot("device-attributes-editor-phone").await;
            browser
                .run("document.querySelector('dialog[open]').close();", vec![])
                .await;
        }
    }
    // The overview counts what was seeded.
    browser.size(LAPTOP).await;
    console.open(&browser, "#/overview", "Overview").await;
    browser
        .until_text("[data-testid=customer-count]", "3")
        .await;
    browser.until_text("[data-testid=device-count]", "3").await;
    browser.close().await;
}
