//! Secrets: profile keys and client keys are 256-bit random values. The store keeps a SHA-256
//! digest to find a key by, and a copy sealed (ChaCha20-Poly1305) with the server secret so an
//! operator can view it again: a copy of the database alone yields no usable key.

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use profilestore_store::model::SealedSecret;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::Path;

/// The file in the data dir that holds the server secret when `PROFILESTORE_SECRET` is unset.
pub const SECRET_FILE: &str = "secret.key";
const NONCE_LEN: usize = 12;

/// A plain secret shown once to its owner. Its Debug output is redacted, so it cannot reach
/// a log through `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainSecret(String);

impl PlainSecret {
    /// A new random secret with a prefix that tells what it is (`psk_` profile key, `ck_` client key).
    pub fn generate(prefix: &str) -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        PlainSecret(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// A secret chosen by someone else (a tenant's JWT secret).
    pub fn new(text: String) -> Self {
        PlainSecret(text)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PlainSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlainSecret(<redacted>)")
    }
}

/// The digest a presented key is looked up by (hex SHA-256).
pub fn digest(presented: &str) -> String {
    hex(&Sha256::digest(presented.as_bytes()))
}

/// Lower-case hex of `bytes`. Runs on every authenticated request: one allocation, not a
/// formatted string per byte.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

/// Compares two digests in constant time.
pub fn digests_match(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// The server secret: the key that seals stored copies of keys.
#[derive(Clone)]
pub struct ServerSecret(Key);

impl fmt::Debug for ServerSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerSecret(<redacted>)")
    }
}

impl ServerSecret {
    /// From `PROFILESTORE_SECRET` (any string; hashed to a key) when given, else from
    /// `<data_dir>/secret.key`, created with mode 0600 on first use.
    pub fn load(from_env: Option<&str>, data_dir: &Path) -> anyhow::Result<Self> {
        if let Some(text) = from_env.filter(|text| !text.is_empty()) {
            if text.len() < 32 {
                bail!("PROFILESTORE_SECRET must be at least 32 characters long");
            }
            return Ok(Self::from_text(text));
        }
        let path = data_dir.join(SECRET_FILE);
        if !path.exists() {
            create_secret_file(&path)?;
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        Ok(Self::from_text(text.trim()))
    }

    fn from_text(text: &str) -> Self {
        ServerSecret(*Key::from_slice(&Sha256::digest(text.as_bytes())))
    }

    pub fn seal(&self, secret: &PlainSecret) -> SealedSecret {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let cipher = ChaCha20Poly1305::new(&self.0);
        let mut sealed = nonce.to_vec();
        sealed.extend(
            cipher
                .encrypt(Nonce::from_slice(&nonce), secret.expose().as_bytes())
                .expect("ChaCha20-Poly1305 encryption of a short message cannot fail"),
        );
        SealedSecret {
            digest: digest(secret.expose()),
            sealed,
        }
    }

    /// The plain key of a stored copy; an error if it was sealed with another server secret.
    pub fn unseal(&self, stored: &SealedSecret) -> anyhow::Result<PlainSecret> {
        if stored.sealed.len() <= NONCE_LEN {
            bail!("stored key is truncated");
        }
        let (nonce, ciphertext) = stored.sealed.split_at(NONCE_LEN);
        let plain = ChaCha20Poly1305::new(&self.0)
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| anyhow::anyhow!("the stored key was sealed with another server secret (secret.key or PROFILESTORE_SECRET changed)"))?;
        Ok(PlainSecret(
            String::from_utf8(plain).context("stored key is not UTF-8")?,
        ))
    }
}

fn create_secret_file(path: &Path) -> anyhow::Result<()> {
    use std::io::Write;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => writeln!(file, "{}", URL_SAFE_NO_PAD.encode(bytes))
            .with_context(|| format!("writing {}", path.display())),
        // Another process (a server and an admin command starting together) made it first.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error).with_context(|| format!("creating {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_unseal_only_with_the_same_secret() {
        let dir = tempfile::tempdir().unwrap();
        let secret = ServerSecret::load(None, dir.path()).unwrap();
        let key = PlainSecret::generate("psk_");
        let sealed = secret.seal(&key);
        assert_eq!(secret.unseal(&sealed).unwrap(), key);
        assert_eq!(sealed.digest, digest(key.expose()));
        assert!(
            !sealed
                .sealed
                .windows(8)
                .any(|w| key.expose().as_bytes().windows(8).any(|k| k == w))
        );

        let other = ServerSecret::load(Some(&"x".repeat(40)), dir.path()).unwrap();
        assert!(other.unseal(&sealed).is_err());
    }

    #[test]
    fn secret_file_is_reused_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let first = ServerSecret::load(None, dir.path()).unwrap();
        let second = ServerSecret::load(None, dir.path()).unwrap();
        let key = PlainSecret::generate("ck_");
        assert_eq!(second.unseal(&first.seal(&key)).unwrap(), key);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(SECRET_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn generated_keys_are_long_random_and_redacted_in_debug() {
        let a = PlainSecret::generate("psk_");
        let b = PlainSecret::generate("psk_");
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 4 + 43);
        assert!(!format!("{a:?}").contains(a.expose()));
        assert!(digests_match(&digest("x"), &digest("x")));
        assert!(!digests_match(&digest("x"), &digest("y")));
    }
}
