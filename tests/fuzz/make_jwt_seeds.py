#!/usr/bin/env python3
"""Writes the seeds of the jwt fuzz target to corpus/jwt/.

Run from tests/fuzz when jwt_keys.hpp or the token format changes (needs
python3-cryptography). The seeds name the fixed keys of jwt_keys.hpp by kid
and x5c, so they get past the key lookup; the verify-mode ones are signed
by those keys, so they also get past the signature check. See jwt_fuzz.cpp
for the input format (first byte: the mode).
"""
import base64
import hashlib
import json
import os
import re

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def pem(name):
    text = open("jwt_keys.hpp").read()
    return re.search(name + r'\[\] = R"pem\((.*?)\)pem"', text, re.S).group(1).encode()


def thumbprint(pub):
    if isinstance(pub, ec.EllipticCurvePublicKey):
        n = pub.public_numbers()
        jwk = '{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}' % (
            b64url(n.x.to_bytes(32, "big")), b64url(n.y.to_bytes(32, "big")))
    else:
        n = pub.public_numbers()
        e = n.e.to_bytes((n.e.bit_length() + 7) // 8, "big")
        m = n.n.to_bytes((n.n.bit_length() + 7) // 8, "big")
        jwk = '{"e":"%s","kty":"RSA","n":"%s"}' % (b64url(e), b64url(m))
    return b64url(hashlib.sha256(jwk.encode()).digest())


es_key = serialization.load_pem_private_key(pem("kEsKeyPem"), None)
rs_key = serialization.load_pem_private_key(pem("kRsKeyPem"), None)
es_cert = x509.load_pem_x509_certificate(pem("kEsCertPem"))
rs_cert = x509.load_pem_x509_certificate(pem("kRsCertPem"))
es_kid, rs_kid = thumbprint(es_cert.public_key()), thumbprint(rs_cert.public_key())
es_x5c = base64.b64encode(es_cert.public_bytes(serialization.Encoding.DER)).decode()

NOW = 1_700_000_000
claims = {"iss": "berth-token", "sub": "alice", "aud": "berth", "exp": NOW + 300,
          "nbf": NOW, "iat": NOW, "jti": "jti-1",
          "access": [{"type": "repository", "name": "alice/app", "actions": ["pull", "push"]},
                     {"type": "registry(plugin)", "name": "catalog", "actions": ["*"]}]}


def sign(header, body, key):
    data = (b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(body).encode())).encode()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        sig = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return data.decode() + "." + b64url(sig)


def write(name, data):
    os.makedirs("corpus/jwt", exist_ok=True)
    with open("corpus/jwt/" + name, "wb") as f:
        f.write(data)


# Mode 0: tokens verified as they are.
write("verify_es256_kid", b"\x00" + sign({"typ": "JWT", "alg": "ES256", "kid": es_kid}, claims, es_key).encode())
write("verify_es256_x5c", b"\x00" + sign({"typ": "JWT", "alg": "ES256", "x5c": [es_x5c]}, claims, es_key).encode())
write("verify_rs256_kid", b"\x00" + sign({"typ": "JWT", "alg": "RS256", "kid": rs_kid},
                                         dict(claims, aud=["other", "berth"]), rs_key).encode())
write("verify_alg_none", b"\x00" + (b64url(b'{"alg":"none"}') + "." + b64url(json.dumps(claims).encode()) + ".").encode())
# Mode 1 (ES256 key) and 3 (RS256 key): header and claims, signed by the target.
write("sign_es256", b"\x01" + json.dumps({"alg": "ES256", "kid": es_kid}).encode() + b"\n" + json.dumps(claims).encode())
write("sign_rs384", b"\x03" + json.dumps({"alg": "RS384", "kid": rs_kid}).encode() + b"\n" +
      json.dumps(dict(claims, exp=18446744073709551615)).encode())
write("sign_x5c_chain", b"\x01" + json.dumps({"alg": "ES256", "x5c": [es_x5c, es_x5c]}).encode() + b"\n" +
      json.dumps({"iss": "berth-token", "aud": "berth", "exp": NOW, "access": []}).encode())
