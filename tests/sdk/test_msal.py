"""MSAL Python (msal) against the emulator's Entra ID endpoints.

What a real app does: ConfidentialClientApplication with a client secret, with a
certificate (PFX, and PEM + SHA-1 thumbprint, and subject-name/issuer with x5c), and
PublicClientApplication with the device-code flow, then the refresh-token grant through
acquire_token_silent(force_refresh=True).

Knobs needed for a non-Microsoft authority host (msal/authority.py, Authority.
_initialize_entra_authority): `instance_discovery=False` skips the call to
https://login.microsoftonline.com/common/discovery/instance, and `validate_authority=False`
marks the authority "known to developer". MSAL then reads
{authority}/v2.0/.well-known/openid-configuration. The authority must be https
(msal/authority.py canonicalize). `verify=` takes the CA bundle path (passed to requests).
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True  # keep tests/sdk free of __pycache__ when run by hand

import base64
import json
import time

import msal
import requests

from common import (
    check, expect, expect_eq, make_certificate, run, target, unique,
)

T = target()
GRAPH_DEFAULT = "https://graph.microsoft.com/.default"


def b64url_json(part: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def jwt_parts(token) -> tuple[dict, dict]:
    if isinstance(token, bytes):  # MSAL keeps assertions as bytes
        token = token.decode()
    h, c, _ = token.split(".")
    return b64url_json(h), b64url_json(c)


class RecordingSession(requests.Session):
    """A requests.Session (MSAL's default http_client type) that keeps every request."""

    def __init__(self):
        super().__init__()
        self.verify = T.ca
        self.calls: list[tuple[str, str, object]] = []

    def request(self, method, url, *args, **kwargs):
        self.calls.append((method, url, kwargs.get("data")))
        return super().request(method, url, *args, **kwargs)


def confidential(client_id: str, credential, **kw) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        client_id,
        client_credential=credential,
        authority=T.authority,
        instance_discovery=False,
        validate_authority=False,
        verify=kw.pop("verify", T.ca),
        **kw,
    )


_graph_token: list[str] = []


def graph(method: str, path: str, body=None) -> requests.Response:
    """A Graph call with a bootstrap token (any client id and secret get one)."""
    if not _graph_token:
        r = confidential("sdk-bootstrap", "bootstrap-secret").acquire_token_for_client([GRAPH_DEFAULT])
        _graph_token.append(r["access_token"])
    return requests.request(
        method, f"{T.graph}/{path}", json=body, verify=T.ca,
        headers={"Authorization": f"Bearer {_graph_token[0]}"}, timeout=30,
    )


def new_app(**extra) -> dict:
    r = graph("POST", "applications", {"displayName": unique("msal conformance"), **extra})
    expect_eq(r.status_code, 201, f"create application: {r.text}")
    return r.json()


# --- client credentials with a secret -------------------------------------------------------

@check
def secret_any_client_gets_token():
    app = confidential("11111111-1111-1111-1111-111111111111", "any-secret")
    r = app.acquire_token_for_client(scopes=[GRAPH_DEFAULT])
    expect("access_token" in r, f"no access_token: {r}")
    expect_eq(r.get("token_type"), "Bearer", "token_type")
    expect_eq(r.get("token_source"), "identity_provider", "token_source")
    expect(isinstance(r.get("expires_in"), int) and r["expires_in"] > 300, f"expires_in: {r}")
    _, claims = jwt_parts(r["access_token"])
    expect_eq(claims.get("aud"), "https://graph.microsoft.com", "aud claim")
    expect_eq(claims.get("tid"), T.tenant, "tid claim")
    # The second call is answered from MSAL's cache: the response's expiry was understood.
    r2 = app.acquire_token_for_client(scopes=[GRAPH_DEFAULT])
    expect_eq(r2.get("token_source"), "cache", "second acquire_token_for_client token_source")
    # And the token works on Graph.
    org = requests.get(f"{T.graph}/organization", verify=T.ca, timeout=30,
                       headers={"Authorization": f"Bearer {r['access_token']}"})
    expect_eq(org.status_code, 200, f"GET /organization: {org.text}")
    expect_eq(org.json()["value"][0]["id"], T.tenant, "organization id")


@check
def secret_with_emulator_scope():
    """The brief's shape: scope `{url}.default` (the emulator's own base URL as resource)."""
    r = confidential("sdk-client", "s").acquire_token_for_client(scopes=[f"{T.url}.default"])
    expect("access_token" in r, f"no access_token: {r}")


