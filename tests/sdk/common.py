"""Shared helpers for the SDK conformance scripts.

Every script reads where the emulator is from the environment (or argv, see `target()`),
runs a list of checks, and exits 0 only when every check passed. A check that hits a
known, reported emulator discrepancy is declared with `@known_discrepancy("D<n>: ...")`:
it is then expected to fail; if it passes, the run fails too ("unexpectedly passed"),
so the marker is removed as soon as the emulator is fixed.

Environment:
    COMGMT_EMULATOR_URL   base URL with a trailing slash, e.g. https://127.0.0.1:41234/
    COMGMT_TENANT_ID      the emulated tenant's id
    COMGMT_CA_BUNDLE      PEM file with the emulator's CA certificate
    COMGMT_FAULTY_URL     (optional) an emulator answering every Graph request with 429
    COMGMT_FAULTY_TENANT_ID
    COMGMT_SDK_WORKDIR    (optional) a scratch directory (certificates are written there)
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import traceback
import uuid
from dataclasses import dataclass
from typing import Callable, Optional


@dataclass
class Target:
    url: str
    tenant: str
    ca: str
    faulty_url: Optional[str]
    faulty_tenant: Optional[str]
    workdir: str

    @property
    def authority(self) -> str:
        return f"{self.url}{self.tenant}"

    @property
    def host(self) -> str:
        """host:port, as azure-identity's `authority` argument wants it."""
        return self.url.split("://", 1)[1].rstrip("/")

    @property
    def graph(self) -> str:
        return f"{self.url}v1.0"


def target() -> Target:
    """The emulator under test: env vars, or argv `URL TENANT CA_BUNDLE`."""
    args = sys.argv[1:]
    url = os.environ.get("COMGMT_EMULATOR_URL") or (args[0] if len(args) > 0 else None)
    tenant = os.environ.get("COMGMT_TENANT_ID") or (args[1] if len(args) > 1 else None)
    ca = os.environ.get("COMGMT_CA_BUNDLE") or (args[2] if len(args) > 2 else None)
    if not (url and tenant and ca):
        sys.exit(
            "usage: COMGMT_EMULATOR_URL=... COMGMT_TENANT_ID=... COMGMT_CA_BUNDLE=... "
            f"{sys.argv[0]}   (or: {sys.argv[0]} URL TENANT CA_BUNDLE)"
        )
    if not url.endswith("/"):
        url += "/"
    faulty = os.environ.get("COMGMT_FAULTY_URL") or None
    if faulty and not faulty.endswith("/"):
        faulty += "/"
    workdir = os.environ.get("COMGMT_SDK_WORKDIR") or tempfile.mkdtemp(prefix="comgmt-sdk-")
    os.makedirs(workdir, exist_ok=True)
    # azure-identity logs every failed get_token at WARNING; the checks report failures.
    import logging

    logging.getLogger("azure.identity").setLevel(logging.ERROR)
    # What a user does to make requests/azure-core/httpx/aiohttp trust a private CA.
    os.environ["REQUESTS_CA_BUNDLE"] = ca
    os.environ["SSL_CERT_FILE"] = ca
    return Target(url, tenant, ca, faulty, os.environ.get("COMGMT_FAULTY_TENANT_ID"), workdir)


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


class Check:
    def __init__(self, fn: Callable[[], None]):
        self.fn = fn
        self.name = fn.__name__
        self.discrepancy: Optional[str] = getattr(fn, "_discrepancy", None)
        self.match: Optional[str] = getattr(fn, "_match", None)


_CHECKS: list[Check] = []


_LOOP = None


def loop():
    """One event loop for the whole script (httpx/aiohttp clients are bound to it)."""
    global _LOOP
    if _LOOP is None:
        import asyncio

        _LOOP = asyncio.new_event_loop()
    return _LOOP


def check(fn):
    """Register a check (a function or a coroutine function); checks run in definition order."""
    import functools
    import inspect

    if inspect.iscoroutinefunction(fn):
        coro_fn = fn

        @functools.wraps(coro_fn)
        def fn():
            return loop().run_until_complete(coro_fn())

        fn._discrepancy = getattr(coro_fn, "_discrepancy", None)
        fn._match = getattr(coro_fn, "_match", None)
    _CHECKS.append(Check(fn))
    return fn


def known_discrepancy(reason: str, match: str):
    """Mark a check as failing because of a listed emulator discrepancy. Put it under @check.

    `match` must occur in the failure's traceback: a check that fails for another reason
    is still a failure.
    """

    def wrap(fn):
        fn._discrepancy = reason
        fn._match = match
        return fn

    return wrap


def run(script: str) -> None:
    """Run the registered checks; print one line per check and a JSON summary; exit 1 on failure."""
    failed, xfailed, passed = [], [], []
    for c in _CHECKS:
        t0 = time.monotonic()
        try:
            c.fn()
            err = None
        except Exception:  # noqa: BLE001 - a check failing in any way is a failure
            err = traceback.format_exc()
        ms = int((time.monotonic() - t0) * 1000)
        if c.discrepancy and err and c.match and c.match not in err:
            failed.append(c.name)
            print(f"FAIL  {script}::{c.name} ({ms} ms): marked [{c.discrepancy}] but failed "
                  f"without {c.match!r}\n{err}")
        elif c.discrepancy and err:
            xfailed.append(c.name)
            first = err.strip().splitlines()[-1]
            print(f"XFAIL {script}::{c.name} ({ms} ms) [{c.discrepancy}] {first}")
        elif c.discrepancy:
            failed.append(c.name)
            print(f"XPASS {script}::{c.name} ({ms} ms): marked [{c.discrepancy}] but passed; "
                  "remove the marker")
        elif err:
            failed.append(c.name)
            print(f"FAIL  {script}::{c.name} ({ms} ms)\n{err}")
        else:
            passed.append(c.name)
            print(f"ok    {script}::{c.name} ({ms} ms)")
    summary = {"script": script, "passed": len(passed), "xfailed": xfailed, "failed": failed}
    print("SUMMARY " + json.dumps(summary))
    sys.stdout.flush()
    sys.exit(1 if failed else 0)


def expect(cond: bool, message: str) -> None:
    if not cond:
        raise AssertionError(message)


def expect_eq(actual, wanted, what: str) -> None:
    if actual != wanted:
        raise AssertionError(f"{what}: expected {wanted!r}, got {actual!r}")


def make_certificate(workdir: str, name: str = "msal-client"):
    """A self-signed RSA-2048 certificate as Entra accepts for app credentials.

    Returns (key_pem, cert_pem, cert_der, pfx_path, pfx_password).
    """
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    cert_der = cert.public_bytes(serialization.Encoding.DER)
    password = uuid.uuid4().hex
    pfx = pkcs12.serialize_key_and_certificates(
        name.encode(), key, cert, None,
        serialization.BestAvailableEncryption(password.encode()),
    )
    pfx_path = os.path.join(workdir, f"{name}-{uuid.uuid4().hex[:6]}.pfx")
    with open(pfx_path, "wb") as f:
        f.write(pfx)
    os.chmod(pfx_path, 0o600)
    return key_pem, cert_pem, cert_der, pfx_path, password
