//! Standard Webhooks signatures (https://www.standardwebhooks.com): the secret is `whsec_`
//! followed by the base64 of the key; each message carries `webhook-id`, `webhook-timestamp`
//! (Unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, so
//! receivers can verify with any Standard Webhooks library.

use crate::secrets::PlainSecret;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

const PREFIX: &str = "whsec_";

/// A new signing secret: 32 random bytes.
pub fn generate_secret() -> PlainSecret {
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    PlainSecret::new(format!("{PREFIX}{}", STANDARD.encode(key)))
}

/// The key bytes of a `whsec_` secret.
pub fn signing_key(secret: &PlainSecret) -> Result<Vec<u8>, String> {
    let encoded = secret
        .expose()
        .strip_prefix(PREFIX)
        .ok_or("a webhook secret starts with whsec_")?;
    STANDARD
        .decode(encoded)
        .map_err(|_| "a webhook secret is whsec_ and base64".to_owned())
}

/// The `webhook-signature` header value for one message.
pub fn sign(key: &[u8], message_id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_matches_the_standard_webhooks_test_vector() {
        // The example of the Standard Webhooks specification (and of its reference libraries).
        let secret = PlainSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned());
        let key = signing_key(&secret).unwrap();
        let signature = sign(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn generated_secrets_round_trip() {
        let secret = generate_secret();
        assert!(secret.expose().starts_with("whsec_"));
        assert_eq!(signing_key(&secret).unwrap().len(), 32);
        assert!(signing_key(&PlainSecret::new("nope".into())).is_err());
    }
}
