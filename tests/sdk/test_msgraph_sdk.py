"""Microsoft Graph Python SDK (msgraph-sdk, kiota-based) + azure-identity against the emulator.

The SDK is pointed at the emulator the documented way: a GraphRequestAdapter whose
`base_url` is `{emulator}/v1.0`, with an AzureIdentityAuthenticationProvider over an
azure-identity credential whose `authority` is the emulator's host:port and
`disable_instance_discovery=True`. Everything else is the SDK's defaults: HTTP/2 httpx
client, the kiota middleware (retry, redirect, headers, telemetry), the generated models'
(de)serialisers. A payload the SDK cannot parse, or a property it does not know, fails here.

TLS trust: SSL_CERT_FILE (httpx, aiohttp) and REQUESTS_CA_BUNDLE (requests), set by
common.target(); the same variables a user sets for a corporate proxy CA.
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True  # keep tests/sdk free of __pycache__ when run by hand

import base64
import datetime
import hashlib
import time
import uuid

from azure.identity import CertificateCredential, ClientSecretCredential
from azure.identity.aio import CertificateCredential as AioCertificateCredential
from azure.identity.aio import ClientSecretCredential as AioClientSecretCredential
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.serialization import Parsable
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from kiota_http.middleware.options import RetryHandlerOption
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.applications.applications_request_builder import ApplicationsRequestBuilder
from msgraph.generated.applications.item.add_password.add_password_post_request_body import (
    AddPasswordPostRequestBody,
)
from msgraph.generated.models.api_application import ApiApplication
from msgraph.generated.models.app_role import AppRole
from msgraph.generated.models.app_role_assignment import AppRoleAssignment
from msgraph.generated.models.application import Application
from msgraph.generated.models.key_credential import KeyCredential
from msgraph.generated.models.o_auth2_permission_grant import OAuth2PermissionGrant
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.password_credential import PasswordCredential
from msgraph.generated.models.permission_scope import PermissionScope
from msgraph.generated.models.public_client_application import PublicClientApplication
from msgraph.generated.models.required_resource_access import RequiredResourceAccess
from msgraph.generated.models.resource_access import ResourceAccess
from msgraph.generated.models.service_principal import ServicePrincipal
from msgraph.generated.models.web_application import WebApplication
from msgraph.generated.oauth2_permission_grants.oauth2_permission_grants_request_builder import (
    Oauth2PermissionGrantsRequestBuilder,
)
from msgraph_core.tasks.page_iterator import PageIterator

from common import check, expect, expect_eq, loop, make_certificate, run, target

T = target()
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
GRAPH_DEFAULT = "https://graph.microsoft.com/.default"
# Well-known Graph permission ids (the real ones).
DIRECTORY_READ_ALL_ROLE = "7ab1d382-f21e-4acd-a863-ba3e13f7da61"
USER_READ_SCOPE = "e1fe6dd8-ba31-4d61-89e7-88639da4683d"
RUN = uuid.uuid4().hex[:8]


def aio_secret_credential(url: str = T.url, tenant: str = T.tenant):
    host = url.split("://", 1)[1].rstrip("/")
    return AioClientSecretCredential(
        tenant, f"sdk-{RUN}", "sdk-secret", authority=host, disable_instance_discovery=True)


def graph_client(credential, url: str = T.url, scopes=None) -> GraphServiceClient:
    kw = {} if scopes is None else {"scopes": scopes}
    auth = AzureIdentityAuthenticationProvider(credential, **kw)
    adapter = GraphRequestAdapter(auth)
    adapter.base_url = f"{url}v1.0"
    return GraphServiceClient(request_adapter=adapter)


CRED = aio_secret_credential()
G = graph_client(CRED, scopes=[GRAPH_DEFAULT])


def unknown_properties(obj, path="") -> list[str]:
    """Properties the SDK's deserialiser did not recognise (they land in additional_data)."""
    out = []
    if isinstance(obj, Parsable):
        for k in (getattr(obj, "additional_data", None) or {}):
            if k not in ("@odata.context", "@odata.count", "@odata.nextLink"):
                out.append(f"{path}{type(obj).__name__}.{k}")
        for name, v in vars(obj).items():
            if name != "additional_data":
                out += unknown_properties(v, f"{path}{name}.")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += unknown_properties(v, f"{path}[{i}].")
    return out