@check
def secret_with_requests_ca_bundle_env():
    """No verify= argument: REQUESTS_CA_BUNDLE (set by common.target) is honoured."""
    r = confidential("sdk-client-env", "s", verify=True).acquire_token_for_client([GRAPH_DEFAULT])
    expect("access_token" in r, f"no access_token: {r}")


@check
def tenant_aliases_common_and_organizations():
    for alias in ("common", "organizations"):
        app = msal.ConfidentialClientApplication(
            "sdk-client", client_credential="s", authority=f"{T.url}{alias}",
            instance_discovery=False, validate_authority=False, verify=T.ca)
        # MSAL takes the token endpoint from the discovery document.
        expect(app.authority.token_endpoint.startswith(T.url), app.authority.token_endpoint)
        r = app.acquire_token_for_client([GRAPH_DEFAULT])
        expect("access_token" in r, f"{alias}: {r}")


@check
def registered_app_secret_from_add_password():
    a = new_app()
    r = graph("POST", f"applications/{a['id']}/addPassword",
              {"passwordCredential": {"displayName": "msal"}})
    expect_eq(r.status_code, 200, f"addPassword: {r.text}")
    secret = r.json()["secretText"]
    ok = confidential(a["appId"], secret).acquire_token_for_client([GRAPH_DEFAULT])
    expect("access_token" in ok, f"real secret refused: {ok}")
    bad = confidential(a["appId"], "not-the-secret").acquire_token_for_client([GRAPH_DEFAULT])
    # MSAL hands the AAD error body back as a dict.
    expect_eq(bad.get("error"), "invalid_client", f"wrong secret: {bad}")
    expect(7000215 in bad.get("error_codes", []), f"error_codes: {bad}")
    expect(bad.get("error_description", "").startswith("AADSTS7000215"), f"{bad}")
    expect("correlation_id" in bad, f"correlation_id: {bad}")


@check
def scope_without_default_is_invalid_scope():
    r = confidential("sdk-client", "s").acquire_token_for_client(["https://graph.microsoft.com/User.Read"])
    expect_eq(r.get("error"), "invalid_scope", f"{r}")
    expect(1002012 in r.get("error_codes", []), f"{r}")


@check
def unknown_tenant_fails_discovery():
    try:
        msal.ConfidentialClientApplication(
            "sdk-client", client_credential="s", authority=f"{T.url}not-a-tenant",
            instance_discovery=False, validate_authority=False, verify=T.ca)
    except ValueError as e:
        # msal/authority.py tenant_discovery(): a 4xx on discovery is a ValueError.
        expect("not-a-tenant" in str(e), str(e))
        return
    raise AssertionError("an unknown tenant was accepted")


# --- client credentials with a certificate -----------------------------------------------------

_cert: dict = {}


def cert_app() -> dict:
    """An application with a certificate credential, and the certificate's files."""
    if not _cert:
        key_pem, cert_pem, cert_der, pfx, password = make_certificate(T.workdir)
        a = new_app(keyCredentials=[{
            "type": "AsymmetricX509Cert", "usage": "Verify",
            "key": base64.b64encode(cert_der).decode(),
            "displayName": "CN=msal-client",
        }])
        _cert.update(app=a, key_pem=key_pem, cert_pem=cert_pem, cert_der=cert_der,
                     pfx=pfx, password=password)
    return _cert


def assertion_of(session: RecordingSession) -> tuple[dict, dict]:
    posts = [data for (m, url, data) in session.calls if m == "POST" and url.endswith("/token")]
    expect(posts, f"no token request recorded: {session.calls}")
    data = posts[-1]
    expect_eq(data.get("client_assertion_type"),
              "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion_type")
    return jwt_parts(data["client_assertion"])




@check
def certificate_pfx_ps256_x5t_s256():
    c = cert_app()
    s = RecordingSession()
    app = confidential(c["app"]["appId"],
                       {"private_key_pfx_path": c["pfx"], "passphrase": c["password"]},
                       http_client=s)
    r = app.acquire_token_for_client([GRAPH_DEFAULT])
    header, claims = assertion_of(s)
    # What MSAL >= 1.29 sends with a PFX (msal/application.py _build_client: PS256 + x5t#S256,
    # msal/oauth2cli/assertion.py create_normal_assertion: aud, iss, sub, exp, iat, jti).
    expect_eq(header.get("alg"), "PS256", "assertion alg")
    expect("x5t#S256" in header and "x5t" not in header, f"assertion header: {header}")
    expect_eq(claims.get("aud"), app.authority.token_endpoint, "assertion aud")
    expect_eq(claims.get("iss"), c["app"]["appId"], "assertion iss")
    expect_eq(claims.get("sub"), c["app"]["appId"], "assertion sub")
    expect("jti" in claims and "exp" in claims and "iat" in claims, f"claims: {claims}")
    expect("access_token" in r, f"PFX assertion refused: {r}")
    _, at = jwt_parts(r["access_token"])
    expect_eq(at.get("appidacr"), "2", "appidacr (certificate)")


