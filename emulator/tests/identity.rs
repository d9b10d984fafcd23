//! The token endpoints over HTTP: client credentials (secret and signed assertion),
//! device code, refresh, OpenID configuration, errors; and Graph's token check.

mod common;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use common::{graph_error, Emu};
use rcgen::{CertificateParams, KeyPair, SigningKey, PKCS_RSA_SHA256};
use serde_json::json;

#[tokio::test]
async fn client_credentials_token_shape() {
    let emu = Emu::start().await;
    let r = emu
        .form(
            &emu.token_url(),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "any-client"),
                ("client_secret", "any-secret"),
                ("scope", "https://graph.microsoft.com/.default"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 3599);
    assert_eq!(r.body["ext_expires_in"], 3599);
    assert!(r.body["access_token"].as_str().unwrap().split('.').count() == 3);

    // The initial domain and `organizations` name the same tenant; Basic auth works too.
    for tenant in ["comgmtlab.onmicrosoft.com", "organizations", "common"] {
        let r = emu
            .http
            .post(emu.url(&format!("{tenant}/oauth2/v2.0/token")))
            .basic_auth("basic-client", Some("s3cret"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{tenant}");
    }
}

#[tokio::test]
async fn token_errors_use_aadsts_bodies() {
    let emu = Emu::start().await;
    let r = emu
        .form(
            &emu.url("not-a-tenant.example/oauth2/v2.0/token"),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "c"),
                ("client_secret", "s"),
                ("scope", "https://graph.microsoft.com/.default"),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"], "invalid_request");
    assert_eq!(r.body["error_codes"], json!([90002]));
    assert!(r.body["error_description"]
        .as_str()
        .unwrap()
        .starts_with("AADSTS90002: Tenant 'not-a-tenant.example' not found."));
    assert!(r.body["trace_id"].is_string() && r.body["correlation_id"].is_string());

    let r = emu.form(&emu.token_url(), &[("client_id", "c")]).await;
    assert_eq!(
        (r.status.as_u16(), r.body["error_codes"][0].as_u64()),
        (400, Some(900144))
    );
    assert!(r.text.contains("'grant_type'"));

    let r = emu
        .form(
            &emu.token_url(),
            &[("grant_type", "password"), ("client_id", "c")],
        )
        .await;
    assert_eq!(r.body["error"], "unsupported_grant_type");

    let r = emu
        .form(
            &emu.token_url(),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "c"),
                ("scope", "https://graph.microsoft.com/.default"),
            ],
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body["error_codes"][0].as_u64()),
        (401, Some(7000218))
    );

    let r = emu
        .form(
            &emu.token_url(),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "c"),
                ("client_secret", "s"),
                ("scope", "User.Read"),
            ],
        )
        .await;
    assert_eq!(
        (r.body["error"].as_str(), r.body["error_codes"][0].as_u64()),
        (Some("invalid_scope"), Some(1002012))
    );

    let r = emu
        .form(
            &emu.token_url(),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "c"),
                ("client_secret", "s"),
                ("scope", "api://nothing-here/.default"),
            ],
        )
        .await;
    assert_eq!(r.body["error_codes"][0], 500011, "{}", r.text);
}