def expect_known(obj, what: str) -> None:
    u = unknown_properties(obj)
    expect(not u, f"{what}: properties the SDK does not know: {u}")


def eventual(**query) -> RequestConfiguration:
    cfg = RequestConfiguration(
        query_parameters=ApplicationsRequestBuilder.ApplicationsRequestBuilderGetQueryParameters(**query))
    cfg.headers.add("ConsistencyLevel", "eventual")
    return cfg


# --- azure-identity credentials -----------------------------------------------------------------

@check
def azure_identity_sync_secret_credential():
    """Sync ClientSecretCredential (MSAL under the hood)."""
    cred = ClientSecretCredential(T.tenant, f"sync-{RUN}", "s", authority=T.host,
                                  disable_instance_discovery=True)
    tok = cred.get_token(GRAPH_DEFAULT)
    expect(tok.token.count(".") == 2, "token is a JWT")
    expect(tok.expires_on > time.time() + 300, f"expires_on {tok.expires_on}")


@check
async def azure_identity_async_secret_credential():
    """azure.identity.aio.ClientSecretCredential (its own AadClient over aiohttp)."""
    tok = await CRED.get_token(GRAPH_DEFAULT)
    expect(tok.expires_on > time.time() + 300, f"expires_on {tok.expires_on}")


_cert: dict = {}


async def cert_app() -> dict:
    if not _cert:
        key_pem, cert_pem, cert_der, pfx, password = make_certificate(T.workdir, "azid")
        app = await G.applications.post(Application(
            display_name=f"azure-identity cert {RUN}",
            key_credentials=[KeyCredential(
                type="AsymmetricX509Cert", usage="Verify", key=cert_der,
                display_name="CN=azid")],
        ))
        pem_path = f"{T.workdir}/azid-{RUN}.pem"
        with open(pem_path, "w") as f:
            f.write(key_pem + cert_pem)
        _cert.update(app=app, pem=pem_path, der=cert_der)
    return _cert


@check
async def key_credential_round_trip():
    c = await cert_app()
    kc = c["app"].key_credentials
    expect_eq(len(kc), 1, "keyCredentials")
    expect_eq(kc[0].type, "AsymmetricX509Cert", "type")
    expect(kc[0].key is None, "key is never returned")
    expect(isinstance(kc[0].key_id, uuid.UUID), f"keyId {kc[0].key_id!r}")
    expect(isinstance(kc[0].end_date_time, datetime.datetime), f"end {kc[0].end_date_time!r}")
    # customKeyIdentifier is Edm.Binary and the SDK base64-decodes it into bytes. Entra puts
    # the certificate's SHA-1 thumbprint there as 40 hex characters, so the bytes re-encode
    # to the hex thumbprint (the PowerShell idiom [Convert]::ToBase64String(...)).
    expect_eq(base64.b64encode(kc[0].custom_key_identifier).decode(),
              hashlib.sha1(c["der"]).hexdigest().upper(), "customKeyIdentifier")


@check
def azure_identity_sync_certificate_credential():
    """Sync CertificateCredential signs with MSAL (PS256, x5t#S256, float exp)."""
    c = loop().run_until_complete(cert_app())
    cred = CertificateCredential(T.tenant, c["app"].app_id, c["pem"], authority=T.host,
                                 disable_instance_discovery=True)
    expect(cred.get_token(GRAPH_DEFAULT).token, "token")