@check
def certificate_pem_with_sha1_thumbprint_rs256():
    import hashlib
    c = cert_app()
    s = RecordingSession()
    thumb = hashlib.sha1(c["cert_der"]).hexdigest().upper()
    app = confidential(c["app"]["appId"], {"private_key": c["key_pem"], "thumbprint": thumb},
                       http_client=s)
    r = app.acquire_token_for_client([GRAPH_DEFAULT])
    header, _ = assertion_of(s)
    expect_eq(header.get("alg"), "RS256", "assertion alg")
    expect("x5t" in header, f"assertion header: {header}")
    expect("access_token" in r, f"PEM+thumbprint assertion refused: {r}")


@check
def certificate_subject_name_issuer_x5c():
    c = cert_app()
    s = RecordingSession()
    app = confidential(c["app"]["appId"],
                       {"private_key": c["key_pem"], "public_certificate": c["cert_pem"]},
                       http_client=s)
    r = app.acquire_token_for_client([GRAPH_DEFAULT])
    header, _ = assertion_of(s)
    expect("x5c" in header and "x5t#S256" in header, f"assertion header: {header}")
    expect("access_token" in r, f"SNI assertion refused: {r}")


@check
def certificate_not_registered_is_refused():
    c = cert_app()
    key_pem, cert_pem, *_ = make_certificate(T.workdir, "other")
    r = confidential(c["app"]["appId"],
                     {"private_key": key_pem, "public_certificate": cert_pem},
                     ).acquire_token_for_client([GRAPH_DEFAULT])
    expect_eq(r.get("error"), "invalid_client", f"unregistered certificate: {r}")
    expect(700027 in r.get("error_codes", []), f"{r}")


@check
def certificate_unregistered_client_self_signed():
    """A client id the tenant doesn't know, with a certificate: the emulator trusts it."""
    key_pem, cert_pem, *_ = make_certificate(T.workdir, "loose")
    r = confidential("22222222-2222-2222-2222-222222222222",
                     {"private_key": key_pem, "public_certificate": cert_pem},
                     ).acquire_token_for_client([GRAPH_DEFAULT])
    expect("access_token" in r, f"{r}")


def integer_time_assertion(c: dict, algorithm: str, key_pem: str | None = None, **thumbs):
    """MSAL's own JwtAssertionCreator, with whole-second exp/iat (what other MSALs send).

    Passed to MSAL as client_credential={"client_assertion": callable}; this exercises the
    rest of the emulator's assertion checks (PS256/RS256, x5t#S256/x5t, aud) despite D2.
    """
    from msal.oauth2cli.assertion import JwtAssertionCreator

    creator = JwtAssertionCreator(key_pem or c["key_pem"], algorithm, **thumbs)

    def make(audience: str) -> str:
        now = int(time.time())
        return creator.create_normal_assertion(
            audience=audience, issuer=c["app"]["appId"], expires_at=now + 600,
            issued_at=now).decode()

    return make


def with_assertion(c: dict, make) -> dict:
    # MSAL calls the callable with no arguments; the audience is the token endpoint.
    holder: dict = {}
    app = confidential(c["app"]["appId"], {"client_assertion": lambda: make(holder["aud"])})
    holder["aud"] = app.authority.token_endpoint
    return app.acquire_token_for_client([GRAPH_DEFAULT])


@check
def certificate_assertion_ps256_integer_times():
    import hashlib
    c = cert_app()
    sha256 = hashlib.sha256(c["cert_der"]).hexdigest()
    r = with_assertion(c, integer_time_assertion(c, "PS256", sha256_thumbprint=sha256))
    expect("access_token" in r, f"PS256 assertion refused: {r}")
    _, at = jwt_parts(r["access_token"])
    expect_eq(at.get("appidacr"), "2", "appidacr (certificate)")


@check
def certificate_assertion_rs256_sha1_integer_times():
    import hashlib
    c = cert_app()
    sha1 = hashlib.sha1(c["cert_der"]).hexdigest()
    r = with_assertion(c, integer_time_assertion(c, "RS256", sha1_thumbprint=sha1))
    expect("access_token" in r, f"RS256 assertion refused: {r}")


