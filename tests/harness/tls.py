"""A throw-away certificate authority and server certificate made with the openssl CLI.

EC P-256 keys: quick to make, and both CPython's ssl and the MicroPython unix port's mbedtls
complete a verified handshake with them (mbedtls checks the CN/SAN against ``server_hostname``
and the chain against ``cadata`` given as DER bytes).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from .tools import require_tool

SERVER_HOSTNAME = "localhost"

_SERVER_EXTENSIONS = (
    "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
    "basicConstraints=critical,CA:FALSE\n"
    "keyUsage=critical,digitalSignature,keyEncipherment\n"
    "extendedKeyUsage=serverAuth\n"
)


@dataclass(frozen=True)
class TLSFiles:
    """The CA a client trusts and the certificate a TLS broker serves.

    Attributes:
        ca_file: path of the CA certificate (PEM), for paho's ``tls_set(ca_certs=...)``.
        ca_pem: the same certificate as PEM text.
        ca_der: the same certificate as DER bytes, for MicroPython's
            ``SSLContext.load_verify_locations(cadata=...)``.
        cert_file: the server certificate (PEM), CN=localhost, SAN DNS:localhost, IP:127.0.0.1.
        key_file: the server's private key (PEM, unencrypted, mode 0644 so a broker that
            drops root privileges can still read it).
        server_hostname: the name to verify, ``"localhost"``.
    """

    ca_file: str
    ca_pem: str
    ca_der: bytes
    cert_file: str
    key_file: str
    server_hostname: str = SERVER_HOSTNAME


def _openssl(openssl: str, *args: str, cwd: Path) -> None:
    done = subprocess.run(
        [openssl, *args], cwd=cwd, capture_output=True, text=True, timeout=30, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed:\n{done.stderr}")


def make_tls_files(directory: Path) -> TLSFiles:
    """Make a self-signed CA and a server certificate it signed, in ``directory``."""
    openssl = require_tool("openssl", "install it with `apt-get install openssl`")
    directory.mkdir(parents=True, exist_ok=True)
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    _openssl(
        openssl,
        "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650",
        "-subj", "/CN=pysmartnode test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=directory,
    )  # fmt: skip
    _openssl(
        openssl,
        "req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost",
        cwd=directory,
    )  # fmt: skip
    (directory / "server.ext").write_text(_SERVER_EXTENSIONS)
    _openssl(
        openssl,
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "3650", "-extfile", "server.ext",
        cwd=directory,
    )  # fmt: skip
    _openssl(openssl, "x509", "-in", "ca.pem", "-outform", "DER", "-out", "ca.der", cwd=directory)
    # mosquitto started as root drops to its own user unless told otherwise; keep the key
    # readable either way (it guards nothing but this test run).
    (directory / "server.key").chmod(0o644)
    directory.chmod(0o755)
    return TLSFiles(
        ca_file=str(directory / "ca.pem"),
        ca_pem=(directory / "ca.pem").read_text(),
        ca_der=(directory / "ca.der").read_bytes(),
        cert_file=str(directory / "server.pem"),
        key_file=str(directory / "server.key"),
    )
