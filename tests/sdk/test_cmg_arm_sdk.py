"""Microsoft's Python ARM SDKs against what the emulator's ARM deploys for a CMG (issue 7).

Same setup as test_arm_sdk.py (ClientSecretCredential with the emulator as authority,
`base_url` = the emulator, `credential_scopes` = ARM's `.default`, everything else the
SDKs' defaults: ARMPolling for long-running operations, the generated models, CloudError
mapping). The emulator under test is served with a short ARM delay (tests/tests/sdk.rs),
so each long-running operation is one or two polls (Retry-After: 1).

Packages: azure-mgmt-resource-deployments (DeploymentsMgmtClient — since
azure-mgmt-resource 26 deployments live there: begin_create_or_update polled to
Succeeded, get, begin_validate, deployment_operations.list), azure-mgmt-resource
(resources.list_by_resource_group),
azure-mgmt-compute (virtual_machine_scale_sets: get, begin_update of sku.capacity,
begin_deallocate, begin_start, get_instance_view), azure-mgmt-network
(public_ip_addresses.get), azure-mgmt-storage (storage_accounts.get_properties),
azure-mgmt-keyvault (vaults.get), azure-mgmt-authorization (role_definitions.list with
a roleName filter, role_assignments.create / list_for_scope / delete, the twin refused
with RoleAssignmentExists).

The helpers below repeat test_arm_sdk.py's few lines on purpose: importing that script
would register and run its checks too.
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True

import time
import uuid

import requests
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.identity import ClientSecretCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.authorization.models import RoleAssignmentCreateParameters
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.resource.deployments import DeploymentsMgmtClient
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resource.subscriptions import SubscriptionClient
from azure.mgmt.storage import StorageManagementClient

from common import check, expect, expect_eq, run, target

T = target()
ARM = T.url.rstrip("/")
ARM_DEFAULT = "https://management.azure.com/.default"
RUN = uuid.uuid4().hex[:8]
CRED = ClientSecretCredential(T.tenant, f"cmg-{RUN}", "cmg-secret", authority=T.host,
                              disable_instance_discovery=True)
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7cdc24c7c"
RG = f"sdk-cmg-{RUN}"
PREFIX = f"Cmg{RUN}"  # a letter first; lower-cased it is a storage account name
DEPLOYMENT = f"CMG-{PREFIX}"


def mgmt(cls, *args, **kw):
    return cls(CRED, *args, base_url=ARM, credential_scopes=[ARM_DEFAULT], **kw)


_sub: dict = {}


def sub() -> str:
    if "id" not in _sub:
        _sub["id"] = next(iter(mgmt(SubscriptionClient).subscriptions.list())).subscription_id
    return _sub["id"]


def unknown_properties(obj, path="") -> list[str]:
    """Properties in a payload the SDK's (hybrid) models do not declare."""
    out = []
    fields = getattr(type(obj), "_attr_to_rest_field", None)
    if fields is not None:
        known = {rf._rest_name for rf in fields.values()}
        out += [f"{path}{type(obj).__name__}.{k}" for k in obj.keys() if k not in known]
        for attr in fields:
            out += unknown_properties(getattr(obj, attr, None), f"{path}{attr}.")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += unknown_properties(v, f"{path}[{i}].")
    return out


def expect_known(obj, what: str) -> None:
    u = unknown_properties(obj)
    expect(not u, f"{what}: properties the SDK does not know: {u}")


def raises(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the caller checks the type
        return e
    raise AssertionError("expected an error, the call succeeded")


def expect_error(exc, cls, status: int, code: str, what: str) -> None:
    expect(isinstance(exc, cls), f"{what}: expected {cls.__name__}, got {type(exc).__name__}: {exc}")
    expect_eq(exc.status_code, status, f"{what}: status")
    expect(exc.error is not None, f"{what}: the SDK parsed no ARM error body: {exc}")
    expect_eq(exc.error.code, code, f"{what}: error.code")


def template() -> dict:
    """A CMG-like template (the product's own is not published: UNCONFIRMED shape)."""
    return {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"prefix": {"type": "string"}, "instances": {"type": "int", "defaultValue": 2}},
        "variables": {"label": "[toLower(parameters('prefix'))]"},
        "resources": [
            {"type": "Microsoft.KeyVault/vaults", "apiVersion": "2023-07-01",
             "name": "[parameters('prefix')]", "location": "[resourceGroup().location]",
             "properties": {"tenantId": "[subscription().tenantId]",
                            "sku": {"family": "A", "name": "standard"}, "accessPolicies": []}},
            {"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-05-01",
             "name": "[variables('label')]", "location": "[resourceGroup().location]",
             "kind": "StorageV2", "sku": {"name": "Standard_LRS"}},
            {"type": "Microsoft.Network/publicIPAddresses", "apiVersion": "2024-05-01",
             "name": "[parameters('prefix')]", "location": "[resourceGroup().location]",
             "sku": {"name": "Standard"},
             "properties": {"publicIPAllocationMethod": "Static",
                            "dnsSettings": {"domainNameLabel": "[variables('label')]"}}},
            {"type": "Microsoft.Compute/virtualMachineScaleSets", "apiVersion": "2024-07-01",
             "name": "[parameters('prefix')]", "location": "[resourceGroup().location]",
             "sku": {"name": "Standard_B2s", "tier": "Standard", "capacity": "[parameters('instances')]"},
             "properties": {"upgradePolicy": {"mode": "Manual"}}},
        ],
    }


