"""TLS trust and what a certificate failure means: the CA bundle and the user's remedy.

:func:`build_ssl_context` builds (once per process and bundle) the context
that trusts the usual store *and* ``KEYNET_CA_BUNDLE``; :func:`tls_failure`
tells an expired, a wrong-host and an untrusted certificate apart and
:func:`tls_failure_text` words each with its own remedy, for the backend
client and the registry client alike. Standard library only.
"""

from __future__ import annotations

import functools
import os
import ssl
from pathlib import Path

from keynet_train.config import CA_BUNDLE_ENV
from keynet_train.errors import ConfigError

#: A CA bundle (even the whole Mozilla store) is well under this.
MAX_CA_BUNDLE_BYTES = 16 * 1024 * 1024


def build_ssl_context(ca_bundle: str) -> ssl.SSLContext:
    """The SSL context trusting the usual store and ``ca_bundle``, built once per process.

    Loading a trust store costs 50-90 ms (OpenSSL 3); contexts are safe to
    share, so the backend client, the registry check and the digest lookup
    of one push share one. A bundle rewritten meanwhile (new inode, size or
    mtime) is loaded again.

    Raises:
        ConfigError: the bundle is missing, unreadable or contains no PEM
            certificate; the message names ``KEYNET_CA_BUNDLE``.
    """
    try:
        st = os.stat(ca_bundle)
        identity: tuple[object, ...] = (st.st_ino, st.st_size, st.st_mtime_ns)
    except OSError:
        identity = ()  # _load_ssl_context reports the problem
    # OpenSSL's default store follows these two variables.
    store = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    return _load_ssl_context(ca_bundle, (*identity, *store))


@functools.lru_cache(maxsize=4)
def _load_ssl_context(ca_bundle: str, _identity: tuple[object, ...]) -> ssl.SSLContext:
    """An SSL context trusting the system store (else certifi) *and* ``ca_bundle``.

    Memoised by :func:`build_ssl_context` under the bundle's identity.

    The private CA is added to, not substituted for, the usual trust so one
    setting covers a backend with a public certificate and a Harbor with a
    private one.

    Raises:
        ConfigError: the bundle is missing, unreadable or contains no PEM
            certificate; the message names ``KEYNET_CA_BUNDLE``.
    """
    context = ssl.create_default_context()  # the system store, with its corporate CAs
    if not context.cert_store_stats()["x509_ca"]:
        # No (eagerly loaded) system roots, e.g. python.org builds on macOS:
        # use certifi's. Loading both costs ~0.1 s for the same Mozilla roots.
        import certifi

        context.load_verify_locations(cafile=certifi.where())
    _add_bundle(context, ca_bundle)
    return context


def _add_bundle(context: ssl.SSLContext, ca_bundle: str) -> None:
    """Trust the certificates of ``ca_bundle`` in ``context`` too.

    Raises:
        ConfigError: the bundle is missing, unreadable or contains no PEM
            certificate; the message names ``KEYNET_CA_BUNDLE``.
    """
    from keynet_train.files import UnreadableFile, read_regular_file

    try:
        # Read here, bounded and from a regular file only: OpenSSL's own open
        # of cafile would block forever on a FIFO (docs/security.md).
        pem = read_regular_file(Path(ca_bundle), MAX_CA_BUNDLE_BYTES)
        context.load_verify_locations(cadata=pem.decode("ascii", errors="ignore"))
    except UnreadableFile as exc:
        raise ConfigError(
            f"{CA_BUNDLE_ENV}={ca_bundle} cannot be used as a CA bundle: it {exc.reason}",
            f"Point {CA_BUNDLE_ENV} at a readable PEM file of CA certificates, or unset it.",
        ) from None
    except (OSError, ssl.SSLError, ValueError) as exc:  # ValueError: no certificate at all
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(
            f"{CA_BUNDLE_ENV}={ca_bundle} cannot be used as a CA bundle: {reason}",
            f"Point {CA_BUNDLE_ENV} at a readable PEM file of CA certificates, or unset it.",
        ) from exc


