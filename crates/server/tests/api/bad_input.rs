//! Bad input gets the documented code and changes nothing; nothing panics the server.

use crate::support::{TestApp, into_reply, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PATH: &str = "/resources/v2/customerprofile";

async fn post_raw(app: &TestApp, key: &str, body: Vec<u8>) -> crate::support::Reply {
    let response = app
        .client
        .post(format!("{}{PATH}", app.base_url))
        .header("key", key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    into_reply(response).await
}

async fn customer_count(app: &TestApp, key: &str, ids: &[&str]) -> usize {
    let query: Vec<String> = ids.iter().map(|id| format!("customerId={id}")).collect();
    let reply = app.get(&format!("{PATH}?{}", query.join("&")), key).await;
    reply.body["Records"]
        .as_array()
        .map(Vec::len)
        .unwrap_or_default()
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_refused_with_413() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let padding = "x".repeat(1024 * 1024);
    let body = json!({"customerId": "big", "attributes": {"note": padding}})
        .to_string()
        .into_bytes();

    let reply = post_raw(&app, &tenant.key, body).await;

    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.code(), "7000");
    assert_eq!(customer_count(&app, &tenant.key, &["big"]).await, 0);
}

#[tokio::test]
async fn malformed_json_invalid_utf8_and_deep_nesting_are_7000() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes();

    for body in [
        b"{not json".to_vec(),
        b"{\"customerId\": \"\xff\xfe\"}".to_vec(),
        deep,
        Vec::new(),
    ] {
        let reply = post_raw(&app, &tenant.key, body).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::BAD_REQUEST, "7000"),
            "{:?}",
            reply.body
        );
    }
}

#[tokio::test]
async fn wrong_json_types_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;

    let not_object = post_raw(&app, &tenant.key, b"[1,2]".to_vec()).await;
    let records_not_array = app.post(PATH, &tenant.key, json!({"Records": "C-1"})).await;
    let record_not_object = app.post(PATH, &tenant.key, json!({"Records": [42]})).await;
    let attributes_not_object = app
        .post(
            PATH,
            &tenant.key,
            json!({"customerId": "t1", "attributes": [1]}),
        )
        .await;
    let nested_value = app
        .post(
            PATH,
            &tenant.key,
            json!({"customerId": "t2", "attributes": {"x": {"y": 1}}}),
        )
        .await;
    let id_not_scalar = app
        .post(PATH, &tenant.key, json!({"customerId": {"a": 1}}))
        .await;

    assert_eq!(not_object.code(), "7000");
    assert_eq!(records_not_array.code(), "7000");
    assert_eq!(record_not_object.code(), "7011");
    assert_eq!(attributes_not_object.code(), "7011");
    assert_eq!(nested_value.code(), "7011");
    assert_eq!(id_not_scalar.code(), "7011");
    assert_eq!(customer_count(&app, &tenant.key, &["t1", "t2"]).await, 0);
}

#[tokio::test]
async fn empty_and_oversized_ids_are_refused() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let long_id = "x".repeat(257);

    let empty = app
        .post(
            PATH,
            &tenant.key,
            json!({"customerId": "", "attributes": {"name": "n"}}),
        )
        .await;
    let long = app
        .post(PATH, &tenant.key, json!({"customerId": long_id}))
        .await;
    let longest_allowed = app
        .post(PATH, &tenant.key, json!({"customerId": "y".repeat(256)}))
        .await;
    let long_in_query = app
        .get(&format!("{PATH}?customerId={long_id}"), &tenant.key)
        .await;

    assert_eq!(
        (empty.status, empty.code()),
        (StatusCode::BAD_REQUEST, "7003")
    );
    assert_eq!(long.code(), "7011");
    assert_eq!(longest_allowed.code(), "1000");
    assert_eq!(long_in_query.code(), "7011");
}

#[tokio::test]
async fn more_than_100_records_is_7012_and_writes_none() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let records: Vec<_> = (0..101)
        .map(|i| json!({"customerId": format!("bulk-{i}")}))
        .collect();
    let hundred: Vec<_> = (0..100)
        .map(|i| json!({"customerId": format!("ok-{i}")}))
        .collect();

    let refused = app
        .post(PATH, &tenant.key, json!({ "Records": records }))
        .await;
    let accepted = app
        .post(PATH, &tenant.key, json!({ "Records": hundred }))
        .await;
    let ids: Vec<String> = (0..101).map(|i| format!("customerId=x-{i}")).collect();
    let too_many_ids = app
        .get(&format!("{PATH}?{}", ids.join("&")), &tenant.key)
        .await;

    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::BAD_REQUEST, "7012")
    );
    assert_eq!(
        customer_count(&app, &tenant.key, &["bulk-0", "bulk-100"]).await,
        0
    );
    assert_eq!(accepted.body["SuccessCount"], 100);
    assert_eq!(too_many_ids.code(), "7012");
}

