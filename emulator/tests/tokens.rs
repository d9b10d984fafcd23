//! Access tokens as Entra issues them: RS256 with the tenant's key, published at the
//! tenant's JWKS endpoint; `roles` only when there are some; the exact audience and the
//! resource's own scope for non-Graph resources.

mod common;

use aws_lc_rs::signature::{RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use comgmt_emulator::{EmulatorConfig, StateLocation};
use common::Emu;
use serde_json::{json, Value};

fn part(token: &str, i: usize) -> Value {
    let p = token.split('.').nth(i).expect("JWT part");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).expect("base64url")).expect("JSON")
}

/// Verify `token` against a JWKS the way a resource server does: find the key by `kid`,
/// check RS256 over the signing input.
fn verify_with_jwks(token: &str, jwks: &Value) -> bool {
    let header = part(token, 0);
    let Some(key) = jwks["keys"]
        .as_array()
        .and_then(|ks| ks.iter().find(|k| k["kid"] == header["kid"]))
    else {
        return false;
    };
    let b = |v: &Value| {
        URL_SAFE_NO_PAD
            .decode(v.as_str().unwrap_or_default())
            .unwrap_or_default()
    };
    let (n, e) = (b(&key["n"]), b(&key["e"]));
    let (input, sig) = token.rsplit_once('.').expect("signature");
    let sig = URL_SAFE_NO_PAD.decode(sig).expect("signature base64url");
    RsaPublicKeyComponents { n: &n, e: &e }
        .verify(&RSA_PKCS1_2048_8192_SHA256, input.as_bytes(), &sig)
        .is_ok()
}