@check
async def azure_identity_async_certificate_credential():
    """aio CertificateCredential builds its own assertion (azure/identity/_internal/
    aad_client_base.py _get_client_certificate_assertion: base64.urlsafe_b64encode, padded)."""
    c = await cert_app()
    cred = AioCertificateCredential(T.tenant, c["app"].app_id, c["pem"], authority=T.host,
                                    disable_instance_discovery=True)
    try:
        tok = await cred.get_token(GRAPH_DEFAULT)
    finally:
        await cred.close()
    expect(tok.token, "token")


# --- applications -------------------------------------------------------------------------------

_app: dict = {}


async def server_app() -> Application:
    if not _app:
        scope_id = uuid.uuid4()
        role_id = uuid.uuid4()
        app = await G.applications.post(Application(
            display_name=f"sdk server {RUN}",
            sign_in_audience="AzureADMyOrg",
            identifier_uris=[f"api://{T.tenant}/sdk-{RUN}"],
            web=WebApplication(home_page_url="https://sdk.example/home",
                               redirect_uris=["https://sdk.example/signin"]),
            api=ApiApplication(requested_access_token_version=None, oauth2_permission_scopes=[
                PermissionScope(
                    id=scope_id, value="user_impersonation", type="User", is_enabled=True,
                    admin_consent_display_name="Access", admin_consent_description="Access",
                    user_consent_display_name="Access", user_consent_description="Access")]),
            app_roles=[AppRole(id=role_id, value="Sdk.Read", allowed_member_types=["Application"],
                               display_name="Read", description="Read", is_enabled=True)],
            required_resource_access=[RequiredResourceAccess(
                resource_app_id=GRAPH_APP_ID,
                resource_access=[ResourceAccess(id=uuid.UUID(DIRECTORY_READ_ALL_ROLE), type="Role")])],
        ))
        _app.update(app=app, scope_id=scope_id, role_id=role_id)
    return _app["app"]


@check
async def create_application():
    app = await server_app()
    expect_known(app, "POST /applications")
    expect(isinstance(app.id, str) and app.id, f"id {app.id!r}")
    expect(app.app_id, "appId")
    expect(isinstance(app.created_date_time, datetime.datetime), f"{app.created_date_time!r}")
    expect_eq(app.identifier_uris, [f"api://{T.tenant}/sdk-{RUN}"], "identifierUris")
    s = app.api.oauth2_permission_scopes[0]
    expect_eq(s.id, _app["scope_id"], "scope id (UUID)")
    expect_eq(s.origin, "Application", "scope origin")
    expect_eq(app.app_roles[0].id, _app["role_id"], "role id")
    expect_eq(app.required_resource_access[0].resource_access[0].id,
              uuid.UUID(DIRECTORY_READ_ALL_ROLE), "resourceAccess id")
    expect_eq(app.web.redirect_uris, ["https://sdk.example/signin"], "web.redirectUris")


@check
async def get_application_by_id_and_app_id():
    app = await server_app()
    by_id = await G.applications.by_application_id(app.id).get()
    expect_known(by_id, "GET /applications/{id}")
    expect_eq(by_id.app_id, app.app_id, "by id")
    by_app_id = await G.applications_with_app_id(app.app_id).get()
    expect_known(by_app_id, "GET /applications(appId='…')")
    expect_eq(by_app_id.id, app.id, "by appId")


@check
async def get_application_with_select():
    app = await server_app()
    cfg = RequestConfiguration(query_parameters=(
        ApplicationsRequestBuilder.ApplicationsRequestBuilderGetQueryParameters(
            select=["id", "appId", "identifierUris"])))
    got = await G.applications_with_app_id(app.app_id).get(request_configuration=cfg)
    expect_eq(got.identifier_uris, app.identifier_uris, "identifierUris")
    expect(got.display_name is None, f"displayName not selected but got {got.display_name!r}")


