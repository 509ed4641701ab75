"""JWT tools for the auth suite: decode a token's parts, tamper with it, and
forge tokens (alg none, HS256 key confusion, ES256 with berth's real key or a
self-made one, key ids) to check that the registry refuses what it must.
Kept free of pytest so a failing case can be rebuilt by hand in a REPL."""

import base64
import datetime
import hashlib
import hmac
import json
import os
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def part(token, n):
    """Part N (0 header, 1 claims) of TOKEN as a dict; {} when it is no JWT."""
    try:
        return json.loads(unb64u(token.split(".")[n]))
    except (IndexError, ValueError):
        return {}


def header(token):
    return part(token, 0)


def claims(token):
    return part(token, 1)


def signature_length(token):
    return len(unb64u(token.split(".")[2]))


def grants(token):
    """The token's access as sorted "type:name:actions" words, space-joined,
    the form the shell suite compared (so the expected strings carry over)."""
    words = ["%s:%s:%s" % (a.get("type"), a.get("name"), ",".join(a.get("actions", [])))
             for a in claims(token).get("access") or []]
    return " ".join(sorted(words))


def tamper(token):
    """One signature character changed."""
    h, c, s = token.split(".")
    i = len(s) // 2
    return h + "." + c + "." + s[:i] + ("B" if s[i] == "A" else "A") + s[i + 1:]


def edit(token, changes):
    """Claims merged with CHANGES, the old signature kept."""
    h, c, s = token.split(".")
    cl = json.loads(unb64u(c))
    cl.update(changes)
    return h + "." + b64u(json.dumps(cl, separators=(",", ":")).encode()) + "." + s


def load_cert(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def thumbprint(pub):
    """RFC 7638 thumbprint, fixed-length coordinates."""
    n = pub.public_numbers()
    j = '{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}' % (
        b64u(n.x.to_bytes(32, "big")), b64u(n.y.to_bytes(32, "big")))
    return b64u(hashlib.sha256(j.encode()).digest())


def libtrust(pub):
    """docker/libtrust key id."""
    der = pub.public_bytes(serialization.Encoding.DER,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    s = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(s[i:i + 4] for i in range(0, len(s), 4))


def cert_b64(path):
    """Standard base64 DER, as in x5c."""
    return base64.b64encode(load_cert(path).public_bytes(serialization.Encoding.DER)).decode()


def forge(mode, claims_in, cert_path, key_path=None):
    """A token of MODE over CLAIMS_IN, completed with iat/nbf/exp (now, now,
    now+300) and jti unless given; "exp_in": N sets exp = now + N."""
    cl = dict(claims_in)
    t = int(time.time())
    cl.setdefault("iat", t)
    cl.setdefault("nbf", t)
    if "exp" not in cl:
        cl["exp"] = t + cl.pop("exp_in", 300)
    cl.setdefault("jti", os.urandom(8).hex())
    cert = load_cert(cert_path)
    x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]

    def enc(h):
        return (b64u(json.dumps(h, separators=(",", ":")).encode()) + "." +
                b64u(json.dumps(cl, separators=(",", ":")).encode()))

    def es256(key, h):
        inp = enc(h)
        r, s = decode_dss_signature(key.sign(inp.encode(), ec.ECDSA(hashes.SHA256())))
        return inp + "." + b64u(r.to_bytes(32, "big") + s.to_bytes(32, "big"))

    def hs256(h):
        inp = enc(h)
        with open(cert_path, "rb") as f:
            mac = hmac.new(f.read(), inp.encode(), hashlib.sha256).digest()
        return inp + "." + b64u(mac)

    if mode == "none":  # x5c of the trusted cert, empty signature
        return enc({"typ": "JWT", "alg": "none", "x5c": x5c}) + "."
    if mode == "none-nox5c":
        return enc({"typ": "JWT", "alg": "none"}) + "."
    if mode == "hs256":  # HMAC keyed with the trusted certificate's PEM
        return hs256({"typ": "JWT", "alg": "HS256", "x5c": x5c})
    if mode == "hs256-kid":
        return hs256({"typ": "JWT", "alg": "HS256", "kid": thumbprint(cert.public_key())})
    if mode in ("es256", "es256-thumb", "es256-libtrust"):  # berth's real key
        with open(key_path, "rb") as f:
            key = serialization.load_pem_private_key(f.read(), None)
        h = {"typ": "JWT", "alg": "ES256"}
        if mode == "es256":
            h["x5c"] = x5c
        elif mode == "es256-thumb":
            h["kid"] = thumbprint(cert.public_key())
        else:
            h["kid"] = libtrust(cert.public_key())
        return es256(key, h)
    if mode == "selfsigned":  # a key and self-signed cert nobody trusts
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "berth-token")])
        now = datetime.datetime.now(datetime.timezone.utc)
        own = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=1))
               .not_valid_after(now + datetime.timedelta(days=30))
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
               .sign(key, hashes.SHA256()))
        own_b64 = base64.b64encode(own.public_bytes(serialization.Encoding.DER)).decode()
        return es256(key, {"typ": "JWT", "alg": "ES256", "x5c": [own_b64]})
    raise ValueError("unknown mode " + mode)
