"""S3 semantics boto3 relies on: x-amz-expected-bucket-owner, ListBuckets
pages, conditional PutObject and CompleteMultipartUpload, non-ASCII
metadata (RFC 2047, as boto3 must send it), multipart edges, and
`Expect: 100-continue` refusals that never send the body."""

import base64
import io
import logging

from common import client, etag, expect_error, other_client

s3 = client()
other = other_client()
b = "parity"
s3.create_bucket(Bucket=b)
s3.put_object(Bucket=b, Key="k", Body=b"v1")

# --- x-amz-expected-bucket-owner: the canonical id ListBuckets reports.
me = s3.list_buckets()["Owner"]["ID"]
them = other.list_buckets()["Owner"]["ID"]
assert me != them
assert s3.get_object(Bucket=b, Key="k", ExpectedBucketOwner=me)["Body"].read() == b"v1"
s3.head_bucket(Bucket=b, ExpectedBucketOwner=me)
for fn, kw in [
    (s3.get_object, {"Key": "k"}),
    (s3.head_bucket, {}),
    (s3.put_object, {"Key": "k", "Body": b"no"}),
    (s3.delete_object, {"Key": "k"}),
    (s3.list_objects_v2, {}),
    (s3.get_bucket_location, {}),
    (s3.create_multipart_upload, {"Key": "m"}),
    (s3.copy_object, {"Key": "k2", "CopySource": {"Bucket": b, "Key": "k"}}),
]:
    status = 403
    code = "403" if fn == s3.head_bucket else "AccessDenied"
    expect_error(code, status, fn, Bucket=b, ExpectedBucketOwner=them, **kw)
expect_error("AccessDenied", 403, s3.copy_object, Bucket=b, Key="k2",
             CopySource={"Bucket": b, "Key": "k"}, ExpectedSourceBucketOwner=them)
s3.copy_object(Bucket=b, Key="k2", CopySource={"Bucket": b, "Key": "k"},
               ExpectedBucketOwner=me, ExpectedSourceBucketOwner=me)
assert s3.get_object(Bucket=b, Key="k")["Body"].read() == b"v1", "refused writes wrote nothing"

# --- ListBuckets: pages of max-buckets with a continuation token, prefix.
names = ["page-%02d" % i for i in range(7)]
for n in names:
    s3.create_bucket(Bucket=n)
got, token, pages = [], None, 0
while True:
    kw = {"MaxBuckets": 3, "Prefix": "page-"}
    if token:
        kw["ContinuationToken"] = token
    r = s3.list_buckets(**kw)
    pages += 1
    got += [x["Name"] for x in r["Buckets"]]
    assert r["Prefix"] == "page-", r
    token = r.get("ContinuationToken")
    if not token:
        break
assert got == names and pages == 3, (got, pages)
r = s3.list_buckets()
assert "ContinuationToken" not in r and {b, *names} <= {x["Name"] for x in r["Buckets"]}, r
assert r["Owner"]["ID"] == me, r
expect_error("InvalidArgument", 400, s3.list_buckets, MaxBuckets=3, ContinuationToken="@@@")
assert s3.get_bucket_location(Bucket=b)["LocationConstraint"] in (None, "")

# --- CreateBucket again: nothing of the bucket is reset.
expect_error("BucketAlreadyOwnedByYou", 409, s3.create_bucket, Bucket=b)
expect_error("BucketAlreadyExists", 409, other.create_bucket, Bucket=b)
assert s3.get_object(Bucket=b, Key="k")["Body"].read() == b"v1"

# --- Conditional writes.
cur = s3.head_object(Bucket=b, Key="k")["ETag"]
expect_error("PreconditionFailed", 412, s3.put_object, Bucket=b, Key="k", Body=b"x", IfNoneMatch="*")
expect_error("PreconditionFailed", 412, s3.put_object, Bucket=b, Key="k", Body=b"x", IfMatch=etag(b"other"))
expect_error("NoSuchKey", 404, s3.put_object, Bucket=b, Key="absent", Body=b"x", IfMatch=cur)
r = s3.put_object(Bucket=b, Key="k", Body=b"v2", IfMatch=cur)
assert r["ETag"] == etag(b"v2")
s3.put_object(Bucket=b, Key="fresh", Body=b"new", IfNoneMatch="*")
assert s3.get_object(Bucket=b, Key="k")["Body"].read() == b"v2"

MiB = 1024 * 1024


def upload(key, parts):
    up = s3.create_multipart_upload(Bucket=b, Key=key)["UploadId"]
    done = []
    for n, body in enumerate(parts, 1):
        e = s3.upload_part(Bucket=b, Key=key, UploadId=up, PartNumber=n, Body=body)["ETag"]
        done.append({"PartNumber": n, "ETag": e})
    return up, {"Parts": done}


up, parts = upload("k", [b"a" * (5 * MiB), b"b"])
expect_error("PreconditionFailed", 412, s3.complete_multipart_upload, Bucket=b, Key="k",
             UploadId=up, MultipartUpload=parts, IfNoneMatch="*")
