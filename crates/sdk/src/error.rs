//! The one error type of the SDK, mirroring the product SDKs' errors, and how the server's
//! SDK codes (docs/sdk-api.md) map onto it.

/// What went wrong with an SDK call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SdkError {
    /// The SDK was shut down ([`crate::Sdk::shutdown`]); build a new one.
    #[error("the SDK is not initialised (it was shut down)")]
    NotInitialized,
    /// The call needs a registered device; register first. Also answered when the server no
    /// longer knows the install (code 5: deleted, or aged out after the app's TTL), in which
    /// case the local registration is cleared too.
    #[error("the device is not registered")]
    NotRegistered,
    /// `register` on a device that is registered already; unregister first, or change the
    /// userId with `update_profile_data`.
    #[error("the device is registered already")]
    AlreadyRegistered,
    /// A parameter the SDK or the server refused (server code 3), with the reason.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// The app does not offer the feature (server code 62).
    #[error("feature not supported: {0}")]
    FeatureNotSupported(String),
    /// The server could not be reached, or the exchange broke off (connection refused, a
    /// timeout, an unreadable answer). Monitor readings stay queued and are retried.
    #[error("network error: {0}")]
    Network(String),
    /// Any other refusal, with the server's code and description (1: wrong client key,
    /// 2: IP not allowed, 7: rate limited, 500: internal error, or an HTTP status of a proxy).
    #[error("server error {code}: {description}")]
    Server {
        /// The SDK code of the answer (`"500"`), or `"http <status>"` when the answer was
        /// not an SDK answer (a proxy's error page).
        code: String,
        /// The server's description.
        description: String,
    },
    /// The app requires a JWT and none was sent (code 39): configure a token provider.
    #[error("a JWT is required")]
    TokenRequired,
    /// The JWT was refused: bad signature, another algorithm or another user (code 38).
    #[error("the JWT is invalid")]
    TokenInvalid,
    /// The JWT has expired (code 40).
    #[error("the JWT has expired")]
    TokenExpired,
    /// The registration state or the update queue could not be written to or read from
    /// disk. Not one of the product's errors: a Rust host keeps these files itself.
    #[error("state file {path}: {message}")]
    Storage {
        /// The file concerned.
        path: String,
        /// What failed.
        message: String,
    },
}

impl SdkError {
    /// The error an SDK failure answer stands for.
    pub(crate) fn from_code(code: &str, description: String) -> SdkError {
        match code {
            "3" => SdkError::InvalidParameter(description),
            "5" => SdkError::NotRegistered,
            "38" => SdkError::TokenInvalid,
            "39" => SdkError::TokenRequired,
            "40" => SdkError::TokenExpired,
            "62" => SdkError::FeatureNotSupported(description),
            _ => SdkError::Server {
                code: code.to_owned(),
                description,
            },
        }
    }

    /// Whether sending the same update again later may succeed. A refused parameter never
    /// will, and an install the server does not know must register again; anything else
    /// (network, rate limit, a token the provider may renew, a server fault) may pass later.
    pub fn is_retryable(&self) -> bool {
        !matches!(
            self,
            SdkError::InvalidParameter(_)
                | SdkError::FeatureNotSupported(_)
                | SdkError::NotRegistered
                | SdkError::NotInitialized
                | SdkError::AlreadyRegistered
        )
    }

    pub(crate) fn storage(path: &std::path::Path, error: impl std::fmt::Display) -> SdkError {
        SdkError::Storage {
            path: path.display().to_string(),
            message: error.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_codes_map_to_the_sdk_errors() {
        let e = |code: &str| SdkError::from_code(code, "why".to_owned());
        assert_eq!(e("3"), SdkError::InvalidParameter("why".to_owned()));
        assert_eq!(e("5"), SdkError::NotRegistered);
        assert_eq!(e("38"), SdkError::TokenInvalid);
        assert_eq!(e("39"), SdkError::TokenRequired);
        assert_eq!(e("40"), SdkError::TokenExpired);
        assert_eq!(e("62"), SdkError::FeatureNotSupported("why".to_owned()));
        assert_eq!(
            e("7"),
            SdkError::Server {
                code: "7".to_owned(),
                description: "why".to_owned()
            }
        );
    }

    #[test]
    fn only_lasting_refusals_are_final() {
        assert!(SdkError::Network("refused".to_owned()).is_retryable());
        assert!(SdkError::TokenExpired.is_retryable());
        assert!(!SdkError::InvalidParameter("x".to_owned()).is_retryable());
        assert!(!SdkError::NotRegistered.is_retryable());
    }
}
