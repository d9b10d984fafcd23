"""Microsoft Graph over plain HTTP, shaped exactly like msgraph-sdk's requests.

The request shapes (URLs, query encoding, headers, bodies with `@odata.type`) were captured
from msgraph-sdk 1.65 / kiota-http 1.16 (see test_msgraph_sdk.py for the SDK itself); the
Graph-side headers the SDK adds only for graph.microsoft.com (client-request-id, SdkVersion,
from msgraph_core/middleware/telemetry.py) are added here too, as they reach real Graph.
This script checks what the SDK hides: status codes, headers, the exact JSON shapes of
entities, collections, errors and throttling. The token comes from MSAL.
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True  # keep tests/sdk free of __pycache__ when run by hand

import base64
import json
import re
import uuid

import msal
import requests

from common import check, expect, expect_eq, run, target

T = target()
RUN = uuid.uuid4().hex[:8]
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
DIRECTORY_READ_ALL_ROLE = "7ab1d382-f21e-4acd-a863-ba3e13f7da61"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SDK_HEADERS = {
    "Accept": "application/json",
    "User-Agent": "python-httpx/0.28.1 kiota-python/1.16.0",
    "SdkVersion": "graph-python/1.65.0, graph-python-core/1.5.2 "
                  "(featureUsage=00000000; hostOS=Linux; runtimeEnvironment=Python/3.11)",
}


def token(url: str = T.url, tenant: str = T.tenant) -> str:
    app = msal.ConfidentialClientApplication(
        f"raw-{RUN}", client_credential="raw-secret", authority=f"{url}{tenant}",
        instance_discovery=False, validate_authority=False, verify=T.ca)
    r = app.acquire_token_for_client(["https://graph.microsoft.com/.default"])
    expect("access_token" in r, f"token: {r}")
    return r["access_token"]


S = requests.Session()
S.verify = T.ca
S.headers.update(SDK_HEADERS)
S.headers["Authorization"] = f"Bearer {token()}"


def call(method: str, path: str, body=None, headers=None, url: str = T.graph, session=S):
    h = {"client-request-id": str(uuid.uuid4())}
    if body is not None:
        h["Content-Type"] = "application/json"
    h.update(headers or {})
    full = path if path.startswith("https://") else f"{url}/{path}"
    r = session.request(method, full, json=body, headers=h, timeout=30)
    r.sent_client_request_id = h["client-request-id"]
    return r


def expect_graph_headers(r: requests.Response) -> None:
    expect(GUID.match(r.headers.get("request-id", "")), f"request-id header: {dict(r.headers)}")
    expect_eq(r.headers.get("client-request-id"), r.sent_client_request_id, "client-request-id echo")


def expect_error(r: requests.Response, status: int, code: str) -> dict:
    """Graph's error body: {"error": {"code", "message", "innerError": {...}}}."""
    expect_eq(r.status_code, status, f"status ({r.text[:300]})")
    expect(r.headers.get("Content-Type", "").startswith("application/json"), r.headers.get("Content-Type"))
    body = r.json()
    expect_eq(list(body), ["error"], "top-level keys")
    e = body["error"]
    expect_eq(e.get("code"), code, "error.code")
    expect(isinstance(e.get("message"), str) and e["message"], f"error.message: {e}")
    inner = e.get("innerError")
    expect(isinstance(inner, dict), f"innerError: {e}")
    expect_eq(set(inner), {"date", "request-id", "client-request-id"}, "innerError keys")
    expect(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$", inner["date"]), f"innerError.date {inner['date']}")
    expect_eq(inner["request-id"], r.headers.get("request-id"), "innerError.request-id = header")
    expect_eq(inner["client-request-id"], r.sent_client_request_id, "innerError.client-request-id")
    return e


_app: dict = {}


def app() -> dict:
    if not _app:
        r = call("POST", "applications", {
            "@odata.type": "#microsoft.graph.application",
            "displayName": f"raw server {RUN}",
            "identifierUris": [f"api://{T.tenant}/raw-{RUN}"],
        })
        expect_eq(r.status_code, 201, f"POST /applications: {r.text}")
        _app.update(r.json())
        _app["_response"] = r
    return _app


@check
def create_application_shape():
    a = app()
    r = a["_response"]
    expect_graph_headers(r)
    expect(r.headers.get("Content-Type", "").startswith("application/json"), r.headers.get("Content-Type"))
    expect_eq(a["@odata.context"], f"{T.url}v1.0/$metadata#applications/$entity", "@odata.context")
    expect(GUID.match(a["id"]) and GUID.match(a["appId"]), f"ids: {a['id']} {a['appId']}")
    expect(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", a["createdDateTime"]), a["createdDateTime"])
    for k in ("api", "web", "spa", "publicClient", "keyCredentials", "passwordCredentials",
              "requiredResourceAccess", "appRoles", "signInAudience", "publisherDomain"):
        expect(k in a, f"application lacks {k}")
    expect_eq(a["signInAudience"], "AzureADMyOrg", "default signInAudience")


@check
def get_by_app_id_with_select():
    a = app()
    r = call("GET", f"applications(appId='{a['appId']}')?$select=id,appId,identifierUris")
    expect_eq(r.status_code, 200, r.text)
    expect_graph_headers(r)
    body = r.json()
    expect_eq(set(body), {"@odata.context", "id", "appId", "identifierUris"}, "selected keys")
    expect_eq(body["@odata.context"],
              f"{T.url}v1.0/$metadata#applications(id,appId,identifierUris)/$entity", "@odata.context")


@check
def list_kiota_query_and_dotnet_encoding():
    a = app()
    # kiota-python's encoding (literal $, %20 and %27 in the filter), then .NET's (%24 keys).
    for q in (f"$count=true&$filter=appId%20eq%20%27{a['appId']}%27&$select=id,appId&$top=5",
              f"%24count=true&%24filter=appId%20eq%20%27{a['appId']}%27&%24select=id%2CappId&%24top=5"):
        r = call("GET", f"applications?{q}", headers={"ConsistencyLevel": "eventual"})
        expect_eq(r.status_code, 200, r.text)
        body = r.json()
        expect_eq(body.get("@odata.count"), 1, f"@odata.count ({q})")
        expect_eq(body["@odata.context"], f"{T.url}v1.0/$metadata#applications(id,appId)", "context")
        expect_eq(body["value"], [{"id": a["id"], "appId": a["appId"]}], "value")


@check
def count_needs_consistency_level():
    # aad-advanced-queries.md, "Error handling": without the header `?$count=true` is
    # silently ignored and the `/$count` segment is a 400.
    r = call("GET", "applications?$count=true&$top=1")
    expect_eq(r.status_code, 200, r.text)
    expect("@odata.count" not in r.json(), "no @odata.count without ConsistencyLevel")
    r = call("GET", "applications/$count")
    expect_error(r, 400, "Request_BadRequest")
    r = call("GET", "applications/$count", headers={"ConsistencyLevel": "eventual"})
    expect_eq(r.status_code, 200, r.text)
    expect(r.text.strip().isdigit(), f"$count body {r.text!r}")
    expect(r.headers.get("Content-Type", "").startswith("text/plain"), r.headers.get("Content-Type"))


@check
def next_link_to_the_end():
    prefix = f"rawpage {RUN}"
    made = set()
    for i in range(7):
        r = call("POST", "applications", {"@odata.type": "#microsoft.graph.application",
                                          "displayName": f"{prefix} {i}"})
        expect_eq(r.status_code, 201, r.text)
        made.add(r.json()["id"])
    url = f"applications?$filter=startswith(displayName,%27{prefix}%27)&$top=3&$count=true"
    seen, pages, first = [], 0, True
    next_url = f"{T.graph}/{url}"
    while next_url:
        r = call("GET", next_url, headers={"ConsistencyLevel": "eventual"})
        expect_eq(r.status_code, 200, r.text)
        body = r.json()
        if first:
            expect_eq(body.get("@odata.count"), 7, "@odata.count on the first page")
            first = False
        seen += [v["id"] for v in body["value"]]
        pages += 1
        next_url = body.get("@odata.nextLink")
        if next_url:
            expect(next_url.startswith(f"{T.url}v1.0/applications?"), f"nextLink {next_url}")
            expect("$skiptoken=" in next_url or "%24skiptoken=" in next_url, next_url)
            # The link keeps every option the request had, $count included.
            expect("$count=true" in next_url and "$filter=" in next_url, next_url)
        expect(pages <= 5, "too many pages")
    expect_eq(pages, 3, "pages")
    expect_eq(sorted(seen), sorted(made), "every item exactly once")


@check
def add_password_shape():
    a = app()
    r = call("POST", f"applications/{a['id']}/addPassword",
             {"passwordCredential": {"displayName": "raw"}})
    expect_eq(r.status_code, 200, r.text)
    body = r.json()
    expect_eq(body["@odata.context"], f"{T.url}v1.0/$metadata#microsoft.graph.passwordCredential",
              "@odata.context")
    expect_eq(set(body) - {"@odata.context"},
              {"customKeyIdentifier", "displayName", "endDateTime", "hint", "keyId", "secretText",
               "startDateTime"}, "passwordCredential keys")
    expect_eq(body["hint"], body["secretText"][:3], "hint")


_sp: dict = {}


@check
def service_principal_and_app_role_assigned_to():
    a = app()
    r = call("POST", "servicePrincipals", {"@odata.type": "#microsoft.graph.servicePrincipal",
                                           "appId": a["appId"]})
    expect_eq(r.status_code, 201, r.text)
    sp = r.json()
    expect_eq(sp["@odata.context"], f"{T.url}v1.0/$metadata#servicePrincipals/$entity", "context")
    expect_eq(sp["appId"], a["appId"], "appId")
    expect_eq(sp["servicePrincipalType"], "Application", "servicePrincipalType")
    # A second one for the same app is a conflict.
    r2 = call("POST", "servicePrincipals", {"appId": a["appId"]})
    expect_error(r2, 409, "Request_MultipleObjectsWithSameKeyValue")
    g = call("GET", f"servicePrincipals(appId='{GRAPH_APP_ID}')").json()
    r = call("POST", f"servicePrincipals/{g['id']}/appRoleAssignedTo", {
        "@odata.type": "#microsoft.graph.appRoleAssignment",
        "appRoleId": DIRECTORY_READ_ALL_ROLE, "principalId": sp["id"], "resourceId": g["id"],
    })
    expect_eq(r.status_code, 201, r.text)
    body = r.json()
    expect_eq(body["@odata.context"],
              f"{T.url}v1.0/$metadata#servicePrincipals('{g['id']}')/appRoleAssignedTo/$entity",
              "context")
    expect_eq(set(body) - {"@odata.context"},
              {"id", "deletedDateTime", "appRoleId", "createdDateTime", "principalDisplayName",
               "principalId", "principalType", "resourceDisplayName", "resourceId"}, "keys")
    expect_eq(body["resourceDisplayName"], "Microsoft Graph", "resourceDisplayName")
    _sp.update(sp=sp, graph=g)
    # The app now holds the role in its app-only tokens (a registered app needs its own secret).
    secret = call("POST", f"applications/{a['id']}/addPassword", {}).json()["secretText"]
    tok = msal.ConfidentialClientApplication(
        a["appId"], client_credential=secret, authority=T.authority,
        instance_discovery=False, validate_authority=False, verify=T.ca,
    ).acquire_token_for_client(["https://graph.microsoft.com/.default"])
    expect("access_token" in tok, f"token with the app's secret: {tok}")
    claims = json.loads(base64.urlsafe_b64decode(tok["access_token"].split(".")[1] + "=="))
    expect_eq(claims.get("roles"), ["Directory.Read.All"], "roles claim")
    expect_eq(claims.get("oid"), sp["id"], "oid claim is the service principal")


@check
def oauth2_permission_grant_shape():
    if not _sp:
        service_principal_and_app_role_assigned_to()
    sp, g = _sp["sp"], _sp["graph"]
    body = {"clientId": sp["id"], "consentType": "AllPrincipals", "resourceId": g["id"],
            "scope": "User.Read Directory.Read.All"}
    r = call("POST", "oauth2PermissionGrants", body)
    expect_eq(r.status_code, 201, r.text)
    grant = r.json()
    expect_eq(grant["@odata.context"], f"{T.url}v1.0/$metadata#oauth2PermissionGrants/$entity", "context")
    expect_eq(set(grant) - {"@odata.context"},
              {"id", "clientId", "consentType", "principalId", "resourceId", "scope"}, "keys")
    expect(grant["principalId"] is None, "principalId null")
    again = call("POST", "oauth2PermissionGrants", body)
    expect_error(again, 409, "Request_MultipleObjectsWithSameKeyValue")
    bad = call("POST", "oauth2PermissionGrants", {**body, "scope": "No.Such.Scope"})
    expect_error(bad, 400, "Request_BadRequest")


@check
def not_found_error_shape():
    r = call("GET", f"applications/{uuid.uuid4()}")
    e = expect_error(r, 404, "Request_ResourceNotFound")
    expect("does not exist" in e["message"], e["message"])
    r = call("GET", f"applications(appId='{uuid.uuid4()}')")
    expect_error(r, 404, "Request_ResourceNotFound")


@check
def duplicate_identifier_uri_error_shape():
    a = app()
    r = call("POST", "applications", {"displayName": f"dup {RUN}", "identifierUris": a["identifierUris"]})
    e = expect_error(r, 400, "Request_BadRequest")
    expect_eq(e["message"],
              "Another object with the same value for property identifierUris already exists.",
              "message")


@check
def unknown_property_is_odata_bad_request():
    r = call("POST", "applications", {"displayName": f"typo {RUN}", "identifierUri": []})
    e = expect_error(r, 400, "BadRequest")
    expect("identifierUri" in e["message"], e["message"])


@check
def unauthenticated_is_401_with_www_authenticate():
    bare = requests.Session()
    bare.verify = T.ca
    r = call("GET", "applications", session=bare)
    expect_error(r, 401, "InvalidAuthenticationToken")
    expect(r.headers.get("WWW-Authenticate", "").startswith("Bearer"), dict(r.headers))


@check
def throttled_429_shape():
    if not T.faulty_url:
        raise AssertionError("COMGMT_FAULTY_URL not set (an emulator with faults rate=1,status=429)")
    s = requests.Session()
    s.verify = T.ca
    s.headers.update(SDK_HEADERS)
    s.headers["Authorization"] = f"Bearer {token(T.faulty_url, T.faulty_tenant or T.tenant)}"
    # A write is throttled before it changes anything.
    r = call("POST", "applications", {"displayName": f"throttled {RUN}"},
             url=f"{T.faulty_url}v1.0", session=s)
    expect_error(r, 429, "TooManyRequests")
    ra = r.headers.get("Retry-After")
    expect(ra is not None and ra.isdigit() and int(ra) >= 1, f"Retry-After: {ra!r}")


@check
def token_endpoint_error_shape():
    """The AADSTS error body MSAL and azure-identity parse (error, error_description, codes)."""
    corr = str(uuid.uuid4())
    r = requests.post(f"{T.authority}/oauth2/v2.0/token", verify=T.ca, timeout=30,
                      headers={"client-request-id": corr},
                      data={"grant_type": "client_credentials", "client_id": "x",
                            "client_secret": "y", "scope": "User.Read"})
    expect_eq(r.status_code, 400, r.text)
    b = r.json()
    for k in ("error", "error_description", "error_codes", "timestamp", "trace_id",
              "correlation_id", "error_uri"):
        expect(k in b, f"token error lacks {k}: {b}")
    expect_eq(b["error"], "invalid_scope", "error")
    expect(b["error_description"].startswith(f"AADSTS{b['error_codes'][0]}:"), b["error_description"])
    expect_eq(b["correlation_id"], corr, "correlation_id echoes client-request-id")


@check
def openid_configuration_shape():
    r = requests.get(f"{T.authority}/v2.0/.well-known/openid-configuration", verify=T.ca, timeout=30)
    expect_eq(r.status_code, 200, r.text)
    c = r.json()
    expect_eq(c["token_endpoint"], f"{T.authority}/oauth2/v2.0/token", "token_endpoint")
    expect_eq(c["device_authorization_endpoint"], f"{T.authority}/oauth2/v2.0/devicecode",
              "device_authorization_endpoint")
    expect_eq(c["issuer"], f"{T.authority}/v2.0", "issuer")


if __name__ == "__main__":
    run("test_graph_raw")