expect_error("PreconditionFailed", 412, s3.complete_multipart_upload, Bucket=b, Key="k",
             UploadId=up, MultipartUpload=parts, IfMatch=etag(b"v1"))
r = s3.complete_multipart_upload(Bucket=b, Key="k", UploadId=up, MultipartUpload=parts,
                                 IfMatch=etag(b"v2"))
assert r["ETag"].endswith('-2"'), r
up, parts = upload("mp-new", [b"c"])
s3.complete_multipart_upload(Bucket=b, Key="mp-new", UploadId=up, MultipartUpload=parts,
                             IfNoneMatch="*")
assert s3.get_object(Bucket=b, Key="mp-new")["Body"].read() == b"c"

# --- Non-ASCII metadata: boto3 refuses raw non-ASCII, so clients send RFC
# 2047 encoded words; they come back unchanged.
word = "=?UTF-8?B?%s?=" % base64.b64encode("héllo wörld ✓".encode()).decode()
s3.put_object(Bucket=b, Key="meta", Body=b"m", Metadata={"greeting": word, "plain": "ascii"})
h = s3.head_object(Bucket=b, Key="meta")
assert h["Metadata"] == {"greeting": word, "plain": "ascii"}, h["Metadata"]
assert s3.get_object(Bucket=b, Key="meta")["Metadata"]["greeting"] == word

# --- Multipart edges.
# A part under 5 MiB other than the last: EntityTooSmall at Complete.
up, parts = upload("small", [b"x" * 1024, b"y"])
expect_error("EntityTooSmall", 400, s3.complete_multipart_upload, Bucket=b, Key="small",
             UploadId=up, MultipartUpload=parts)
s3.abort_multipart_upload(Bucket=b, Key="small", UploadId=up)
# A part number uploaded again replaces the first upload of it.
up = s3.create_multipart_upload(Bucket=b, Key="re")["UploadId"]
s3.upload_part(Bucket=b, Key="re", UploadId=up, PartNumber=1, Body=b"first" * MiB)
e1 = s3.upload_part(Bucket=b, Key="re", UploadId=up, PartNumber=1, Body=b"again" * MiB)["ETag"]
e2 = s3.upload_part(Bucket=b, Key="re", UploadId=up, PartNumber=2, Body=b"end")["ETag"]
ls = s3.list_parts(Bucket=b, Key="re", UploadId=up)
assert [(p["PartNumber"], p["ETag"]) for p in ls["Parts"]] == [(1, e1), (2, e2)], ls
assert ls["Owner"]["ID"] == me and ls["Initiator"]["ID"] == me, ls
lu = s3.list_multipart_uploads(Bucket=b)
mine = [u for u in lu["Uploads"] if u["UploadId"] == up]
assert mine and mine[0]["Owner"]["ID"] == me and mine[0]["Initiator"]["ID"] == me, lu
# UploadPartCopy with a bad source range.
src = {"Bucket": b, "Key": "k"}
for bad in ["bytes=5-", "bytes=-5", "0-5", "bytes=6-2", "bytes=a-b"]:
    expect_error("InvalidArgument", 400, s3.upload_part_copy, Bucket=b, Key="re", UploadId=up,
                 PartNumber=3, CopySource=src, CopySourceRange=bad)
size = s3.head_object(Bucket=b, Key="k")["ContentLength"]
expect_error("InvalidRange", 416, s3.upload_part_copy, Bucket=b, Key="re", UploadId=up,
             PartNumber=3, CopySource=src, CopySourceRange="bytes=0-%d" % size)
s3.upload_part_copy(Bucket=b, Key="re", UploadId=up, PartNumber=3, CopySource=src,
                    CopySourceRange="bytes=0-%d" % (size - 1))
s3.complete_multipart_upload(Bucket=b, Key="re", UploadId=up,
                             MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1},
                                                        {"PartNumber": 2, "ETag": e2}]})
assert s3.get_object(Bucket=b, Key="re")["Body"].read() == b"again" * MiB + b"end"

# --- Expect: 100-continue. botocore sends it for bodies over 1 MiB and
# logs whether the server let it send the body.
log = io.StringIO()
handler = logging.StreamHandler(log)
logger = logging.getLogger("botocore.awsrequest")
logger.setLevel(logging.DEBUG)
logger.addHandler(handler)
big = b"z" * (2 * MiB)
expect_error("AccessDenied", 403, other.put_object, Bucket=b, Key="big", Body=big)
expect_error("PreconditionFailed", 412, s3.put_object, Bucket=b, Key="k", Body=big, IfNoneMatch="*")
refused = log.getvalue()
assert refused.count("NOT sending request body") == 2, refused
s3.put_object(Bucket=b, Key="big", Body=big)
assert "100 Continue response seen, now sending request body" in log.getvalue()[len(refused):], log.getvalue()
logger.removeHandler(handler)
assert s3.get_object(Bucket=b, Key="big")["Body"].read() == big
print("OK")
