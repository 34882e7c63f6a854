//! Customer attributes and Profiles: add a custom attribute (a refused definition shows the
//! API's message beside the field), find a profile, and edit a value (a bad one is refused
//! beside the field).

use crate::browser::{Browser, tools};
use crate::harness::{Console, EMAIL, PASSWORD};
use serde_json::json;

/// The error shown beside the input named `name` (inside its form field).
async fn error_beside(browser: &Browser, input: &str) -> String {
    browser
        .until(
            &format!("an error beside {input}"),
            "const i = document.querySelector(arguments[0]); \
             return !!i && i.getAttribute('aria-invalid') === 'true' \
                 && i.closest('.field').querySelector('.field-error').textContent.length > 0;",
            vec![json!(input)],
        )
        .await;
    browser
        .run(
            "const i = document.querySelector(arguments[0]); \
             const e = i.closest('.field').querySelector('.field-error'); \
             return i.getAttribute('aria-describedby').split(' ').includes(e.id) ? e.textContent : 'not described';",
            vec![json!(input)],
        )
        .await
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_custom_attribute_is_added_and_a_bad_value_is_refused_beside_its_field() {
    let Some((chromium, driver)) = tools("customer attributes") else {
        return;
    };
    let console = Console::start().await;
    let browser = Browser::start(&chromium, &driver).await;
    console.sign_in(&browser, EMAIL, PASSWORD).await;
    console
        .open(&browser, "#/schema", "Customer attributes")
        .await;

    // A definition the API refuses: the default is not a decimal.
    browser.fill("input[name=name]", "balance").await;
    browser
        .find("select[name=type]")
        .await
        .select_by_value("decimal")
        .await
        .unwrap();
    browser.fill("input[name=min]", "0").await;
    browser.fill("input[name=default]", "lots").await;
    browser.click("[data-action=add-attribute]").await;
    let message = error_beside(&browser, "input[name=default]").await;
    assert!(message.contains("decimal"), "{message}");
    browser
        .screenshot("customer-attributes-refused-laptop")
        .await;
    browser.fill("input[name=default]", "0").await;
    browser.click("[data-action=add-attribute]").await;
    browser.find("tr[data-attribute=balance]").await;
    // A unique attribute, to look customers up by.
    browser.fill("input[name=name]", "loyalty_id").await;
    browser.click("input[name=unique]").await;
    browser.click("[data-action=add-attribute]").await;
    browser.find("tr[data-attribute=loyalty_id]").await;
    let (_, schema) = console
        .call(
            reqwest::Method::GET,
            "/v1/customer-attributes/balance",
            None,
        )
        .await;
    assert_eq!(
        (schema["type"].as_str(), schema["min"].as_str()),
        (Some("decimal"), Some("0"))
    );

    console
        .write_customer(
            "C-1",
            json!({"name": "Ann Customer", "email": "ann.customer@example.org",
                   "msisdn": "447700900001", "balance": "12.5", "loyalty_id": "L-77"}),
        )
        .await;
    console.write_customer("C-2", json!({"name": "Bo"})).await;

    // Find the profile by e-mail, by its unique attribute, and by customerId.
    console.open(&browser, "#/profiles", "Profiles").await;
    browser
        .find("select[name=by]")
        .await
        .select_by_value("email")
        .await
        .unwrap();
    browser
        .fill("input[name=q]", "Ann.Customer@Example.org")
        .await;
    browser.click("form[role=search] button[type=submit]").await;
    browser.until_text("main [aria-live] li", "C-1").await;
    browser
        .find("select[name=by]")
        .await
        .select_by_value("loyalty_id")
        .await
        .unwrap();
    browser.fill("input[name=q]", "L-77").await;
    browser.click("form[role=search] button[type=submit]").await;
    browser.until_text("main [aria-live] li", "C-1").await;
    browser
        .find("select[name=by]")
        .await
        .select_by_value("customerId")
        .await
        .unwrap();
    browser.fill("input[name=q]", "C-1").await;
    browser.click("form[role=search] button[type=submit]").await;
    browser.until_text("main h1", "C-1").await;
    browser
        .until_text("tr[data-attribute=balance] [data-testid=value]", "12.5")
        .await;

    // A value below the minimum is refused beside the field; a good one is saved.
    browser
        .click("tr[data-attribute=balance] [data-action=edit]")
        .await;
    browser
        .fill("tr[data-attribute=balance] input[name=balance]", "-5")
        .await;
    browser
        .click("tr[data-attribute=balance] [data-action=save]")
        .await;
    let message = error_beside(&browser, "tr[data-attribute=balance] input[name=balance]").await;
    assert!(message.contains("minimum"), "{message}");
    browser.screenshot("profile-edit-refused-laptop").await;
    browser
        .fill("tr[data-attribute=balance] input[name=balance]", "20.10")
        .await;
    browser
        .click("tr[data-attribute=balance] [data-action=save]")
        .await;
    browser
        .until_text("tr[data-attribute=balance] [data-testid=value]", "20.1")
        .await;
    let (_, customer) = console
        .call(reqwest::Method::GET, "/v1/customers/C-1", None)
        .await;
    assert_eq!(customer["attributes"]["balance"], "20.1");
    browser
        .until_text("#c-events ~ ul", "customer.updated")
        .await;
    browser.close().await;
}