@check
async def patch_application():
    app = await server_app()
    await G.applications.by_application_id(app.id).patch(Application(
        public_client=PublicClientApplication(redirect_uris=["ms-appx-web://sdk"]),
        is_fallback_public_client=True,
    ))
    got = await G.applications.by_application_id(app.id).get()
    expect_eq(got.public_client.redirect_uris, ["ms-appx-web://sdk"], "publicClient.redirectUris")
    expect_eq(got.is_fallback_public_client, True, "isFallbackPublicClient")
    expect_eq(got.display_name, app.display_name, "displayName untouched by PATCH")


@check
async def list_filter_select_count_consistency_eventual():
    app = await server_app()
    page = await G.applications.get(request_configuration=eventual(
        filter=f"appId eq '{app.app_id}'", select=["id", "appId", "displayName"],
        count=True, top=5))
    expect_known(page, "GET /applications?$filter&$select&$count")
    expect_eq(page.odata_count, 1, "@odata.count")
    expect_eq([a.id for a in page.value], [app.id], "filtered value")
    page = await G.applications.get(request_configuration=eventual(
        filter=f"identifierUris/any(x:x eq 'api://{T.tenant}/sdk-{RUN}')", count=True))
    expect_eq([a.id for a in page.value], [app.id], "identifierUris/any filter")


@check
async def count_segment():
    await server_app()
    cfg = RequestConfiguration()
    cfg.headers.add("ConsistencyLevel", "eventual")
    n = await G.applications.count.get(request_configuration=cfg)
    expect(isinstance(n, int) and n >= 1, f"/applications/$count -> {n!r}")


def plain_query(**query) -> RequestConfiguration:
    return RequestConfiguration(
        query_parameters=ApplicationsRequestBuilder.ApplicationsRequestBuilderGetQueryParameters(**query))


@check
async def advanced_queries_ne_orderby_search():
    """ne, $orderby and $search as the SDK sends them: ConsistencyLevel: eventual plus
    count=True (aad-advanced-queries.md)."""
    prefix = f"aq {RUN}"
    for n in ("b", "a", "c"):
        await G.applications.post(Application(display_name=f"{prefix} {n}"))
    page = await G.applications.get(request_configuration=eventual(
        filter=f"startswith(displayName, '{prefix}') and displayName ne '{prefix} b'",
        count=True, orderby=["displayName desc"]))
    expect_known(page, "GET /applications?$filter=ne&$orderby&$count")
    expect_eq([a.display_name for a in page.value], [f"{prefix} c", f"{prefix} a"], "ne + $orderby")
    expect_eq(page.odata_count, 2, "@odata.count")
    page = await G.applications.get(request_configuration=eventual(
        search='"displayName:aq"', count=True, orderby=["displayName"]))
    expect_eq([a.display_name for a in page.value], [f"{prefix} a", f"{prefix} b", f"{prefix} c"],
              "$search + $orderby")


@check
async def ne_without_consistency_level_is_unsupported_query():
    try:
        await G.applications.get(request_configuration=plain_query(filter="displayName ne 'x'"))
    except ODataError as e:
        expect_eq(e.response_status_code, 400, "status")
        expect_eq(e.error.code if e.error else None, "Request_UnsupportedQuery", "error.code")
        return
    raise AssertionError("ne without ConsistencyLevel was accepted")


@check
async def ends_with_on_applications_is_unsupported_even_in_advanced_queries():
    """endsWith works only on user mail/otherMails/userPrincipalName/proxyAddresses
    (aad-advanced-queries.md); application properties list no endsWith."""
    for cfg in (plain_query(filter="endsWith(displayName,'x')"),
                eventual(filter="endsWith(displayName,'x')", count=True)):
        try:
            await G.applications.get(request_configuration=cfg)
        except ODataError as e:
            expect_eq(e.response_status_code, 400, "status")
            expect_eq(e.error.code if e.error else None, "Request_UnsupportedQuery", "error.code")
            continue
        raise AssertionError("endsWith(displayName) was accepted")


