//! The JWT rule of SDK calls (reference §8.1, §8.4): when an app has a JWT secret, every call
//! carries `Authorization: Bearer <HS256 JWT>` whose `sub` is the userId and which has not
//! expired. Only HS256 is accepted (no `alg: none`, no algorithm confusion).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// No bearer token (code 39).
    Required,
    /// Malformed, another algorithm, a bad signature or another user (code 38).
    Invalid,
    /// `exp` has passed (code 40).
    Expired,
}

/// HMAC-SHA256 (RFC 2104) over sha2, which the server already links.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// Checks a token against the secret; `user_id`, when the call names one, must be its `sub`.
pub fn verify(
    token: Option<&str>,
    secret: &str,
    user_id: Option<&str>,
    now_unix: i64,
) -> Result<(), TokenError> {
    let token = token.ok_or(TokenError::Required)?;
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Invalid);
    };
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| TokenError::Invalid)
    };
    let header: serde_json::Value =
        serde_json::from_slice(&decode(header)?).map_err(|_| TokenError::Invalid)?;
    if header["alg"] != "HS256" {
        return Err(TokenError::Invalid);
    }
    let expected = hmac_sha256(
        secret.as_bytes(),
        format!("{}.{}", token_head(token), payload).as_bytes(),
    );
    if !bool::from(expected.as_slice().ct_eq(&decode(signature)?)) {
        return Err(TokenError::Invalid);
    }
    let claims: serde_json::Value =
        serde_json::from_slice(&decode(payload)?).map_err(|_| TokenError::Invalid)?;
    if let Some(user_id) = user_id
        && claims["sub"].as_str() != Some(user_id)
    {
        return Err(TokenError::Invalid);
    }
    match claims.get("exp") {
        None => Ok(()),
        Some(exp) => match exp.as_i64() {
            Some(exp) if exp > now_unix => Ok(()),
            Some(_) => Err(TokenError::Expired),
            None => Err(TokenError::Invalid),
        },
    }
}

fn token_head(token: &str) -> &str {
    token.split('.').next().unwrap_or_default()
}

/// A signed HS256 token (tests and the docs' examples).
pub fn sign(secret: &str, claims: &serde_json::Value) -> String {
    let head = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signature = hmac_sha256(secret.as_bytes(), format!("{head}.{body}").as_bytes());
    format!("{head}.{body}.{}", URL_SAFE_NO_PAD.encode(signature))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            crate::secrets::hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn tokens_are_checked() {
        let good = sign("s3cret", &json!({"sub": "u1", "exp": 2_000}));
        assert_eq!(verify(Some(&good), "s3cret", Some("u1"), 1_000), Ok(()));
        assert_eq!(
            verify(Some(&good), "s3cret", Some("u2"), 1_000),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            verify(Some(&good), "other", Some("u1"), 1_000),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            verify(Some(&good), "s3cret", Some("u1"), 3_000),
            Err(TokenError::Expired)
        );
        assert_eq!(verify(None, "s3cret", None, 0), Err(TokenError::Required));
        assert_eq!(
            verify(Some("a.b"), "s3cret", None, 0),
            Err(TokenError::Invalid)
        );
    }
}
