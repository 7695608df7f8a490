"""AWS Signature Version 2: boto3 with signature_version="s3" (header
form), presigned URLs of both versions fetched with urllib and curl, aws-cli
1.x `aws s3 presign` (SigV2 by default), and the refusals: expired,
tampered, malformed."""

import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import boto3
from botocore.config import Config

from common import client, etag, expect_error, md5_b64

URL = os.environ["S3_URL"]
KEY = os.environ["AWS_ACCESS_KEY_ID"]
SECRET = os.environ["AWS_SECRET_ACCESS_KEY"]


# A config that leaves the signature version to the client's default (the
# harness's asks for s3v4): aws-cli and boto3 then presign with SigV2.
DEFAULT_CFG = tempfile.NamedTemporaryFile("w", suffix=".cfg")
DEFAULT_CFG.write("[default]\nregion = us-east-1\n")
DEFAULT_CFG.flush()


def v2_client(style="path", key=None, secret=None, signature_version="s3"):
    url = URL.replace("127.0.0.1", "localhost") if style == "virtual" else URL
    cfg = dict(s3={"addressing_style": style}, retries={"max_attempts": 1, "mode": "standard"})
    session = boto3
    if signature_version:
        cfg["signature_version"] = signature_version
    else:
        os.environ["AWS_CONFIG_FILE"] = DEFAULT_CFG.name
        session = boto3.session.Session()
    return session.client(
        "s3",
        endpoint_url=url,
        aws_access_key_id=key or KEY,
        aws_secret_access_key=secret or SECRET,
        region_name="us-east-1",
        config=Config(**cfg),
    )


def http(method, url, data=None, headers=None):
    headers = dict(headers or {})
    if data is not None:
        # urllib would add a form content type, which SigV2 signs.
        headers.setdefault("Content-Type", "")
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def curl(url):
    out = subprocess.run(["curl", "-sS", "-w", "\n%{http_code}", url], check=True, capture_output=True)
    body, _, code = out.stdout.rpartition(b"\n")
    return int(code), body


def refused(code, status, got):
    assert got[0] == status and b"<Code>%s</Code>" % code.encode() in got[1], (code, got)
    assert b"<RequestId>" in got[1], got
    assert b"anonymous" not in got[1], got


b = "sigv2"
s3 = v2_client()
s3.create_bucket(Bucket=b)

# Header form: the everyday operations, keys that need encoding, both
# addressing styles.
data = b"signature version two " * 500
for style in ["path", "virtual"]:
    c = v2_client(style)
    for key in ["plain", "dir/a b+c&d=e~!*'()", "ünï/cødé", "x/%41%2F"]:
        k = f"{style}/{key}"
        r = c.put_object(Bucket=b, Key=k, Body=data, ContentType="text/x-v2", ContentMD5=md5_b64(data),
                         Metadata={"Mixed-Case": "v"})
        assert r["ETag"] == etag(data), r
        got = c.get_object(Bucket=b, Key=k)
        assert got["Body"].read() == data and got["ContentType"] == "text/x-v2", k
        assert got["Metadata"] == {"mixed-case": "v"}, got["Metadata"]
        assert c.head_object(Bucket=b, Key=k)["ContentLength"] == len(data)
    keys = [o["Key"] for o in c.list_objects_v2(Bucket=b, Prefix=f"{style}/")["Contents"]]
    assert len(keys) == 4, keys
    assert len(c.list_objects(Bucket=b, Prefix=f"{style}/", MaxKeys=2)["Contents"]) == 2
    c.copy_object(Bucket=b, Key=f"{style}/copy", CopySource={"Bucket": b, "Key": f"{style}/plain"})
    assert c.get_object(Bucket=b, Key=f"{style}/copy")["Body"].read() == data
    got = c.get_object(Bucket=b, Key=f"{style}/plain", Range="bytes=0-8", ResponseContentType="a/b")
    assert got["Body"].read() == data[:9] and got["ContentType"] == "a/b"
    c.delete_object(Bucket=b, Key=f"{style}/copy")
    expect_error("NoSuchKey", 404, c.get_object, Bucket=b, Key=f"{style}/copy")
    assert c.get_bucket_location(Bucket=b)["LocationConstraint"] in (None, "")
    assert b in [x["Name"] for x in c.list_buckets()["Buckets"]]

# Sub-resources in the signed resource: a multipart upload, a multi-delete.
up = s3.create_multipart_upload(Bucket=b, Key="mp")["UploadId"]
p1 = s3.upload_part(Bucket=b, Key="mp", UploadId=up, PartNumber=1, Body=b"part one")
assert s3.list_parts(Bucket=b, Key="mp", UploadId=up)["Parts"][0]["PartNumber"] == 1
s3.complete_multipart_upload(Bucket=b, Key="mp", UploadId=up,
                             MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p1["ETag"]}]})
assert s3.get_object(Bucket=b, Key="mp")["Body"].read() == b"part one"
r = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "mp"}, {"Key": "path/plain"}]})
assert len(r["Deleted"]) == 2, r

