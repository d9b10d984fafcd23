"""Microsoft's Python ARM SDKs + azure-identity against the emulator's Azure Resource Manager.

The management clients are pointed at the emulator the documented way for a private
cloud: `base_url` = the emulator, `credential_scopes=["https://management.azure.com/.default"]`
(what the clients default to for the public cloud), and an azure-identity
ClientSecretCredential whose `authority` is the emulator's host:port with
`disable_instance_discovery=True`. Everything else is the SDKs' defaults: azure-core's
pipeline (ARMChallengeAuthenticationPolicy, retry honouring Retry-After, ARM's
auto-registration policy), ARMPolling for long-running operations, the generated models'
(de)serialisers and CloudError mapping. A payload the SDK cannot parse, or a property its
models do not know, fails here.

Packages: azure-mgmt-resource (ResourceManagementClient: resource groups, providers),
azure-mgmt-resource-subscriptions (SubscriptionClient), azure-mgmt-storage,
azure-mgmt-keyvault and azure-mgmt-network (the three name checks of the CMG wizard).

TLS trust: REQUESTS_CA_BUNDLE (requests) and SSL_CERT_FILE (aiohttp), set by common.target().
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True  # keep tests/sdk free of __pycache__ when run by hand

import re
import time
import uuid

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
)
from azure.identity import ClientSecretCredential
from azure.identity.aio import ClientSecretCredential as AioClientSecretCredential
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.keyvault.models import VaultCheckNameAvailabilityParameters
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resource.resources.aio import ResourceManagementClient as AioResourceManagementClient
from azure.mgmt.resource.resources.models import ResourceGroup, ResourceGroupPatchable
from azure.mgmt.resource.subscriptions import SubscriptionClient
from azure.mgmt.storage import StorageManagementClient
from azure.mgmt.storage.models import StorageAccountCheckNameAvailabilityParameters

from common import check, expect, expect_eq, run, target

T = target()
ARM = T.url.rstrip("/")  # as the SDKs' own default, "https://management.azure.com"
ARM_DEFAULT = "https://management.azure.com/.default"
GRAPH_DEFAULT = "https://graph.microsoft.com/.default"
RUN = uuid.uuid4().hex[:8]
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# The emulator's seeded taken names (emulator/src/seed.rs).
TAKEN_DNS = [("westus", "takendns"), ("eastus", "contosocmg")]
TAKEN_STORAGE = ["takenstorage", "contosocmgstore"]
TAKEN_VAULTS = ["takenvault", "contoso-vault"]


def credential(url: str = T.url, tenant: str = T.tenant) -> ClientSecretCredential:
    host = url.split("://", 1)[1].rstrip("/")
    return ClientSecretCredential(
        tenant, f"arm-{RUN}", "arm-secret", authority=host, disable_instance_discovery=True)


CRED = credential()


def mgmt(cls, *args, scopes=None, base_url: str = ARM, cred=None, **kw):
    """A management client on the emulator, as a user points one at a private cloud."""
    return cls(cred or CRED, *args, base_url=base_url,
               credential_scopes=scopes or [ARM_DEFAULT], **kw)


SUBS = mgmt(SubscriptionClient)
_sub: dict = {}


def subscription_id() -> str:
    if "id" not in _sub:
        _sub["id"] = next(iter(SUBS.subscriptions.list())).subscription_id
    return _sub["id"]


def rm(**kw) -> ResourceManagementClient:
    return mgmt(ResourceManagementClient, subscription_id(), **kw)


def unknown_properties(obj, path="") -> list[str]:
    """Properties in the payload the SDK's (hybrid) models do not declare.

    A model keeps the raw JSON as its mapping; `_attr_to_rest_field` holds what it knows.
    """
    out = []
    fields = getattr(type(obj), "_attr_to_rest_field", None)
    if fields is not None:
        known = {rf._rest_name for rf in fields.values()}
        for k in obj.keys():
            if k not in known:
                out.append(f"{path}{type(obj).__name__}.{k}")
        for attr in fields:
            out += unknown_properties(getattr(obj, attr, None), f"{path}{attr}.")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += unknown_properties(v, f"{path}[{i}].")
    return out


def expect_known(obj, what: str) -> None:
    u = unknown_properties(obj)
    expect(not u, f"{what}: properties the SDK does not know: {u}")


def status_of(pipeline_response, deserialized, headers):
    """A `cls=` hook: the HTTP status with the deserialised result."""
    return pipeline_response.http_response.status_code, deserialized


def expect_error(exc, cls, status: int, code: str, what: str) -> None:
    expect(isinstance(exc, cls), f"{what}: expected {cls.__name__}, got {type(exc).__name__}: {exc}")
    expect_eq(exc.status_code, status, f"{what}: status")
    expect(exc.error is not None, f"{what}: the SDK parsed no ARM error body: {exc}")
    expect_eq(exc.error.code, code, f"{what}: error.code")
    expect(bool(exc.error.message), f"{what}: error.message is empty")


def raises(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the caller checks the type
        return e
    raise AssertionError("expected an error, the call succeeded")


def group_name(label: str) -> str:
    return f"sdk-{label}-{RUN}"


# --- azure-identity -----------------------------------------------------------------------------

@check
def arm_token_from_client_secret_credential():
    """ClientSecretCredential gets a token for ARM's `.default` scope from the emulator."""
    tok = CRED.get_token(ARM_DEFAULT)
    expect(tok.token.count(".") == 2, "token is a JWT")
    expect(tok.expires_on > time.time() + 300, f"expires_on {tok.expires_on}")