#[tokio::test]
async fn a_stalled_request_body_times_out_and_the_server_stays_up() {
    let app = spawn_app_with(|s| s.body_timeout = Duration::from_millis(300)).await;
    let tenant = app.tenant("acme").await;
    let address = app.base_url.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST {PATH} HTTP/1.1\r\nhost: {address}\r\nkey: {}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"customerId\":",
        tenant.key
    );

    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut answer)).await;

    let read = read
        .expect("the server answers a stalled body instead of waiting forever")
        .unwrap();
    let text = String::from_utf8_lossy(&answer[..read]);
    assert!(text.starts_with("HTTP/1.1 4"), "{text}");
    assert!(text.contains("7000"), "{text}");
    assert_eq!(
        app.get(&format!("{PATH}/x"), &tenant.key).await.code(),
        "7014"
    );
}

/// The body's deadline is one for the whole body: a client sending a byte at a time, each
/// well within the timeout of the last, is cut off once the body is late, not served for as
/// long as it keeps trickling.
#[tokio::test]
async fn a_request_body_trickling_in_is_cut_off_at_its_deadline() {
    let app = spawn_app_with(|s| s.body_timeout = Duration::from_millis(300)).await;
    let tenant = app.tenant("acme").await;
    let address = app.base_url.trim_start_matches("http://").to_owned();
    let stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let body = br#"{"customerId":"C-1","attributes":{"name":"A trickle of many, many bytes"}}"#;
    let head = format!(
        "PUT {PATH} HTTP/1.1\r\nhost: {address}\r\nkey: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        tenant.key,
        body.len()
    );
    writer.write_all(head.as_bytes()).await.unwrap();
    // A byte every 50 ms: the whole body would take ~3.6 s, twelve times the timeout.
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = sent.clone();
    let trickle = tokio::spawn(async move {
        for byte in body {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if writer.write_all(&[*byte]).await.is_err() {
                break;
            }
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });

    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(20), reader.read(&mut answer))
        .await
        .expect("the server answers a late body")
        .unwrap();
    let sent_when_answered = sent.load(std::sync::atomic::Ordering::SeqCst);
    trickle.abort();
    let text = String::from_utf8_lossy(&answer[..read]);
    assert!(text.starts_with("HTTP/1.1 4"), "{text}");
    assert!(text.contains("7000"), "{text}");
    assert!(
        sent_when_answered < body.len(),
        "answered only after the whole body had come ({sent_when_answered} bytes)"
    );
    assert_eq!(
        app.get(&format!("{PATH}/C-1"), &tenant.key).await.code(),
        "7014",
        "nothing of the late write was stored"
    );
}

#[tokio::test]
async fn odd_inputs_on_every_route_never_break_the_server() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let asset = app.app(&tenant, "shop").await;
    let app_path = format!("/resources/v2/customerappprofile/{}", asset.app_id);
    let bodies = [
        json!(null),
        json!(""),
        json!({"Records": [null, [], {"customerId": null}, {"customerId": true, "Attributes": null}]}),
        json!({"Records": [{"customerId": "\u{0000}", "Attributes": {"": "", "\u{1F600}": 1e308}}]}),
        json!({"Records": [{"customerId": "c", "Attributes": {"userId": [1], "deviceId": {}, "location": "[a,b]"}}]}),
    ];

    for path in [
        PATH,
        app_path.as_str(),
        "/resources/v2/customerprofiles/XX00000000",
    ] {
        for body in &bodies {
            for method in [reqwest::Method::POST, reqwest::Method::PUT] {
                let reply = app
                    .call(method, path, Some(&tenant.key), Some(body.clone()))
                    .await;
                assert!(
                    reply.status.is_client_error(),
                    "{path} {body} -> {:?}",
                    reply
                );
            }
        }
    }
    for path in [
        format!("{PATH}/%00"),
        format!("{PATH}?customerId=&customerId="),
        format!("{app_path}?identifier="),
        format!("{app_path}/%20/%20"),
        format!("{app_path}/deviceid/x"),
    ] {
        let reply = app.get(&path, &tenant.key).await;
        assert!(
            reply.status.is_client_error() || reply.status == StatusCode::METHOD_NOT_ALLOWED,
            "{path} -> {reply:?}"
        );
    }
    assert_eq!(
        app.get(&format!("{PATH}/x"), &tenant.key).await.code(),
        "7014"
    );
}
