"""Build an SSLContext from ssl_params; imported only when TLS is asked for, at construction,
so that a configuration error raises there and not as "broker unreachable" for ever.

Keys (all optional); mqtt_as's own names (passed to wrap_socket there) are accepted too:
    cadata          CA certificate: DER bytes, or PEM as str/bytes
    ca_certs        path of a CA certificate file, PEM or DER
                    (on MicroPython only the first certificate of a PEM bundle is used)
    certfile, keyfile  client certificate and key for brokers that want one: paths, PEM or DER
    cert, key       the same as data (bytes, PEM or DER), as mqtt_as takes them
    cert_reqs       ssl.CERT_REQUIRED (default) or ssl.CERT_NONE (no verification: insecure)
    server_hostname name the certificate must carry (default: the server name)
    server_side     must be False: this is a client
    do_handshake    accepted; the handshake always runs when connecting, within response_time

With no CA given, CPython verifies against the system store; MicroPython has none, so it asks
for cadata/ca_certs, or for an explicit cert_reqs=ssl.CERT_NONE.
"""

import ssl

from .codec import CPYTHON

_KEYS = (
    "cadata",
    "ca_certs",
    "certfile",
    "keyfile",
    "cert",
    "key",
    "cert_reqs",
    "server_hostname",
    "server_side",
    "do_handshake",
)


def context(params):
    """Return a client SSLContext for the given ssl_params dict; ValueError if it is wrong."""
    unknown = [k for k in params if k not in _KEYS]
    if unknown:
        raise ValueError("unknown ssl_params key(s) %r; known: %s" % (unknown, ", ".join(_KEYS)))
    if params.get("server_side"):
        raise ValueError("ssl_params server_side=True: this is a client")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cadata = params.get("cadata")
    cafile = params.get("ca_certs")
    reqs = params.get("cert_reqs", ssl.CERT_REQUIRED)
    try:
        if reqs == ssl.CERT_NONE:
            if hasattr(ctx, "check_hostname"):
                ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        else:
            ctx.verify_mode = reqs
            if cadata is not None or cafile is not None:
                if cafile is not None:
                    cadata = _read(cafile)
                if CPYTHON:
                    if _is_pem(cadata):
                        cadata = _text(cadata)  # CPython wants PEM as str, DER as bytes
                    ctx.load_verify_locations(cadata=cadata)
                else:
                    ctx.load_verify_locations(cadata=_der(cadata))  # mbedtls here: DER only
            elif not CPYTHON:
                raise ValueError(
                    "TLS on MicroPython needs a CA to verify the broker: give ssl_params "
                    "cadata=<DER bytes> or ca_certs=<path>, or cert_reqs=ssl.CERT_NONE (insecure)"
                )
            else:
                ctx.load_default_certs()
        cert = params.get("cert") or _read(params.get("certfile"))
        key = params.get("key") or _read(params.get("keyfile"))
        if cert is not None:
            if key is None:
                raise ValueError("ssl_params has a client certificate but no key")
            _load_chain(ctx, cert, key)
    except OSError as e:  # ssl.SSLError is one; mbedtls raises OSError/ValueError
        raise ValueError("ssl_params: %s" % (e,)) from None
    return ctx


def _load_chain(ctx, cert, key):
    if not CPYTHON:
        ctx.load_cert_chain(_der(cert), _der(key))
        return
    # CPython loads a chain from files only, and PEM only
    import os
    import tempfile

    paths = []
    try:
        for data, kind in ((cert, "CERTIFICATE"), (key, "PRIVATE KEY")):
            if not _is_pem(data):
                data = ssl.DER_cert_to_PEM_cert(data) if kind == "CERTIFICATE" else _pem(data, kind)
            fd, path = tempfile.mkstemp(suffix=".pem")
            paths.append(path)
            with os.fdopen(fd, "wb") as f:
                f.write(data.encode() if isinstance(data, str) else data)
        ctx.load_cert_chain(paths[0], paths[1])
    finally:
        for path in paths:
            os.remove(path)


def _read(path):
    if path is None:
        return None
    with open(path, "rb") as f:
        return f.read()


def _is_pem(data):
    return _bytes(data).lstrip()[:5] == b"-----"


def _bytes(data):
    return data.encode() if isinstance(data, str) else data


def _text(data):
    return data if isinstance(data, str) else data.decode()


def _der(data):
    return pem_to_der(data) if _is_pem(data) else _bytes(data)


def _pem(der, kind):
    from binascii import b2a_base64

    return "-----BEGIN %s-----\n%s-----END %s-----\n" % (kind, b2a_base64(der).decode(), kind)


def pem_to_der(pem):
    """The first block (certificate or key) of a PEM text (str or bytes) as DER bytes."""
    from binascii import a2b_base64

    pem = _bytes(pem)
    begin = pem.find(b"-----BEGIN")
    start = pem.find(b"\n", begin) + 1
    end = pem.find(b"-----END", start)
    if begin < 0 or start <= 0 or end < 0:
        raise ValueError("not PEM: -----BEGIN/-----END lines missing")
    return a2b_base64(b"".join(pem[start:end].split()))