@check
async def upsert_by_unique_name():
    """PATCH applications(uniqueName='…') with Prefer: create-if-missing
    (application-upsert.md): 201 with the object, then 204 (the SDK returns None)."""
    cfg = RequestConfiguration()
    cfg.headers.add("Prefer", "create-if-missing")
    name = f"sdk-upsert-{RUN}"
    created = await G.applications_with_unique_name(name).patch(
        Application(display_name=f"upsert {RUN}"), request_configuration=cfg)
    expect(created is not None, "201 body parsed")
    expect_known(created, "upsert (created)")
    expect_eq(created.unique_name, name, "uniqueName")
    again = await G.applications_with_unique_name(name).patch(
        Application(display_name=f"upsert 2 {RUN}"), request_configuration=cfg)
    expect(again is None, f"204 on update, got {again!r}")
    got = await G.applications_with_unique_name(name).get()
    expect_eq((got.id, got.display_name), (created.id, f"upsert 2 {RUN}"), "updated in place")


@check
async def paging_with_top_and_page_iterator():
    prefix = f"page {RUN}"
    for i in range(5):
        await G.applications.post(Application(display_name=f"{prefix} {i}"))
    cfg = eventual(filter=f"startswith(displayName, '{prefix}')", top=2, count=True)
    first = await G.applications.get(request_configuration=cfg)
    expect_eq(first.odata_count, 5, "@odata.count on the first page")
    expect(first.odata_next_link, "first page has @odata.nextLink")
    expect(first.odata_next_link.startswith(T.url), f"nextLink {first.odata_next_link}")
    # Following the link the SDK way: with_url(nextLink).
    second = await G.applications.with_url(first.odata_next_link).get()
    expect_eq(len(second.value), 2, "second page size")
    # And with msgraph-core's PageIterator, to the end.
    seen: list[str] = []
    it = PageIterator(first, G.request_adapter)
    await it.iterate(lambda a: seen.append(a.display_name) or True)
    expect_eq(sorted(seen), [f"{prefix} {i}" for i in range(5)], "PageIterator items")


@check
async def add_password():
    app = await server_app()
    cred = await G.applications.by_application_id(app.id).add_password.post(
        AddPasswordPostRequestBody(password_credential=PasswordCredential(display_name="sdk")))
    expect_known(cred, "addPassword")
    expect(cred.secret_text and len(cred.secret_text) >= 32, "secretText")
    expect(isinstance(cred.key_id, uuid.UUID), f"keyId {cred.key_id!r}")
    expect_eq(cred.hint, cred.secret_text[:3], "hint")
    expect(cred.end_date_time > cred.start_date_time, "end after start")
    got = await G.applications.by_application_id(app.id).get()
    stored = [p for p in got.password_credentials if p.key_id == cred.key_id]
    expect(len(stored) == 1 and stored[0].secret_text is None, f"stored: {stored}")
    # The new secret signs in with azure-identity, then reads Graph with its own token.
    c2 = AioClientSecretCredential(T.tenant, app.app_id, cred.secret_text, authority=T.host,
                                   disable_instance_discovery=True)
    try:
        g2 = graph_client(c2, scopes=[GRAPH_DEFAULT])
        me = await g2.applications_with_app_id(app.app_id).get()
        expect_eq(me.id, app.id, "read with the app's own secret")
    finally:
        await c2.close()


# --- service principals, consent ----------------------------------------------------------------

_sp: dict = {}


async def server_sp() -> ServicePrincipal:
    if not _sp:
        app = await server_app()
        _sp["sp"] = await G.service_principals.post(ServicePrincipal(app_id=app.app_id))
    return _sp["sp"]