def bundle_only_context(ca_bundle: str | None) -> ssl.SSLContext:
    """A verifying TLS context trusting only ``ca_bundle`` (nothing when None).

    For plain-HTTP clients: the bundle is still checked (a bad
    ``KEYNET_CA_BUNDLE`` is reported at once, whatever the URL), the system
    store is not loaded.

    Raises:
        ConfigError: the bundle is unusable (see :func:`_add_bundle`).
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca_bundle:
        _add_bundle(context, ca_bundle)
    return context


def is_tls_verification_error(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) is a certificate verification failure."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        if "CERTIFICATE_VERIFY_FAILED" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


# OpenSSL's X509_V_ERR_* codes (``SSLCertVerificationError.verify_code``) by what the
# user has to do about them: renew/clock, host name, or trust.
_TLS_KINDS = {
    9: "not-yet-valid",  # CERT_NOT_YET_VALID
    10: "expired",  # CERT_HAS_EXPIRED
    62: "hostname",  # HOSTNAME_MISMATCH
    64: "hostname",  # IP_ADDRESS_MISMATCH
    2: "authority",  # UNABLE_TO_GET_ISSUER_CERT
    18: "authority",  # DEPTH_ZERO_SELF_SIGNED_CERT
    19: "authority",  # SELF_SIGNED_CERT_IN_CHAIN
    20: "authority",  # UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    21: "authority",  # UNABLE_TO_VERIFY_LEAF_SIGNATURE
}
_TLS_TEXTS = (
    ("certificate has expired", "expired"),
    ("certificate is not yet valid", "not-yet-valid"),
    ("hostname mismatch", "hostname"),
    ("ip address mismatch", "hostname"),
    ("unable to get local issuer", "authority"),
    ("self-signed certificate", "authority"),
    ("self signed certificate", "authority"),
)


def tls_failure(exc: BaseException) -> tuple[str, str] | None:
    """What kind of certificate verification failure ``exc`` (or its cause) is, or None.

    Returns ``(kind, detail)``: kind is "expired", "not-yet-valid",
    "hostname", "authority" or "other"; detail is OpenSSL's own words. Never raises.
    """
    if not is_tls_verification_error(exc):
        return None
    seen: set[int] = set()
    current: BaseException | None = exc
    text = ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            # Set by the ssl module on a real handshake failure; absent on one built by hand.
            detail = str(getattr(current, "verify_message", None) or current)
            code = getattr(current, "verify_code", None)
            kind = _TLS_KINDS.get(code) if code else None
            return kind or _kind_from_text(f"{detail} {exc}"), detail
        text = text or str(current)
        current = current.__cause__ or current.__context__
    return _kind_from_text(text), text


def _kind_from_text(text: str) -> str:
    lowered = text.lower()
    return next((kind for needle, kind in _TLS_TEXTS if needle in lowered), "other")


def tls_failure_text(kind: str, detail: str, what: str, ca_bundle: str | None) -> tuple[str, str]:
    """The message and hint for a TLS verification failure of ``what`` (e.g. "registry h").

    Expiry, host name and trust are told apart because each has another
    remedy; only a trust problem points at ``KEYNET_CA_BUNDLE``, and then
    differently when it is already set (it holds the wrong CA).
    """
    prefix = f"TLS certificate verification failed for {what}"
    if kind == "expired":
        return (
            f"{prefix}: its certificate has expired ({detail})",
            "The server's certificate must be renewed: tell the platform team. If it should "
            "still be valid, check this computer's date and time.",
        )
    if kind == "not-yet-valid":
        return (
            f"{prefix}: its certificate is not valid yet ({detail})",
            "Check this computer's date and time; if they are right, tell the platform team.",
        )
    if kind == "hostname":
        return (
            f"{prefix}: its certificate is not valid for this host name ({detail})",
            "Use the host name the certificate was issued for, or ask the platform team for "
            "a certificate that covers this one (a CA bundle does not change this).",
        )
    if ca_bundle:
        trust = (
            f"{CA_BUNDLE_ENV}={ca_bundle} is set but does not hold the CA that signed this "
            f"certificate: point {CA_BUNDLE_ENV} at that CA's PEM file (ask the platform team "
            "which one)."
        )
    else:
        trust = f"If the server uses a private CA, set {CA_BUNDLE_ENV} to its PEM file."
    if kind == "authority":
        return f"{prefix}: its certificate is signed by an unknown authority ({detail})", trust
    return f"{prefix}: {detail}", trust