@check
def certificate_assertion_wrong_key_refused():
    import hashlib
    c = cert_app()
    other_key, *_ = make_certificate(T.workdir, "wrong-key")
    sha256 = hashlib.sha256(c["cert_der"]).hexdigest()
    r = with_assertion(c, integer_time_assertion(c, "PS256", other_key, sha256_thumbprint=sha256))
    expect_eq(r.get("error"), "invalid_client", f"{r}")
    expect(700027 in r.get("error_codes", []), f"{r}")


# --- device code, id token, account, refresh ----------------------------------------------------

def public_app(client_id: str) -> msal.PublicClientApplication:
    return msal.PublicClientApplication(
        client_id, authority=T.authority, instance_discovery=False,
        validate_authority=False, verify=T.ca)


_device: dict = {}


def device_login() -> dict:
    if not _device:
        client_id = "33333333-3333-3333-3333-333333333333"
        app = public_app(client_id)
        flow = app.initiate_device_flow(scopes=["User.Read"])
        expect("user_code" in flow, f"initiate_device_flow: {flow}")
        for k in ("device_code", "verification_uri", "expires_in", "interval", "message"):
            expect(k in flow, f"device flow lacks {k}: {flow}")
        expect(flow["user_code"] in flow["message"], f"message: {flow['message']}")
        t0 = time.monotonic()
        result = app.acquire_token_by_device_flow(flow)
        _device.update(app=app, client_id=client_id, flow=flow, result=result,
                       seconds=time.monotonic() - t0)
    return _device


@check
def device_code_flow_auto_approved():
    d = device_login()
    r = d["result"]
    expect("access_token" in r, f"device flow: {r}")
    expect(d["seconds"] < 15, f"device flow took {d['seconds']:.1f}s")
    _, at = jwt_parts(r["access_token"])
    expect_eq(at.get("aud"), "https://graph.microsoft.com", "aud")
    expect("User.Read" in at.get("scp", "").split(), f"scp: {at}")
    # MSAL adds openid profile offline_access; Entra answers with an id token and refresh token.
    expect("refresh_token" in r, f"no refresh_token: {list(r)}")
    expect("id_token" in r, f"no id_token: {list(r)}")
    claims = r.get("id_token_claims") or {}
    expect_eq(claims.get("aud"), d["client_id"], "id token aud")
    expect_eq(claims.get("tid"), T.tenant, "id token tid")
    expect(claims.get("preferred_username"), f"id token: {claims}")
    expect_eq(claims.get("iss"), f"{T.url}{T.tenant}/v2.0", "id token iss")
    scopes = set(r.get("scope", "").split())
    expect("User.Read" in scopes or "https://graph.microsoft.com/User.Read" in scopes,
           f"scope: {r.get('scope')}")


@check
def device_code_account_in_cache_and_silent():
    d = device_login()
    app = d["app"]
    accounts = app.get_accounts()
    expect_eq(len(accounts), 1, f"accounts: {accounts}")
    acct = accounts[0]
    expect(acct.get("username", "").startswith("admin@"), f"account: {acct}")
    silent = app.acquire_token_silent(["User.Read"], account=acct)
    expect(silent and "access_token" in silent, f"silent: {silent}")
    expect_eq(silent.get("token_source"), "cache", "silent token_source")
    # refresh_token grant
    fresh = app.acquire_token_silent(["User.Read"], account=acct, force_refresh=True)
    expect(fresh and "access_token" in fresh, f"force_refresh: {fresh}")
    expect_eq(fresh.get("token_source"), "identity_provider", "refreshed token_source")


@check
def device_code_home_account_id_from_client_info():
    """MSAL sends client_info=1 and builds home_account_id '{uid}.{utid}' from the answer."""
    d = device_login()
    r = d["result"]
    expect("client_info" in r, f"no client_info in the token response: {sorted(r)}")
    acct = d["app"].get_accounts()[0]
    oid = r["id_token_claims"]["oid"]
    expect_eq(acct["home_account_id"], f"{oid}.{T.tenant}", "home_account_id")


@check
def device_code_wrong_client_is_refused():
    d = device_login()
    other = public_app("44444444-4444-4444-4444-444444444444")
    flow = other.initiate_device_flow(scopes=["User.Read"])
    flow2 = dict(flow)
    # Redeeming someone else's (already used) device code fails with invalid_grant.
    flow2["device_code"] = d["flow"]["device_code"]
    flow2["expires_at"] = time.time() + 5
    r = other.acquire_token_by_device_flow(flow2, exit_condition=lambda f: True)
    expect_eq(r.get("error"), "invalid_grant", f"{r}")


if __name__ == "__main__":
    run("test_msal")