# Refusals of the header form.
expect_error("SignatureDoesNotMatch", 403, v2_client(secret=SECRET[:-1] + "x").get_object, Bucket=b, Key="virtual/plain")
expect_error("InvalidAccessKeyId", 403, v2_client(key="AKIANOSUCHKEY0000000").get_object, Bucket=b, Key="virtual/plain")
obj = f"{URL}/{b}/virtual/plain"
now = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())
refused("InvalidArgument", 400, http("GET", obj, headers={"Authorization": "AWS " + KEY, "Date": now}))
refused("InvalidArgument", 400, http("GET", obj, headers={"Authorization": "Basic Zm9vOmJhcg==", "Date": now}))
refused("SignatureDoesNotMatch", 403, http("GET", obj, headers={"Authorization": f"AWS {KEY}:bm9wZQ==", "Date": now}))
old = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() - 3600))
refused("RequestTimeTooSkewed", 403, http("GET", obj, headers={"Authorization": f"AWS {KEY}:bm9wZQ==", "Date": old}))
refused("AccessDenied", 403, http("GET", obj, headers={"Authorization": f"AWS {KEY}:bm9wZQ=="}))

# Presigned URLs, both versions, fetched with urllib and curl.
v4 = client()
for signer, version in [(s3, "AWSAccessKeyId="), (v2_client(signature_version=None), "AWSAccessKeyId="),
                        (v4, "X-Amz-Signature=")]:
    put = signer.generate_presigned_url("put_object", Params={"Bucket": b, "Key": "shared/k 1+"}, ExpiresIn=300)
    assert version in put, put
    assert http("PUT", put, b"presigned")[0] == 200
    get = signer.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "shared/k 1+"}, ExpiresIn=300)
    assert version in get, get
    assert http("GET", get) == (200, b"presigned")
    assert curl(get) == (200, b"presigned")
    got = signer.generate_presigned_url("get_object", ExpiresIn=300, Params={
        "Bucket": b, "Key": "shared/k 1+", "ResponseContentType": "text/x-shared"})
    with urllib.request.urlopen(got) as r:
        assert r.read() == b"presigned" and r.headers["Content-Type"] == "text/x-shared"

# A presigned PUT that signed a content type and metadata (botocore moves
# the x-amz-* headers into the URL).
put = s3.generate_presigned_url("put_object", ExpiresIn=300, Params={
    "Bucket": b, "Key": "shared/typed", "ContentType": "application/x-typed"})
assert http("PUT", put, b"typed", {"Content-Type": "application/x-typed"})[0] == 200
refused("SignatureDoesNotMatch", 403, http("PUT", put, b"typed", {"Content-Type": "text/html"}))

# Tampered and expired SigV2 URLs.
get = s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "shared/k 1+"}, ExpiresIn=300)
refused("SignatureDoesNotMatch", 403, http("GET", get.replace("Signature=", "Signature=A")))
refused("SignatureDoesNotMatch", 403, http("GET", get.replace("shared/k", "shared/j")))
refused("SignatureDoesNotMatch", 403, http("DELETE", get))
exp = int(get.split("Expires=")[1].split("&")[0])
refused("SignatureDoesNotMatch", 403, http("GET", get.replace(f"Expires={exp}", f"Expires={exp + 100}")))
refused("AccessDenied", 403, http("GET", get.replace(f"Expires={exp}", "Expires=")))
refused("AccessDenied", 403, http("GET", get.split("&Expires=")[0]))
long = s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "shared/k 1+"}, ExpiresIn=8 * 86400)
refused("AuthorizationQueryParametersError", 400, http("GET", long))
short = s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "shared/k 1+"}, ExpiresIn=1)
time.sleep(2.5)
got = http("GET", short)
refused("AccessDenied", 403, got)
assert b"Request has expired" in got[1], got

# An unsigned x-amz-copy-source added to a SigV2 presigned PUT cannot turn
# it into a copy of a private object: every x-amz-* header is signed.
s3.put_object(Bucket=b, Key="private", Body=b"private bytes")
put = s3.generate_presigned_url("put_object", Params={"Bucket": b, "Key": "shared/drop"}, ExpiresIn=300)
refused("SignatureDoesNotMatch", 403, http("PUT", put, b"", {"x-amz-copy-source": f"/{b}/private"}))
expect_error("NoSuchKey", 404, s3.get_object, Bucket=b, Key="shared/drop")

# aws-cli 1.x: `aws s3 presign` signs with SigV2 unless the config asks for
# s3v4 (the harness's does; this config does not).
env = dict(os.environ, AWS_CONFIG_FILE=DEFAULT_CFG.name)
url = subprocess.run(["aws", "--endpoint-url", URL, "s3", "presign", f"s3://{b}/shared/k 1+"],
                     env=env, check=True, capture_output=True, text=True).stdout.strip()
assert "AWSAccessKeyId=" in url and "Signature=" in url, url
assert curl(url) == (200, b"presigned"), url
assert http("GET", url) == (200, b"presigned")
url = subprocess.run(["aws", "--endpoint-url", URL, "s3", "presign", f"s3://{b}/shared/k 1+",
                      "--expires-in", "1"], env=env, check=True, capture_output=True, text=True).stdout.strip()
time.sleep(2.5)
refused("AccessDenied", 403, curl(url))
print("OK")