# --- subscriptions ------------------------------------------------------------------------------

@check
def subscriptions_list_and_get():
    """SubscriptionClient.subscriptions.list / get: the tenant's one subscription."""
    subs = list(SUBS.subscriptions.list())
    expect_eq(len(subs), 1, "subscriptions listed")
    s = subs[0]
    expect_known(s, "Subscription (list)")
    expect(GUID.match(s.subscription_id or "") is not None, f"subscriptionId {s.subscription_id!r}")
    expect_eq(s.id, f"/subscriptions/{s.subscription_id}", "id")
    expect_eq(s.tenant_id, T.tenant, "tenantId")
    expect_eq(s.state, "Enabled", "state")
    expect(bool(s.display_name), "displayName is empty")
    expect(s.subscription_policies is not None and bool(s.subscription_policies.quota_id),
           f"subscriptionPolicies {s.subscription_policies!r}")
    one = SUBS.subscriptions.get(s.subscription_id)
    expect_known(one, "Subscription (get)")
    expect_eq(one.subscription_id, s.subscription_id, "get: subscriptionId")
    expect_eq(one.display_name, s.display_name, "get: displayName")


@check
def unknown_subscription_is_subscription_not_found():
    """A subscription id the tenant does not have: 404 SubscriptionNotFound."""
    other = str(uuid.uuid4())
    e = raises(lambda: SUBS.subscriptions.get(other))
    expect_error(e, ResourceNotFoundError, 404, "SubscriptionNotFound", "subscriptions.get")
    client = mgmt(ResourceManagementClient, other)
    e = raises(lambda: client.resource_groups.get(group_name("x")))
    expect_error(e, ResourceNotFoundError, 404, "SubscriptionNotFound", "resource_groups.get")


# --- resource groups ----------------------------------------------------------------------------

@check
def resource_group_create_then_update():
    """resource_groups.create_or_update: 201 then 200; location in ARM's short form, tags, Succeeded."""
    c = rm()
    name = group_name("rg")
    status, rg = c.resource_groups.create_or_update(
        name, ResourceGroup(location="West US", tags={"owner": "sdk", "run": RUN}), cls=status_of)
    expect_eq(status, 201, "create: status")
    expect_known(rg, "ResourceGroup (create)")
    expect_eq(rg.name, name, "name")
    expect_eq(rg.id, f"/subscriptions/{subscription_id()}/resourceGroups/{name}", "id")
    expect_eq(rg.type, "Microsoft.Resources/resourceGroups", "type")
    expect_eq(rg.location, "westus", "location")
    expect_eq(rg.tags, {"owner": "sdk", "run": RUN}, "tags")
    expect(rg.properties is not None, "properties missing")
    expect_eq(rg.properties.provisioning_state, "Succeeded", "provisioningState")
    # The same again (a dict body this time): an update, 200, tags replaced.
    status, rg = c.resource_groups.create_or_update(
        name, {"location": "westus", "tags": {"owner": "sdk2"}}, cls=status_of)
    expect_eq(status, 200, "update: status")
    expect_eq(rg.tags, {"owner": "sdk2"}, "update: tags")
    expect_eq(rg.location, "westus", "update: location")


@check
def resource_group_get_and_check_existence():
    """get (names are case-insensitive), check_existence: HEAD 204 → True, 404 → False."""
    c = rm()
    name = group_name("rg")
    rg = c.resource_groups.get(name)
    expect_known(rg, "ResourceGroup (get)")
    expect_eq(rg.name, name, "get: name")
    expect_eq(rg.properties.provisioning_state, "Succeeded", "get: provisioningState")
    rg = c.resource_groups.get(name.upper())
    expect_eq(rg.name, name, "get by upper-case name: the name keeps its case")
    expect_eq(c.resource_groups.check_existence(name), True, "check_existence (existing)")
    expect_eq(c.resource_groups.check_existence(group_name("missing")), False,
              "check_existence (missing)")