#[tokio::test]
async fn device_code_is_pending_once_then_succeeds() {
    let emu = Emu::start().await;
    let dc_url = emu.url(&format!(
        "{}/oauth2/v2.0/devicecode",
        emu.handle.tenant_id()
    ));
    let r = emu
        .form(
            &dc_url,
            &[
                ("client_id", "dev-client"),
                (
                    "scope",
                    "https://graph.microsoft.com/.default offline_access openid",
                ),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    for k in ["device_code", "user_code", "verification_uri", "message"] {
        assert!(r.body[k].is_string(), "{k}: {}", r.text);
    }
    assert!(r.body["expires_in"].as_i64().unwrap() > 0 && r.body["interval"].as_i64().unwrap() > 0);
    let code = r.body["device_code"].as_str().unwrap().to_string();
    let poll = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("client_id", "dev-client"),
        ("device_code", code.as_str()),
    ];
    let r = emu.form(&emu.token_url(), &poll).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"], "authorization_pending");
    assert_eq!(r.body["error_codes"], json!([70016]));
    assert!(r.body["error_description"]
        .as_str()
        .unwrap()
        .starts_with("AADSTS70016:"));
    let r = emu.form(&emu.token_url(), &poll).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.body["access_token"].is_string()
            && r.body["refresh_token"].is_string()
            && r.body["id_token"].is_string()
    );
    let access = r.body["access_token"].as_str().unwrap().to_string();
    let refresh = r.body["refresh_token"].as_str().unwrap().to_string();

    // The user's token works on Graph; the code cannot be redeemed twice.
    let g = emu
        .http
        .get(emu.url("v1.0/organization"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(g.status(), 200);
    let r = emu.form(&emu.token_url(), &poll).await;
    assert_eq!(r.body["error"], "invalid_grant");

    let r = emu
        .form(
            &emu.token_url(),
            &[
                ("grant_type", "refresh_token"),
                ("client_id", "dev-client"),
                ("refresh_token", &refresh),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // A refresh token is not an access token.
    let g = emu
        .http
        .get(emu.url("v1.0/organization"))
        .bearer_auth(&refresh)
        .send()
        .await
        .unwrap();
    assert_eq!(g.status(), 401);
}

#[tokio::test]
async fn openid_configuration() {
    let emu = Emu::start().await;
    let tid = emu.handle.tenant_id().to_string();
    let r = emu
        .get(&format!("{tid}/v2.0/.well-known/openid-configuration"))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["token_endpoint"], emu.token_url());
    assert_eq!(r.body["issuer"], emu.url(&format!("{tid}/v2.0")));
    assert!(r.body["device_authorization_endpoint"]
        .as_str()
        .unwrap()
        .ends_with("/oauth2/v2.0/devicecode"));
    let r = emu
        .get("common/v2.0/.well-known/openid-configuration")
        .await;
    assert!(r.body["issuer"].as_str().unwrap().contains("{tenantid}"));
    let r = emu
        .get("nope.example/v2.0/.well-known/openid-configuration")
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error_codes"], json!([90002]));
}

#[tokio::test]
async fn graph_requires_a_token_from_this_emulator() {
    let emu = Emu::start().await;
    let r = emu
        .http
        .get(emu.url("v1.0/applications"))
        .send()
        .await
        .unwrap();
    let r = common::into_resp(r).await;
    assert_eq!(
        graph_error(&r, 401, "InvalidAuthenticationToken"),
        "Access token is empty."
    );
    for bad in ["garbage", "a.b.c"] {
        let r = emu
            .http
            .get(emu.url("v1.0/applications"))
            .bearer_auth(bad)
            .send()
            .await
            .unwrap();
        graph_error(
            &common::into_resp(r).await,
            401,
            "InvalidAuthenticationToken",
        );
    }
    // A token from another emulator (another tenant and key) is refused.
    let other = Emu::start().await;
    let r = emu
        .http
        .get(emu.url("v1.0/applications"))
        .bearer_auth(&other.token)
        .send()
        .await
        .unwrap();
    graph_error(
        &common::into_resp(r).await,
        401,
        "InvalidAuthenticationToken",
    );
    // An ARM token is not a Graph token.
    let r = emu
        .form(
            &emu.token_url(),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "c"),
                ("client_secret", "s"),
                ("scope", "https://management.azure.com/.default"),
            ],
        )
        .await;
    let arm = r.body["access_token"].as_str().unwrap().to_string();
    let r = emu
        .http
        .get(emu.url("v1.0/applications"))
        .bearer_auth(arm)
        .send()
        .await
        .unwrap();
    let msg = graph_error(
        &common::into_resp(r).await,
        401,
        "InvalidAuthenticationToken",
    );
    assert!(msg.contains("Invalid audience"), "{msg}");
}

fn assertion(
    key: &KeyPair,
    cert_der: &[u8],
    client_id: &str,
    aud: &str,
    exp_offset: i64,
) -> String {
    use sha2::Digest;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let header = json!({"alg": "RS256", "typ": "JWT", "x5t#S256": URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(cert_der))});
    let claims = json!({"aud": aud, "iss": client_id, "sub": client_id, "jti": uuid::Uuid::new_v4().to_string(), "nbf": now - 10, "iat": now - 10, "exp": now + exp_offset});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = key.sign(input.as_bytes()).expect("sign");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

fn rsa_cert() -> (KeyPair, Vec<u8>) {
    let key = KeyPair::generate_for(&PKCS_RSA_SHA256).expect("rsa key");
    let cert = CertificateParams::new(vec!["comgmt-test".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (key, cert.der().to_vec())
}

#[tokio::test]
async fn client_assertion_is_checked_against_registered_certificate() {
    let emu = Emu::start().await;
    let (key, der) = rsa_cert();
    let (other_key, other_der) = rsa_cert();
    let app = emu
        .app(json!({"displayName": "cert app", "keyCredentials": [{"type": "AsymmetricX509Cert", "usage": "Verify", "key": STANDARD.encode(&der)}]}))
        .await;
    let cred = &app["keyCredentials"][0];
    assert!(cred["key"].is_null(), "key is never returned");
    assert_eq!(cred["customKeyIdentifier"].as_str().unwrap().len(), 40);
    let client_id = app["appId"].as_str().unwrap();
    let token_url = emu.token_url();
    let get = |a: String| {
        let emu = &emu;
        let token_url = token_url.clone();
        async move {
            emu.form(
                &token_url,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", &a),
                    ("scope", "https://graph.microsoft.com/.default"),
                ],
            )
            .await
        }
    };
    let r = get(assertion(&key, &der, client_id, &token_url, 600)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Signed by a certificate the app does not have.
    let r = get(assertion(
        &other_key, &other_der, client_id, &token_url, 600,
    ))
    .await;
    assert_eq!(
        (r.status.as_u16(), r.body["error"].as_str()),
        (401, Some("invalid_client")),
        "{}",
        r.text
    );
    // Right thumbprint, wrong key: the signature fails.
    let r = get(assertion(&other_key, &der, client_id, &token_url, 600)).await;
    assert_eq!(r.body["error_codes"][0], 700027, "{}", r.text);
    // Expired, and for another audience.
    let r = get(assertion(&key, &der, client_id, &token_url, -600)).await;
    assert_eq!(r.body["error_codes"][0], 700024, "{}", r.text);
    let r = get(assertion(
        &key,
        &der,
        client_id,
        "https://example.com/token",
        600,
    ))
    .await;
    assert_eq!(r.status, 401, "{}", r.text);
    // A registered app's secret must be one of its own.
    let r = emu
        .form(
            &token_url,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", "guess"),
                ("scope", "https://graph.microsoft.com/.default"),
            ],
        )
        .await;
    assert_eq!(r.body["error_codes"][0], 7000215, "{}", r.text);
    let id = app["id"].as_str().unwrap();
    let secret = emu
        .post(&format!("v1.0/applications/{id}/addPassword"), json!({}))
        .await
        .body["secretText"]
        .as_str()
        .unwrap()
        .to_string();
    let t = emu.client_token(client_id, &secret).await;
    assert!(!t.is_empty());
    // Unregistered clients may use any well-formed assertion.
    let r = get(assertion(&key, &der, "unregistered", &token_url, 600)).await;
    assert_eq!(
        r.body["error_codes"][0], 700021,
        "iss must be the client: {}",
        r.text
    );
}

/// What Microsoft's SDKs send that a strict reading would refuse (found by tests/sdk):
/// fractional NumericDates (MSAL Python), `=`-padded JWT parts (azure-identity aio),
/// a PEM body with line breaks in `x5c` (MSAL Python), and a scope derived from the
/// request URL without its port (kiota).
#[tokio::test]
async fn sdk_shaped_assertions_and_scopes_are_accepted() {
    use sha2::Digest;
    let emu = Emu::start().await;
    let (key, der) = rsa_cert();
    let token_url = emu.token_url();
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as f64 + 0.25;
    let client_id = "33333333-3333-3333-3333-333333333333";
    let pem_body = STANDARD
        .encode(&der)
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("\n");
    let header = json!({"alg": "RS256", "typ": "JWT", "x5c": [pem_body],
                        "x5t#S256": URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&der))});
    let claims = json!({"aud": token_url, "iss": client_id, "sub": client_id,
                        "jti": "j-1", "iat": now, "nbf": now, "exp": now + 600.5});
    let padded = |b: &[u8]| base64::engine::general_purpose::URL_SAFE.encode(b);
    let input = format!(
        "{}.{}",
        padded(header.to_string().as_bytes()),
        padded(claims.to_string().as_bytes())
    );
    let sig = key.sign(input.as_bytes()).expect("sign");
    let assertion = format!("{input}.{}", padded(&sig));
    let base = emu.handle.url().trim_end_matches('/').to_string();
    let port_less = base.rsplit_once(':').map(|(h, _)| h.to_string()).unwrap();
    let r = emu
        .form(
            &token_url,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", &assertion),
                ("scope", &format!("{port_less}/.default")),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let token = r.body["access_token"].as_str().unwrap();
    let orgs = emu
        .http
        .get(emu.url("v1.0/organization"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(orgs.status(), 200);
}

#[tokio::test]
async fn device_code_answers_client_info_when_asked() {
    let emu = Emu::start().await;
    let dc = emu
        .form(
            &emu.url(&format!(
                "{}/oauth2/v2.0/devicecode",
                emu.handle.tenant_id()
            )),
            &[
                ("client_id", "c-1"),
                ("scope", "openid offline_access User.Read"),
            ],
        )
        .await;
    let code = dc.body["device_code"].as_str().unwrap().to_string();
    let token_url = emu.token_url();
    let form = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("client_id", "c-1"),
        ("device_code", code.as_str()),
        ("client_info", "1"),
    ];
    let poll = || emu.form(&token_url, &form);
    assert_eq!(poll().await.body["error"], "authorization_pending");
    let r = poll().await;
    assert_eq!(r.status, 200, "{}", r.text);
    let info = URL_SAFE_NO_PAD
        .decode(r.body["client_info"].as_str().unwrap())
        .unwrap();
    let info: serde_json::Value = serde_json::from_slice(&info).unwrap();
    assert_eq!(info["utid"].as_str(), Some(emu.handle.tenant_id()));
    assert!(info["uid"].as_str().is_some_and(|u| !u.is_empty()));
}