def deployment_body() -> dict:
    return {"properties": {"mode": "Incremental", "template": template(),
                           "parameters": {"prefix": {"value": PREFIX}}}}


# --- deployments --------------------------------------------------------------------------------

@check
def deployment_runs_to_succeeded():
    """deployments.begin_create_or_update: Accepted, ARMPolling on Azure-AsyncOperation to Succeeded."""
    mgmt(ResourceManagementClient, sub()).resource_groups.create_or_update(RG, {"location": "westus"})
    rm = mgmt(DeploymentsMgmtClient, sub())
    v = rm.deployments.begin_validate(RG, DEPLOYMENT, deployment_body()).result()
    expect_known(v, "DeploymentValidateResult")
    expect_eq(len(v.properties.validated_resources), 4, "validatedResources")
    t0 = time.monotonic()
    poller = rm.deployments.begin_create_or_update(RG, DEPLOYMENT, deployment_body())
    d = poller.result(timeout=60)
    expect(time.monotonic() - t0 < 20, "the deployment took too long: Retry-After not honoured?")
    expect_known(d, "DeploymentExtended")
    expect_eq(d.properties.provisioning_state, "Succeeded", "provisioningState")
    expect_eq(d.name, DEPLOYMENT, "name")
    expect_eq(len(d.properties.output_resources), 4, "outputResources")
    got = rm.deployments.get(RG, DEPLOYMENT)
    expect_eq(got.properties.provisioning_state, "Succeeded", "get: provisioningState")
    expect_eq(got.properties.parameters["prefix"]["value"], PREFIX, "get: parameters")
    ops = list(rm.deployment_operations.list(RG, DEPLOYMENT))
    for o in ops:
        expect_known(o, "DeploymentOperation")
    expect_eq(sorted(o.properties.target_resource.resource_type for o in ops),
              ["Microsoft.Compute/virtualMachineScaleSets", "Microsoft.KeyVault/vaults",
               "Microsoft.Network/publicIPAddresses", "Microsoft.Storage/storageAccounts"],
              "operations' target types")
    expect(all(o.properties.provisioning_state == "Succeeded" for o in ops), "operations succeeded")
    listed = list(mgmt(ResourceManagementClient, sub()).resources.list_by_resource_group(RG))
    for r in listed:
        expect_known(r, "GenericResourceExpanded")
    expect_eq(len(listed), 4, f"resources in the group: {[r.name for r in listed]}")


@check
def missing_deployment_and_bad_template():
    """deployments.get of a missing one → 404 DeploymentNotFound; an unknown function → 400 InvalidTemplate."""
    rm = mgmt(DeploymentsMgmtClient, sub())
    e = raises(lambda: rm.deployments.get(RG, "nosuch"))
    expect_error(e, ResourceNotFoundError, 404, "DeploymentNotFound", "deployments.get")
    body = {"properties": {"mode": "Incremental", "template": {
        "resources": [{"type": "Microsoft.KeyVault/vaults", "name": "[reference('x')]"}]}}}
    e = raises(lambda: rm.deployments.begin_create_or_update(RG, "bad", body).result())
    expect_error(e, HttpResponseError, 400, "InvalidTemplate", "begin_create_or_update")


# --- the deployed resources ---------------------------------------------------------------------

@check
def public_ip_key_vault_storage_account():
    """public_ip_addresses.get, vaults.get, storage_accounts.get_properties at the SDKs' api-versions."""
    ip = mgmt(NetworkManagementClient, sub()).public_ip_addresses.get(RG, PREFIX)
    expect_known(ip, "PublicIPAddress")
    label = PREFIX.lower()
    expect_eq(ip.dns_settings.domain_name_label, label, "domainNameLabel")
    expect_eq(ip.dns_settings.fqdn, f"{label}.westus.cloudapp.azure.com", "fqdn")
    expect_eq(ip.public_ip_allocation_method, "Static", "allocation")
    expect_eq(ip.sku.name, "Standard", "sku")
    expect(bool(ip.ip_address), "ipAddress")
    kv = mgmt(KeyVaultManagementClient, sub()).vaults.get(RG, PREFIX)
    expect_known(kv, "Vault")
    expect_eq(kv.properties.vault_uri, f"https://{label}.vault.azure.net/", "vaultUri")
    expect_eq(kv.properties.tenant_id, T.tenant, "tenantId")
    st = mgmt(StorageManagementClient, sub()).storage_accounts.get_properties(RG, label)
    expect_known(st, "StorageAccount")
    expect_eq(st.primary_endpoints.blob, f"https://{label}.blob.core.windows.net/", "blob endpoint")
    expect_eq(st.provisioning_state, "Succeeded", "provisioningState")
    e = raises(lambda: mgmt(NetworkManagementClient, sub()).public_ip_addresses.get(RG, "nosuch"))
    expect_error(e, ResourceNotFoundError, 404, "ResourceNotFound", "public_ip_addresses.get")