@check
def resource_group_list():
    """resource_groups.list pages the subscription's groups."""
    c = rm()
    groups = list(c.resource_groups.list())
    for g in groups:
        expect_known(g, f"ResourceGroup (list) {g.name}")
    names = [g.name for g in groups]
    expect(group_name("rg") in names, f"{group_name('rg')} not listed: {names}")


@check
def resource_group_other_location_is_conflict():
    """create_or_update in another location: 409 InvalidResourceGroupLocation → ResourceExistsError."""
    c = rm()
    e = raises(lambda: c.resource_groups.create_or_update(group_name("rg"), {"location": "eastus"}))
    expect_error(e, ResourceExistsError, 409, "InvalidResourceGroupLocation", "create_or_update")


@check
def resource_group_without_location_is_refused():
    """A group without a location: 400 LocationRequired → HttpResponseError."""
    c = rm()
    e = raises(lambda: c.resource_groups.create_or_update(group_name("noloc"), {"tags": {}}))
    expect_error(e, HttpResponseError, 400, "LocationRequired", "create_or_update")


@check
def unknown_resource_group_is_not_found():
    """get of a missing group: 404 CloudError ResourceGroupNotFound → ResourceNotFoundError."""
    c = rm()
    e = raises(lambda: c.resource_groups.get(group_name("missing")))
    expect_error(e, ResourceNotFoundError, 404, "ResourceGroupNotFound", "resource_groups.get")
    expect(group_name("missing") in e.error.message, f"message names the group: {e.error.message}")
    e = raises(lambda: c.resource_groups.begin_delete(group_name("missing")))
    expect_error(e, ResourceNotFoundError, 404, "ResourceGroupNotFound", "begin_delete")


@check
def resource_group_begin_delete_follows_the_operation():
    """begin_delete: 202 + Location; ARMPolling follows it (Retry-After) to the end; the group is gone."""
    c = rm()
    name = group_name("del")
    c.resource_groups.create_or_update(name, {"location": "westus"})
    t0 = time.monotonic()
    poller = c.resource_groups.begin_delete(name)
    expect(not poller.done(), "the delete finished at once: no long-running operation to follow")
    rg = c.resource_groups.get(name)
    expect_eq(rg.properties.provisioning_state, "Deleting", "provisioningState while deleting")
    e = raises(lambda: c.resource_groups.create_or_update(name, {"location": "westus"}))
    expect_error(e, ResourceExistsError, 409, "ResourceGroupBeingDeleted", "create while deleting")
    expect_eq(poller.result(timeout=60), None, "result")
    took = time.monotonic() - t0
    expect(poller.done(), "poller not done after result()")
    expect_eq(poller.status(), "Succeeded", "poller status")
    # Retry-After: 1 (not the client's 30 s default interval).
    expect(took < 20, f"the delete took {took:.1f} s: Retry-After not honoured?")
    expect_eq(c.resource_groups.check_existence(name), False, "check_existence after delete")
    e = raises(lambda: c.resource_groups.get(name))
    expect_error(e, ResourceNotFoundError, 404, "ResourceGroupNotFound", "get after delete")
    names = [g.name for g in c.resource_groups.list()]
    expect(name not in names, f"{name} still listed: {names}")


@check
def resource_group_update_patches_tags():
    """resource_groups.update (PATCH) replaces the tags and keeps the location."""
    c = rm()
    name = group_name("rg")
    rg = c.resource_groups.update(name, ResourceGroupPatchable(tags={"patched": "yes"}))
    expect_known(rg, "ResourceGroup (update)")
    expect_eq(rg.tags, {"patched": "yes"}, "tags")
    expect_eq(rg.location, "westus", "location")
    expect_eq(c.resource_groups.get(name).tags, {"patched": "yes"}, "tags on a later get")


