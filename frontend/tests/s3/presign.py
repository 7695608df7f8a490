"""Presigned URLs (SigV4 query auth): GET and PUT with plain HTTP, and the
refusals of an expired or tampered URL."""

import time
import urllib.error
import urllib.request

from common import client, etag

s3 = client()
b = "presign"
s3.create_bucket(Bucket=b)


def http(method, url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.read(), {k.lower(): v for k, v in r.headers.items()}
    except urllib.error.HTTPError as e:
        return e.code, e.read(), {k.lower(): v for k, v in e.headers.items()}


data = b"presigned bytes " * 100
put = s3.generate_presigned_url("put_object", Params={"Bucket": b, "Key": "p/k 1"}, ExpiresIn=300)
status, body, headers = http("PUT", put, data)
assert status == 200, (status, body, put)
assert headers["etag"] == etag(data)

get = s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "p/k 1"}, ExpiresIn=300)
status, body, _ = http("GET", get)
assert status == 200 and body == data

get = s3.generate_presigned_url("get_object", Params={
    "Bucket": b, "Key": "p/k 1", "ResponseContentType": "text/x-presigned"}, ExpiresIn=300)
status, body, headers = http("GET", get)
assert status == 200 and headers["content-type"] == "text/x-presigned"

status, body, _ = http("GET", get.replace("X-Amz-Signature=", "X-Amz-Signature=0"))
assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body, body
status, body, _ = http("DELETE", get)
assert status == 403 and b"SignatureDoesNotMatch" in body, body

short = s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "p/k 1"}, ExpiresIn=1)
time.sleep(2.5)
status, body, _ = http("GET", short)
assert status == 403 and b"<Code>AccessDenied</Code>" in body and b"<RequestId>" in body, body

status, body, _ = http("GET", get.split("?")[0])
assert status == 403 and b"AccessDenied" in body, body

# Attack: an unsigned x-amz-copy-source added to a presigned PUT must not
# turn it into CopyObject of a private object the signer owns. AWS refuses
# any x-amz-* header the signature does not cover.
private = b"private bytes the URL holder must not get"
s3.put_object(Bucket=b, Key="private", Body=private)
put = s3.generate_presigned_url("put_object", Params={"Bucket": b, "Key": "shared/drop"}, ExpiresIn=300)
status, body, _ = http("PUT", put, b"", {"x-amz-copy-source": f"/{b}/private"})
assert status == 403 and b"<Code>AccessDenied</Code>" in body, (status, body)
assert b"x-amz-copy-source" in body, body
try:
    got = s3.get_object(Bucket=b, Key="shared/drop")["Body"].read()
    assert got != private, "the presigned PUT copied the private object"
except s3.exceptions.NoSuchKey:
    pass
status, body, _ = http("PUT", put, b"x", {"x-amz-meta-unsigned": "1"})
assert status == 403 and b"AccessDenied" in body, (status, body)
# The same URL, used as signed, still works.
status, body, _ = http("PUT", put, b"dropped")
assert status == 200, (status, body)
assert s3.get_object(Bucket=b, Key="shared/drop")["Body"].read() == b"dropped"
print("OK")
