//! Console passwords: Argon2id (RFC 9106) with the argon2 crate's defaults (19 MiB, 2 passes,
//! one lane: OWASP's recommended minimum), stored as PHC strings that carry their own salt and
//! parameters, so stronger settings later still verify old hashes. Hashing is deliberately
//! slow: callers run it on a blocking thread.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;

/// Shortest password accepted: a person's passphrase, not a PIN.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted (Argon2 takes any length; this bounds the work per attempt).
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Length of a generated password, in characters of the alphabet below (about 131 bits).
const GENERATED_CHARS: usize = 24;
/// Letters and digits that cannot be mistaken for one another when read aloud or copied.
const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

/// Why a password is refused, if it is.
pub fn password_problem(password: &str) -> Option<String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        Some(format!(
            "passwords have at least {MIN_PASSWORD_CHARS} characters"
        ))
    } else if password.len() > MAX_PASSWORD_BYTES {
        Some(format!("passwords have at most {MAX_PASSWORD_BYTES} bytes"))
    } else {
        None
    }
}

/// The PHC string of a new Argon2id hash with a random 128-bit salt.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)
        .map_err(|error| anyhow::anyhow!("could not encode a salt: {error}"))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| anyhow::anyhow!("could not hash the password: {error}"))
}

/// Whether `password` matches the stored PHC string (compared in constant time by the crate).
/// A malformed stored hash matches nothing.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|hash| argon2().verify_password(password.as_bytes(), &hash).is_ok())
        .unwrap_or(false)
}

/// Spends the time of one verification without a user, so that an unknown e-mail address
/// takes as long to refuse as a wrong password (no user enumeration by timing).
pub fn verify_nobody(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("not a password of anyone").unwrap_or_default());
    let _ = verify_password(password, dummy);
}

/// A random password for `user create` without one on stdin, printed once.
pub fn generate_password() -> String {
    let mut rng = rand::rng();
    (0..GENERATED_CHARS)
        .map(|_| {
            let index = (rng.next_u32() as usize) % ALPHABET.len();
            char::from(ALPHABET[index])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("", &hash));
    }

    #[test]
    fn the_same_password_hashes_differently_each_time() {
        let first = hash_password("correct horse battery").unwrap();
        let second = hash_password("correct horse battery").unwrap();
        assert_ne!(first, second, "a random salt each time");
        assert!(verify_password("correct horse battery", &second));
    }

    #[test]
    fn a_malformed_stored_hash_matches_nothing() {
        assert!(!verify_password("anything", "not a phc string"));
        assert!(!verify_password("anything", ""));
    }

    #[test]
    fn short_and_huge_passwords_are_refused() {
        assert!(password_problem("short").is_some());
        assert!(password_problem("twelve chars").is_none());
        assert!(password_problem(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_some());
    }

    #[test]
    fn generated_passwords_are_long_and_distinct() {
        let a = generate_password();
        let b = generate_password();
        assert_eq!(a.len(), GENERATED_CHARS);
        assert!(password_problem(&a).is_none());
        assert!(a.bytes().all(|c| ALPHABET.contains(&c)));
        assert_ne!(a, b);
    }
}