@check
async def aio_client_create_list_delete():
    """The aio ResourceManagementClient (aiohttp) with azure.identity.aio: create, list, begin_delete."""
    cred = AioClientSecretCredential(T.tenant, f"arm-aio-{RUN}", "s", authority=T.host,
                                     disable_instance_discovery=True)
    name = group_name("aio")
    async with cred, AioResourceManagementClient(
            cred, subscription_id(), base_url=ARM, credential_scopes=[ARM_DEFAULT]) as c:
        rg = await c.resource_groups.create_or_update(name, {"location": "eastus", "tags": {"a": "1"}})
        expect_eq(rg.properties.provisioning_state, "Succeeded", "provisioningState")
        names = [g.name async for g in c.resource_groups.list()]
        expect(name in names, f"{name} not listed: {names}")
        poller = await c.resource_groups.begin_delete(name)
        await poller.result()
        expect_eq(poller.status(), "Succeeded", "poller status")
        expect_eq(await c.resource_groups.check_existence(name), False, "check_existence after delete")


# --- resource providers -------------------------------------------------------------------------

@check
def providers_get_and_list():
    """providers.get / list: Microsoft.Resources is Registered, others start NotRegistered."""
    c = rm()
    p = c.providers.get("Microsoft.Resources")
    expect_known(p, "Provider (get)")
    expect_eq(p.namespace, "Microsoft.Resources", "namespace")
    expect_eq(p.registration_state, "Registered", "Microsoft.Resources registrationState")
    expect_eq(p.id, f"/subscriptions/{subscription_id()}/providers/Microsoft.Resources", "id")
    expect("resourceGroups" in [t.resource_type for t in p.resource_types or []],
           f"resourceTypes {p.resource_types!r}")
    p = c.providers.get("microsoft.keyvault")
    expect_eq(p.namespace, "Microsoft.KeyVault", "namespace keeps ARM's case")
    expect_eq(p.registration_state, "NotRegistered", "Microsoft.KeyVault registrationState")
    listed = {x.namespace: x for x in c.providers.list()}
    for x in listed.values():
        expect_known(x, f"Provider (list) {x.namespace}")
    for ns in ("Microsoft.Resources", "Microsoft.Network", "Microsoft.Storage", "Microsoft.KeyVault"):
        expect(ns in listed, f"{ns} not listed: {sorted(listed)}")


@check
def provider_register_then_poll_until_registered():
    """providers.register → Registering; providers.get polled until Registered."""
    c = rm()
    p = c.providers.register("Microsoft.Compute")
    expect_known(p, "Provider (register)")
    expect_eq(p.namespace, "Microsoft.Compute", "namespace")
    expect(p.registration_state in ("Registering", "Registered"),
           f"registrationState after register: {p.registration_state!r}")
    states = [p.registration_state]
    for _ in range(10):
        if states[-1] == "Registered":
            break
        time.sleep(0.2)
        states.append(c.providers.get("Microsoft.Compute").registration_state)
    expect_eq(states[-1], "Registered", f"registrationState after polling (seen {states})")
    again = c.providers.register("Microsoft.Compute")
    expect_eq(again.registration_state, "Registered", "register when already registered")


@check
def unknown_provider_namespace():
    """providers.get of an unknown namespace: 404 InvalidResourceNamespace."""
    c = rm()
    e = raises(lambda: c.providers.get(f"Contoso.Nothing{RUN}"))
    expect_error(e, ResourceNotFoundError, 404, "InvalidResourceNamespace", "providers.get")


# --- tokens ARM refuses -------------------------------------------------------------------------

@check
def graph_token_is_refused_by_arm():
    """A Graph-audience token (credential_scopes forced to Graph): 401 InvalidAuthenticationTokenAudience."""
    c = rm(scopes=[GRAPH_DEFAULT])
    e = raises(lambda: list(c.resource_groups.list()))
    expect_error(e, ClientAuthenticationError, 401, "InvalidAuthenticationTokenAudience",
                 "resource_groups.list with a Graph token")
    challenge = e.response.headers.get("WWW-Authenticate", "")
    expect(challenge.startswith("Bearer "), f"WWW-Authenticate {challenge!r}")
    expect('error="invalid_token"' in challenge, f"WWW-Authenticate {challenge!r}")


@check
def management_core_audience_is_accepted():
    """The classic ARM audience https://management.core.windows.net/ is accepted too."""
    c = rm(scopes=["https://management.core.windows.net//.default"])
    names = [g.name for g in c.resource_groups.list()]
    expect(group_name("rg") in names, f"{group_name('rg')} not listed: {names}")


