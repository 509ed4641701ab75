#!/usr/bin/env python3
# Prints the expected values of tests/unit/s3/sigv4_test.cpp, computed by an
# independent SigV4 implementation: botocore's S3SigV4Auth (headers) and
# S3SigV4QueryAuth (presigned URLs), with fixed credentials and a fixed time.
# Debian 12: python3-botocore.
import datetime
import types
from urllib.parse import quote

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

NOW = datetime.datetime(2024, 2, 29, 12, 34, 56)
botocore.auth.get_current_datetime = lambda *a, **k: NOW
CREDS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")


def url(host, path):
    # AWS's path encoding: unreserved characters and '/' kept, UTF-8 bytes
    # percent-encoded (what boto3 does to keys).
    return f"http://{host}{quote(path, safe='/~')}"


def show(name, req):
    print(f"{name}: {req.headers['Authorization']}")


# 1. GET with query parameters that need encoding, empty payload.
r = AWSRequest("GET", url("127.0.0.1:7480", "/berth-test"),
               params={"list-type": "2", "prefix": "a b/\u00fc+=", "continuation-token": "1/+==",
                       "max-keys": "2"})
botocore.auth.S3SigV4Auth(CREDS, "s3", "us-east-1").add_auth(r)
show("get_query", r)

# 2. PUT with the body's SHA-256 and an extra header whose value needs trimming.
r = AWSRequest("PUT", url("127.0.0.1:7480", "/berth-test/blobs/x"), data=b"hello world\n",
               headers={"X-Amz-Meta-Note": "  a    b  ", "Content-Type": "application/octet-stream"})
botocore.auth.S3SigV4Auth(CREDS, "s3", "us-east-1").add_auth(r)
show("put_payload", r)
print("put_payload sha:", r.headers["X-Amz-Content-SHA256"])

# 3. PUT of a key with spaces, unicode, '+' and '=', unsigned payload, other
# region and host.
r = AWSRequest("PUT", url("s3.example:9000", "/b/dir/a key+\u00e9=\u6f22.txt"), data=b"x")
r.context["client_config"] = types.SimpleNamespace(s3={"payload_signing_enabled": False})
botocore.auth.S3SigV4Auth(CREDS, "s3", "eu-west-3").add_auth(r)
show("put_key", r)
print("put_key sha:", r.headers["X-Amz-Content-SHA256"])

# 4. Presigned GET, 600 s.
r = AWSRequest("GET", url("127.0.0.1:7480", "/berth-test/some key+\u00fc"))
botocore.auth.S3SigV4QueryAuth(CREDS, "s3", "us-east-1", expires=600).add_auth(r)
print("presign:", r.url)
