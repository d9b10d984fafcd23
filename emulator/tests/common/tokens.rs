//! Client-credentials tokens for a scope, as the CM console, ARM clients and the site's
//! server app ask Entra for them.

use super::Emu;

impl Emu {
    /// A token for `scope` for the client `client_id` (the emulator takes any secret).
    pub async fn app_token(&self, client_id: &str, scope: &str) -> String {
        self.token_for(client_id, "s", scope).await
    }

    pub(crate) async fn token_for(&self, client_id: &str, secret: &str, scope: &str) -> String {
        let r = self
            .form(
                &self.token_url(),
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id),
                    ("client_secret", secret),
                    ("scope", scope),
                ],
            )
            .await;
        assert_eq!(r.status, 200, "token for {scope}: {}", r.text);
        r.body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }
}