@check
def throttled_arm_is_retried_after_retry_after_then_raised():
    """429 TooManyRequests with Retry-After: azure-core retries after it, then raises the CloudError."""
    expect(bool(T.faulty_url and T.faulty_tenant), "COMGMT_FAULTY_URL / COMGMT_FAULTY_TENANT_ID not set")
    seen = []

    def hook(response):
        seen.append(response.http_response.status_code)

    cred = credential(T.faulty_url, T.faulty_tenant)
    c = mgmt(ResourceManagementClient, str(uuid.uuid4()), base_url=T.faulty_url.rstrip("/"),
             cred=cred, retry_total=2, raw_response_hook=hook)
    t0 = time.monotonic()
    e = raises(lambda: c.resource_groups.get(group_name("rg")))
    took = time.monotonic() - t0
    expect_error(e, HttpResponseError, 429, "TooManyRequests", "throttled get")
    expect_eq(seen, [429, 429, 429], "responses seen (1 try + 2 retries)")
    expect(e.response.headers.get("Retry-After") == "1", f"Retry-After {e.response.headers}")
    expect(took >= 1.9, f"retried after {took:.1f} s: Retry-After: 1 not waited")


# --- the CMG wizard's name checks ---------------------------------------------------------------

@check
def storage_account_name_check():
    """StorageManagementClient.storage_accounts.check_name_availability: taken, free, invalid."""
    c = mgmt(StorageManagementClient, subscription_id())
    for name in TAKEN_STORAGE:
        r = c.storage_accounts.check_name_availability(
            StorageAccountCheckNameAvailabilityParameters(name=name))
        expect_known(r, f"CheckNameAvailabilityResult ({name})")
        expect_eq(r.name_available, False, f"{name}: nameAvailable")
        expect_eq(r.reason, "AlreadyExists", f"{name}: reason")
        expect(name in (r.message or ""), f"{name}: message {r.message!r}")
    free = f"sdkfree{RUN}"
    r = c.storage_accounts.check_name_availability(
        StorageAccountCheckNameAvailabilityParameters(name=free))
    expect_eq(r.name_available, True, f"{free}: nameAvailable")
    expect(r.reason is None, f"{free}: reason {r.reason!r}")
    r = c.storage_accounts.check_name_availability(
        {"name": "Not-Valid", "type": "Microsoft.Storage/storageAccounts"})
    expect_eq(r.name_available, False, "Not-Valid: nameAvailable")
    expect_eq(r.reason, "AccountNameInvalid", "Not-Valid: reason")


@check
def key_vault_name_check():
    """KeyVaultManagementClient.vaults.check_name_availability: taken, free, invalid."""
    c = mgmt(KeyVaultManagementClient, subscription_id())
    for name in TAKEN_VAULTS + ["TakenVault"]:
        r = c.vaults.check_name_availability(VaultCheckNameAvailabilityParameters(name=name))
        expect_known(r, f"CheckNameAvailabilityResult ({name})")
        expect_eq(r.name_available, False, f"{name}: nameAvailable")
        expect_eq(r.reason, "AlreadyExists", f"{name}: reason")
    free = f"sdk-free-{RUN}"
    r = c.vaults.check_name_availability(VaultCheckNameAvailabilityParameters(name=free))
    expect_eq(r.name_available, True, f"{free}: nameAvailable")
    r = c.vaults.check_name_availability(VaultCheckNameAvailabilityParameters(name="no--double"))
    expect_eq(r.name_available, False, "no--double: nameAvailable")
    expect_eq(r.reason, "AccountNameInvalid", "no--double: reason")


@check
def public_ip_dns_label_check():
    """NetworkManagementClient.check_dns_name_availability: labels are per region."""
    c = mgmt(NetworkManagementClient, subscription_id())
    for region, label in TAKEN_DNS:
        r = c.check_dns_name_availability(region, domain_name_label=label)
        expect_known(r, f"DnsNameAvailabilityResult ({region}/{label})")
        expect_eq(r.available, False, f"{region}/{label}: available")
    r = c.check_dns_name_availability("eastus", domain_name_label="takendns")
    expect_eq(r.available, True, "eastus/takendns (taken only in westus): available")
    r = c.check_dns_name_availability("westus", domain_name_label=f"sdk-free-{RUN}")
    expect_eq(r.available, True, "a free label: available")
    e = raises(lambda: c.check_dns_name_availability("westus", domain_name_label="1-bad"))
    expect(isinstance(e, HttpResponseError), f"an invalid label: {type(e).__name__}: {e}")
    expect_eq(e.status_code, 400, "an invalid label: status")


# --- clean up -----------------------------------------------------------------------------------

@check
def cleanup_deletes_the_group():
    """The group the checks made is deleted the SDK way (begin_delete + wait)."""
    c = rm()
    c.resource_groups.begin_delete(group_name("rg")).wait(timeout=60)
    expect_eq(c.resource_groups.check_existence(group_name("rg")), False, "check_existence")


if __name__ == "__main__":
    run("test_arm_sdk")
