"""Build an SSLContext from mqtt_as-style ssl_params; imported only when TLS is asked for.

Keys (all optional):
    cadata          CA certificate: DER bytes, or PEM as str/bytes
    ca_certs        path of a CA certificate file, PEM or DER
                    (on MicroPython only the first certificate of a PEM bundle is used)
    certfile, keyfile  client certificate and key (paths) for brokers that want one
    cert_reqs       ssl.CERT_REQUIRED (default) or ssl.CERT_NONE (no verification: insecure)
    server_hostname name the certificate must carry (default: the server name)

With no CA given, CPython verifies against the system store; MicroPython has none, so it asks
for cadata/ca_certs, or for an explicit cert_reqs=ssl.CERT_NONE.
"""

import ssl

try:
    from sys import implementation

    _MICROPYTHON = implementation.name == "micropython"
except ImportError:
    _MICROPYTHON = False


def context(params):
    """Return a client SSLContext for the given ssl_params dict."""
    unknown = [k for k in params if k not in _KEYS]
    if unknown:
        raise ValueError("unknown ssl_params key(s) %r; known: %s" % (unknown, ", ".join(_KEYS)))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cadata = params.get("cadata")
    cafile = params.get("ca_certs")
    reqs = params.get("cert_reqs", ssl.CERT_REQUIRED)
    if reqs == ssl.CERT_NONE:
        if hasattr(ctx, "check_hostname"):
            ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ctx.verify_mode = reqs
        if cadata is not None or cafile is not None:
            if cadata is not None and not _MICROPYTHON and not isinstance(cadata, str):
                if cadata[:5] == b"-----":
                    cadata = cadata.decode()  # CPython wants PEM as str, DER as bytes
            if cafile is not None and _MICROPYTHON:
                with open(cafile, "rb") as f:
                    cadata = f.read()
                cafile = None
            if _MICROPYTHON:
                if isinstance(cadata, str):
                    cadata = cadata.encode()
                if cadata[:5] == b"-----":
                    cadata = pem_to_der(cadata)  # the unix port's mbedtls takes DER only
                ctx.load_verify_locations(cadata=cadata)
            else:
                ctx.load_verify_locations(cafile=cafile, cadata=cadata)
        elif _MICROPYTHON:
            raise ValueError(
                "TLS on MicroPython needs a CA to verify the broker: give ssl_params "
                "cadata=<DER bytes> or ca_certs=<path>, or cert_reqs=ssl.CERT_NONE (insecure)"
            )
        else:
            ctx.load_default_certs()
    certfile = params.get("certfile")
    if certfile is not None:
        ctx.load_cert_chain(certfile, params.get("keyfile"))
    return ctx


def pem_to_der(pem):
    """The first certificate of a PEM text (str or bytes) as DER bytes."""
    from binascii import a2b_base64

    if isinstance(pem, str):
        pem = pem.encode()
    begin = pem.find(b"-----BEGIN")
    start = pem.find(b"\n", begin) + 1
    end = pem.find(b"-----END", start)
    if begin < 0 or start <= 0 or end < 0:
        raise ValueError("not a PEM certificate: -----BEGIN/-----END lines missing")
    return a2b_base64(b"".join(pem[start:end].split()))


_KEYS = ("cadata", "ca_certs", "certfile", "keyfile", "cert_reqs", "server_hostname")
