//! JWTs for apps that require them: the host supplies tokens, the SDK sends them as
//! `Authorization: Bearer`.
//!
//! The SDK never signs tokens itself: the app's JWT secret belongs on the app's backend, not
//! on the device, so a provider typically asks that backend for a token for the userId.

use crate::clock::BoxFuture;

/// Supplies a JWT for the userId a call acts for.
///
/// The server checks (docs/sdk-api.md) that the token is HS256, signed with the app's JWT
/// secret, not expired, and that its `sub` is the userId: the registering userId for
/// `register` (`None` when the server is to generate one, so `sub` is not checked), the
/// install's current userId for every other call. It is asked before every call, so it can
/// renew an expired token; `None` sends no token (the server answers
/// [`crate::SdkError::TokenRequired`] when the app needs one).
///
/// A plain closure is a provider:
/// ```
/// # use profilestore_sdk::TokenProvider;
/// fn needs_provider(_: impl TokenProvider) {}
/// needs_provider(|user_id: Option<&str>| user_id.map(|id| format!("token-for-{id}")));
/// ```
pub trait TokenProvider: Send + Sync + 'static {
    /// The token for `user_id`, or `None` to send none.
    fn token<'a>(&'a self, user_id: Option<&'a str>) -> BoxFuture<'a, Option<String>>;
}

impl<F> TokenProvider for F
where
    F: Fn(Option<&str>) -> Option<String> + Send + Sync + 'static,
{
    fn token<'a>(&'a self, user_id: Option<&'a str>) -> BoxFuture<'a, Option<String>> {
        let token = self(user_id);
        Box::pin(std::future::ready(token))
    }
}
