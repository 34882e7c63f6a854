//! HTTPS with rustls when --tls-cert and --tls-key are given.

use crate::support::spawn_app_with;
use reqwest::StatusCode;

#[tokio::test]
async fn serves_https_with_the_given_certificate() {
    let certificate =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, certificate.cert.pem()).unwrap();
    std::fs::write(&key_path, certificate.signing_key.serialize_pem()).unwrap();
    let app = spawn_app_with(|s| {
        s.tls = Some(profilestore_server::config::TlsSettings {
            cert: cert_path.clone(),
            key: key_path.clone(),
        })
    })
    .await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(certificate.cert.pem().as_bytes()).unwrap(),
        )
        .build()
        .unwrap();

    let secure = client
        .get(format!("{}/healthz", app.base_url))
        .send()
        .await
        .unwrap();
    let plain = app
        .client
        .get(format!(
            "{}/healthz",
            app.base_url.replace("https://", "http://")
        ))
        .send()
        .await;

    assert!(app.base_url.starts_with("https://"));
    assert_eq!(secure.status(), StatusCode::OK);
    assert!(
        plain.map(|r| r.status() != StatusCode::OK).unwrap_or(true),
        "plain HTTP is not served on the TLS port"
    );
}
