#!/usr/bin/env bash
# Create tests/sdk/.venv with Microsoft's Python SDKs (requirements.txt) for the SDK
# conformance test (tests/tests/sdk.rs). Idempotent: does nothing when the venv already
# matches requirements.txt. Quiet unless something fails.
#
#   tests/sdk/setup.sh            # uses python3 (3.10+, as the azure-mgmt-* packages need)
#   PYTHON=python3.12 tests/sdk/setup.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
req="$here/requirements.txt"
stamp="$venv/.requirements.sha256"
python="${PYTHON:-python3}"

want="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] &&
    "$venv/bin/python" -c "import msal, msgraph, azure.identity, azure.mgmt.resource.resources" 2>/dev/null; then
    exit 0
fi

# A fresh Debian/Ubuntu CI machine (root) may lack python3 or its venv module.
if ! command -v "$python" >/dev/null 2>&1 || ! "$python" -c "import venv, ensurepip" 2>/dev/null; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
        python=python3
    else
        echo "setup.sh: need $python with the venv module (Debian: apt-get install python3-venv)" >&2
        exit 1
    fi
fi

# The azure-mgmt-* packages declare Requires-Python >=3.10; say so rather than let pip
# report that no version of them exists.
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "setup.sh: $python is $("$python" -V 2>&1); the SDKs need Python 3.10+ (set PYTHON=...)" >&2
    exit 1
fi

rm -rf "$venv"
"$python" -m venv "$venv"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    -r "$req" >"$log" 2>&1; then
    cat "$log" >&2
    echo "setup.sh: pip install -r $req failed" >&2
    exit 1
fi
"$venv/bin/python" -c "import msal, msgraph, azure.identity, kiota_http, cryptography, requests, \
azure.mgmt.resource.resources, azure.mgmt.resource.subscriptions, azure.mgmt.storage, \
azure.mgmt.keyvault, azure.mgmt.network, azure.mgmt.compute, azure.mgmt.authorization, azure.mgmt.resource.deployments"
echo "$want" >"$stamp"