async fn jwks(emu: &Emu, tenant: &str) -> Value {
    let r = emu
        .http
        .get(emu.url(&format!("{tenant}/discovery/v2.0/keys")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

// Source: MicrosoftDocs/azure-docs:articles/active-directory/develop/access-tokens.md
// ("Validate the signature": tokens are signed with RS256, the key is found by `kid` in
// the document at the OpenID configuration's `jwks_uri`).
#[tokio::test]
async fn tokens_are_rs256_and_verify_against_the_published_keys() {
    let emu = Emu::start().await;
    let header = part(&emu.token, 0);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "JWT");
    assert!(header["kid"].is_string() && header["x5t"].is_string());
    let tenant = emu.handle.tenant_id().to_string();
    let keys = jwks(&emu, &tenant).await;
    let key = &keys["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["e"], "AQAB");
    assert!(key["x5c"][0].is_string());
    assert!(verify_with_jwks(&emu.token, &keys));
    // `common` publishes the same keys; the OpenID configuration points at them.
    assert_eq!(jwks(&emu, "common").await, keys);
    let conf: Value = emu
        .http
        .get(emu.url(&format!("{tenant}/v2.0/.well-known/openid-configuration")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        conf["jwks_uri"],
        emu.url(&format!("{tenant}/discovery/v2.0/keys"))
    );
    // Another emulator's keys do not verify this one's tokens.
    let other = Emu::start().await;
    let other_keys = jwks(&other, other.handle.tenant_id()).await;
    assert!(!verify_with_jwks(&emu.token, &other_keys));
    let r = emu
        .http
        .get(emu.url("nosuchtenant/discovery/v2.0/keys"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn a_restart_on_the_same_state_keeps_tokens_valid() {
    let dir = tempfile::tempdir().unwrap();
    let config = || EmulatorConfig {
        state: StateLocation::File(dir.path().join("state.db")),
        ..EmulatorConfig::default()
    };
    let first = Emu::with(config()).await;
    let token = first.token.clone();
    let kid = part(&token, 0)["kid"].clone();
    first.handle.shutdown().await;
    let second = Emu::with(config()).await;
    assert_eq!(part(&second.token, 0)["kid"], kid, "same key after restart");
    let r = second
        .http
        .get(second.url("v1.0/organization"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        200,
        "a token from before the restart still works"
    );
}

// Source: MicrosoftDocs/azure-docs:articles/active-directory/develop/access-token-claims-reference.md
// (`roles`: "The set of permissions exposed by the application that the requesting
// application or user has been given permission to call"; the claim is absent, not
// empty, when nothing was granted).
#[tokio::test]
async fn app_only_tokens_carry_roles_only_when_granted() {
    let emu = Emu::start().await;
    let app = emu.app(json!({"displayName": "roles client"})).await;
    let app_id = app["appId"].as_str().unwrap().to_string();
    let sp = emu.sp(&app_id).await;
    let r = emu
        .post(
            &format!(
                "v1.0/applications/{}/addPassword",
                app["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    let secret = r.body["secretText"].as_str().unwrap().to_string();
    let before = part(&emu.client_token(&app_id, &secret).await, 1);
    assert!(before.get("roles").is_none(), "no roles claim: {before}");
    assert_eq!(before["oid"], sp["id"]);
    assert_eq!(before["aud"], "https://graph.microsoft.com");

    let graph = emu.graph_sp().await;
    let graph_id = graph["id"].as_str().unwrap();
    let r = emu
        .post(
            &format!("v1.0/servicePrincipals/{graph_id}/appRoleAssignedTo"),
            json!({
                "principalId": sp["id"], "resourceId": graph_id,
                "appRoleId": "7ab1d382-f21e-4acd-a863-ba3e13f7da61"
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let after = part(&emu.client_token(&app_id, &secret).await, 1);
    assert_eq!(after["roles"], json!(["Directory.Read.All"]));
}

async fn device_code_token(emu: &Emu, scope: &str) -> Value {
    let dc = emu
        .form(
            &emu.url(&format!(
                "{}/oauth2/v2.0/devicecode",
                emu.handle.tenant_id()
            )),
            &[("client_id", "az-like"), ("scope", scope)],
        )
        .await;
    assert_eq!(dc.status, 200, "{}", dc.text);
    let code = dc.body["device_code"].as_str().unwrap().to_string();
    let poll = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("client_id", "az-like"),
        ("device_code", code.as_str()),
    ];
    let _pending = emu.form(&emu.token_url(), &poll).await;
    let r = emu.form(&emu.token_url(), &poll).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

// Source: Azure/azure-cli:src/azure-cli-core/azure/cli/core/auth/util.py (the CLI asks
// for `https://management.core.windows.net//.default`, the resource with its trailing
// slash plus `/.default`); api-surface §0 ("What the Azure CLI needs").
#[tokio::test]
async fn delegated_arm_tokens_have_the_exact_audience_and_user_impersonation() {
    let emu = Emu::start().await;
    let body = device_code_token(
        &emu,
        "https://management.core.windows.net//.default offline_access openid profile",
    )
    .await;
    let at = part(body["access_token"].as_str().unwrap(), 1);
    assert_eq!(at["aud"], "https://management.core.windows.net/");
    assert_eq!(at["scp"], "user_impersonation");
    assert!(body["scope"]
        .as_str()
        .unwrap()
        .contains("https://management.core.windows.net//user_impersonation"));
    // ARM's other resource id and its app id are known resources too.
    for scope in [
        "https://management.azure.com/.default",
        "797f4846-ba00-4fd7-ba43-dac1f8f63013/.default",
    ] {
        let r = emu
            .form(
                &emu.token_url(),
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", "c"),
                    ("client_secret", "s"),
                    ("scope", scope),
                ],
            )
            .await;
        assert_eq!(r.status, 200, "{scope}: {}", r.text);
    }
    // Graph's delegated default stays User.Read, audience without a slash.
    let body = device_code_token(&emu, "https://graph.microsoft.com/.default").await;
    let at = part(body["access_token"].as_str().unwrap(), 1);
    assert_eq!(at["aud"], "https://graph.microsoft.com");
    assert_eq!(at["scp"], "User.Read");
}
