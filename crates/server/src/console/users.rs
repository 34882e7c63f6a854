//! Console users, as the `profilestore user` commands create and change them: the e-mail
//! address rule, the password rule and hashing in one place.

use super::password::{hash_password, password_problem};
use anyhow::{Context, bail};
use chrono::Utc;
use profilestore_store::console::ConsoleUser;
use profilestore_store::{Store, StoreError};
use rand::RngCore;

/// Longest e-mail address (RFC 5321's path limit).
const MAX_EMAIL_BYTES: usize = 254;

/// The address as stored and matched at sign-in (trimmed, lowercased), or why it is refused.
pub fn normalise_email(raw: &str) -> Result<String, String> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= MAX_EMAIL_BYTES
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if valid {
        Ok(email)
    } else {
        Err(format!("{raw:?} is not an e-mail address"))
    }
}

fn new_user_id() -> String {
    let mut bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    format!("cu_{}", crate::secrets::hex(&bytes))
}

/// Hashes on a blocking thread: Argon2 is slow on purpose.
async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .context("the hashing thread failed")?
}

/// Creates a user of `tenant_id` (None: an operator of every tenant).
pub async fn create_user(
    store: &dyn Store,
    tenant_id: Option<String>,
    email: &str,
    password: String,
) -> anyhow::Result<ConsoleUser> {
    let email = normalise_email(email).map_err(anyhow::Error::msg)?;
    if let Some(problem) = password_problem(&password) {
        bail!(problem);
    }
    let user = ConsoleUser {
        user_id: new_user_id(),
        email: email.clone(),
        tenant_id,
        password_hash: hash(password).await?,
        created_at: Utc::now(),
    };
    match store.create_console_user(user).await {
        Ok(user) => Ok(user),
        Err(StoreError::Conflict(_)) => bail!("a console user with e-mail {email:?} exists"),
        Err(error) => Err(error.into()),
    }
}

/// The user with this address, or a clear error.
pub async fn find_user(store: &dyn Store, email: &str) -> anyhow::Result<ConsoleUser> {
    let email = normalise_email(email).map_err(anyhow::Error::msg)?;
    store
        .console_user_by_email(&email)
        .await?
        .with_context(|| format!("no console user with e-mail {email:?}"))
}

/// Replaces a user's password; the user's sessions end.
pub async fn set_password(store: &dyn Store, email: &str, password: String) -> anyhow::Result<()> {
    let user = find_user(store, email).await?;
    if let Some(problem) = password_problem(&password) {
        bail!(problem);
    }
    store
        .set_console_password(&user.user_id, &hash(password).await?)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_lowercased_and_checked() {
        assert_eq!(
            normalise_email("  Ann@Example.ORG ").unwrap(),
            "ann@example.org"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.org",
            "ann@example",
            "a b@example.org",
            "ann@@example.org",
            "ann@example.org.",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn user_ids_are_random() {
        let id = new_user_id();
        assert!(id.starts_with("cu_") && id.len() == 19);
        assert_ne!(id, new_user_id());
    }
}