@check
async def create_service_principal():
    app = await server_app()
    sp = await server_sp()
    expect_known(sp, "POST /servicePrincipals")
    expect_eq(sp.app_id, app.app_id, "appId")
    expect_eq(sp.app_display_name, app.display_name, "appDisplayName")
    expect(app.app_id in sp.service_principal_names, f"servicePrincipalNames {sp.service_principal_names}")
    expect_eq([s.value for s in sp.oauth2_permission_scopes], ["user_impersonation"], "scopes")
    expect_eq(sp.app_owner_organization_id, uuid.UUID(T.tenant), "appOwnerOrganizationId")
    again = await G.service_principals_with_app_id(app.app_id).get()
    expect_eq(again.id, sp.id, "GET servicePrincipals(appId='…')")


@check
async def graph_service_principal_resolves_permissions():
    graph = await G.service_principals_with_app_id(GRAPH_APP_ID).get()
    expect_known(graph, "Microsoft Graph service principal")
    roles = {r.value: r.id for r in graph.app_roles}
    scopes = {s.value: s.id for s in graph.oauth2_permission_scopes}
    expect_eq(roles.get("Directory.Read.All"), uuid.UUID(DIRECTORY_READ_ALL_ROLE), "Directory.Read.All")
    expect_eq(scopes.get("User.Read"), uuid.UUID(USER_READ_SCOPE), "User.Read")
    _sp["graph"] = graph


@check
async def app_role_assigned_to():
    sp = await server_sp()
    graph = _sp.get("graph") or await G.service_principals_with_app_id(GRAPH_APP_ID).get()
    a = await G.service_principals.by_service_principal_id(graph.id).app_role_assigned_to.post(
        AppRoleAssignment(principal_id=uuid.UUID(sp.id), resource_id=uuid.UUID(graph.id),
                          app_role_id=uuid.UUID(DIRECTORY_READ_ALL_ROLE)))
    expect_known(a, "POST appRoleAssignedTo")
    expect_eq(a.principal_id, uuid.UUID(sp.id), "principalId")
    expect_eq(a.resource_id, uuid.UUID(graph.id), "resourceId")
    expect(a.principal_type == "ServicePrincipal", f"principalType {a.principal_type!r}")
    expect(isinstance(a.created_date_time, datetime.datetime), f"createdDateTime {a.created_date_time!r}")
    listed = await G.service_principals.by_service_principal_id(graph.id).app_role_assigned_to.get()
    expect_known(listed, "GET appRoleAssignedTo")
    expect(any(x.id == a.id for x in listed.value), "assignment listed on the resource")
    mine = await G.service_principals.by_service_principal_id(sp.id).app_role_assignments.get()
    expect(any(x.id == a.id for x in mine.value), "assignment listed on the principal")


@check
async def oauth2_permission_grant():
    sp = await server_sp()
    graph = _sp.get("graph") or await G.service_principals_with_app_id(GRAPH_APP_ID).get()
    g = await G.oauth2_permission_grants.post(OAuth2PermissionGrant(
        client_id=sp.id, consent_type="AllPrincipals", resource_id=graph.id, scope="User.Read"))
    expect_known(g, "POST /oauth2PermissionGrants")
    expect_eq((g.client_id, g.resource_id, g.scope), (sp.id, graph.id, "User.Read"), "grant")
    expect(g.principal_id is None, "AllPrincipals grant has no principalId")
    cfg = RequestConfiguration(query_parameters=(
        Oauth2PermissionGrantsRequestBuilder.Oauth2PermissionGrantsRequestBuilderGetQueryParameters(
            filter=f"clientId eq '{sp.id}'")))
    listed = await G.oauth2_permission_grants.get(request_configuration=cfg)
    expect_eq([x.id for x in listed.value], [g.id], "grants filtered by clientId")
    await G.oauth2_permission_grants.by_o_auth2_permission_grant_id(g.id).patch(
        OAuth2PermissionGrant(scope="User.Read openid"))
    got = await G.oauth2_permission_grants.by_o_auth2_permission_grant_id(g.id).get()
    expect_eq(got.scope, "User.Read openid", "scope after PATCH")


# --- errors the SDK turns into ODataError -----------------------------------------------------

