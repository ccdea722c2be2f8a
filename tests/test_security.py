"""Optional TLS and bearer-token authentication, with certificates the test makes itself."""

from __future__ import annotations

import datetime
import ipaddress

import crossgrad as torch
import grpc
import pytest
from crossgrad.client import Client, Unauthenticated
from crossgrad.server.app import create_server
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from grpc_health.v1 import health_pb2, health_pb2_grpc


def self_signed() -> tuple[bytes, bytes]:
    """(certificate PEM, key PEM) for localhost and 127.0.0.1, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def loss():
    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    return (x * x).sum()


@pytest.fixture(scope="module")
def secure():
    cert, key = self_signed()
    running = create_server("127.0.0.1", 0, tls=(cert, key), token="s3cret")
    yield running, cert
    running.stop(0)


def test_tls_with_the_right_token_works(secure):
    running, cert = secure
    with Client(f"127.0.0.1:{running.port}", root_certificates=cert, token="s3cret") as client:
        assert client.check(loss()).verdict == "agree"


@pytest.mark.parametrize("token", [None, "wrong"])
def test_a_missing_or_wrong_token_is_unauthenticated(secure, token):
    running, cert = secure
    with Client(f"127.0.0.1:{running.port}", root_certificates=cert, token=token) as client, \
            pytest.raises(Unauthenticated):
        client.check(loss())


def test_plaintext_to_a_tls_server_fails_and_health_is_open(secure):
    running, cert = secure
    from crossgrad.client import RemoteError

    with Client(f"127.0.0.1:{running.port}", deadline=3) as client, pytest.raises(RemoteError):
        client.check(loss())
    with grpc.secure_channel(f"127.0.0.1:{running.port}", grpc.ssl_channel_credentials(cert)) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_token_without_tls():
    running = create_server("127.0.0.1", 0, token="plain")
    try:
        with Client(f"127.0.0.1:{running.port}", token="plain") as client:
            assert client.check(loss()).verdict == "agree"
        with Client(f"127.0.0.1:{running.port}") as client, pytest.raises(Unauthenticated):
            client.check(loss())
    finally:
        running.stop(0)