@check
def scale_set_scale_deallocate_start():
    """virtual_machine_scale_sets: get, begin_update(sku.capacity), begin_deallocate, begin_start, instance view."""
    c = mgmt(ComputeManagementClient, sub())
    s = c.virtual_machine_scale_sets.get(RG, PREFIX)
    expect_known(s, "VirtualMachineScaleSet")
    expect_eq(s.sku.capacity, 2, "capacity")
    expect_eq(s.provisioning_state, "Succeeded", "provisioningState")
    s = c.virtual_machine_scale_sets.begin_update(RG, PREFIX, {"sku": {"capacity": 3}}).result(timeout=60)
    expect_eq(s.sku.capacity, 3, "capacity after update")
    expect_eq(s.provisioning_state, "Succeeded", "provisioningState after update")

    def power():
        iv = c.virtual_machine_scale_sets.get_instance_view(RG, PREFIX)
        expect_known(iv, "VirtualMachineScaleSetInstanceView")
        return [x.code for x in iv.virtual_machine.statuses_summary if x.code.startswith("PowerState/")]

    c.virtual_machine_scale_sets.begin_deallocate(RG, PREFIX).result(timeout=60)
    expect_eq(power(), ["PowerState/deallocated"], "after deallocate")
    c.virtual_machine_scale_sets.begin_start(RG, PREFIX).result(timeout=60)
    expect_eq(power(), ["PowerState/running"], "after start")


# --- role assignments ---------------------------------------------------------------------------

def service_principal() -> str:
    """A service principal in the emulator's Graph (over plain HTTP with a Graph token)."""
    tok = CRED.get_token("https://graph.microsoft.com/.default").token
    h = {"Authorization": f"Bearer {tok}"}
    app = requests.post(f"{T.graph}/applications", json={"displayName": f"cmg server {RUN}"},
                        headers=h, timeout=30)
    app.raise_for_status()
    sp = requests.post(f"{T.graph}/servicePrincipals", json={"appId": app.json()["appId"]},
                       headers=h, timeout=30)
    sp.raise_for_status()
    return sp.json()["id"]


@check
def role_assignment_create_list_twin_delete():
    """role_assignments.create (201, again 200), the twin 409 RoleAssignmentExists, list_for_scope, delete."""
    auth = mgmt(AuthorizationManagementClient, sub())
    scope = f"/subscriptions/{sub()}/resourceGroups/{RG}"
    defs = list(auth.role_definitions.list(scope, filter="roleName eq 'Contributor'"))
    expect_eq([d.name for d in defs], [CONTRIBUTOR], "Contributor's id")
    oid = service_principal()
    params = RoleAssignmentCreateParameters(role_definition_id=defs[0].id, principal_id=oid,
                                            principal_type="ServicePrincipal")
    name = str(uuid.uuid4())
    a = auth.role_assignments.create(scope, name, params)
    expect_eq(a.principal_id, oid, "principalId")
    expect_eq(a.scope, scope, "scope")
    expect_eq(a.role_definition_id.rsplit("/", 1)[-1], CONTRIBUTOR, "roleDefinitionId")
    again = auth.role_assignments.create(scope, name, params)
    expect_eq(again.id, a.id, "the same PUT again")
    e = raises(lambda: auth.role_assignments.create(scope, str(uuid.uuid4()), params))
    expect_error(e, ResourceExistsError, 409, "RoleAssignmentExists", "twin")
    mine = list(auth.role_assignments.list_for_scope(scope, filter=f"principalId eq '{oid}'"))
    expect_eq([x.name for x in mine], [name], "list_for_scope by principalId")
    at = list(auth.role_assignments.list_for_scope(f"/subscriptions/{sub()}", filter="atScope()"))
    expect(name not in [x.name for x in at], "atScope() at the subscription lists the group's")
    ghost = RoleAssignmentCreateParameters(role_definition_id=defs[0].id,
                                           principal_id=str(uuid.uuid4()), principal_type="ServicePrincipal")
    e = raises(lambda: auth.role_assignments.create(scope, str(uuid.uuid4()), ghost))
    expect_error(e, HttpResponseError, 400, "PrincipalNotFound", "unknown principal")
    gone = auth.role_assignments.delete(scope, name)
    expect_eq(gone.name, name, "delete answers the assignment")
    expect_eq(list(auth.role_assignments.list_for_scope(scope, filter=f"principalId eq '{oid}'")), [],
              "after delete")


if __name__ == "__main__":
    run("test_cmg_arm_sdk")