def odata_error_fields(e: ODataError) -> dict:
    inner = e.error.inner_error if e.error else None
    return {
        "status": e.response_status_code,
        "code": e.error.code if e.error else None,
        "message": e.error.message if e.error else None,
        "request_id": getattr(inner, "request_id", None),
        "date": getattr(inner, "date", None),
        "headers": e.response_headers,
    }


@check
async def not_found_is_odata_error():
    try:
        await G.applications.by_application_id(str(uuid.uuid4())).get()
    except ODataError as e:
        f = odata_error_fields(e)
        expect_eq(f["status"], 404, "status")
        expect_eq(f["code"], "Request_ResourceNotFound", "error.code")
        expect(f["message"], "error.message")
        expect(f["request_id"], f"innerError.request-id: {f}")
        expect(isinstance(f["date"], datetime.datetime), f"innerError.date parsed: {f['date']!r}")
        return
    raise AssertionError("no ODataError for a missing application")


@check
async def duplicate_identifier_uri_is_odata_error():
    app = await server_app()
    try:
        await G.applications.post(Application(display_name=f"dup {RUN}",
                                              identifier_uris=list(app.identifier_uris)))
    except ODataError as e:
        f = odata_error_fields(e)
        expect_eq(f["status"], 400, "status")
        expect_eq(f["code"], "Request_BadRequest", "error.code")
        expect("identifierUris" in (f["message"] or ""), f"message: {f['message']}")
        return
    raise AssertionError("a duplicate identifierUri was accepted")


@check
async def insecure_identifier_uri_is_odata_error():
    try:
        await G.applications.post(Application(display_name=f"insecure {RUN}",
                                              identifier_uris=["https://ConfigMgrService"]))
    except ODataError as e:
        expect_eq(e.response_status_code, 400, "status")
        expect("aka.ms/identifier-uri-addition-error" in (e.error.message or ""), e.error.message)
        return
    raise AssertionError("an insecure identifierUri was accepted")


@check
async def throttled_429_retried_then_surfaced():
    if not T.faulty_url:
        raise AssertionError("COMGMT_FAULTY_URL not set (an emulator with faults rate=1,status=429)")
    cred = aio_secret_credential(T.faulty_url, T.faulty_tenant or T.tenant)
    try:
        g = graph_client(cred, url=T.faulty_url, scopes=[GRAPH_DEFAULT])
        cfg = RequestConfiguration(options=[RetryHandlerOption(delay=0, max_retries=1)])
        t0 = time.monotonic()
        try:
            await g.applications.get(request_configuration=cfg)
        except ODataError as e:
            waited = time.monotonic() - t0
            f = odata_error_fields(e)
            expect_eq(f["status"], 429, "status")
            expect_eq(f["code"], "TooManyRequests", "error.code")
            ra = {k.lower(): v for k, v in (f["headers"] or {}).items()}.get("retry-after")
            expect(ra is not None, f"Retry-After header: {f['headers']}")
            # The retry handler slept Retry-After seconds before its one retry.
            expect(waited >= float(next(iter(ra)) if isinstance(ra, (set, list)) else ra) * 0.9,
                   f"waited {waited:.2f}s, Retry-After {ra}")
            return
        raise AssertionError("no ODataError from an emulator that always throttles")
    finally:
        await cred.close()


# --- the SDK's defaults -----------------------------------------------------------------------

@check
async def default_scope_derived_from_host():
    """No scopes given: kiota derives `https://127.0.0.1/.default` from the request URL
    (kiota_authentication_azure/azure_identity_access_token_provider.py _resolve_scopes)."""
    cred = aio_secret_credential()
    try:
        g = graph_client(cred)
        org = await g.organization.get()
        expect_eq(str(org.value[0].id), T.tenant, "organization id")
    finally:
        await cred.close()


def cleanup():
    loop().run_until_complete(CRED.close())


if __name__ == "__main__":
    try:
        run("test_msgraph_sdk")
    finally:
        cleanup()
