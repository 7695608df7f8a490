"""Buckets and object CRUD through boto3, path- and virtual-hosted-style."""

import base64
import datetime
import hashlib
import os
import zlib

from common import client, etag, expect_error, md5_b64

s3 = client()
b = "basic-bucket"
assert s3.create_bucket(Bucket=b)["ResponseMetadata"]["HTTPStatusCode"] == 200
assert b in [x["Name"] for x in s3.list_buckets()["Buckets"]]
s3.head_bucket(Bucket=b)
assert s3.get_bucket_location(Bucket=b).get("LocationConstraint") in (None, "")

data = os.urandom(300_000)
key = "dir/a b+c&d.txt"
r = s3.put_object(
    Bucket=b, Key=key, Body=data, ContentType="text/plain",
    Metadata={"color": "blue"}, ContentMD5=md5_b64(data),
    CacheControl="max-age=60",
)
assert r["ETag"] == etag(data), r
g = s3.get_object(Bucket=b, Key=key)
assert g["Body"].read() == data
assert g["ContentType"] == "text/plain"
assert g["Metadata"] == {"color": "blue"}
assert g["ETag"] == etag(data)
assert g["CacheControl"] == "max-age=60"
h = s3.head_object(Bucket=b, Key=key)
assert h["ContentLength"] == len(data) and h["ETag"] == etag(data)

# A flat keyspace: "a" and "a/b" both exist.
s3.put_object(Bucket=b, Key="a", Body=b"1")
s3.put_object(Bucket=b, Key="a/b", Body=b"2")
assert s3.get_object(Bucket=b, Key="a")["Body"].read() == b"1"
assert s3.get_object(Bucket=b, Key="a/b")["Body"].read() == b"2"

# Empty object, overwrite.
s3.put_object(Bucket=b, Key="empty", Body=b"")
assert s3.get_object(Bucket=b, Key="empty")["Body"].read() == b""
s3.put_object(Bucket=b, Key="a", Body=b"one")
assert s3.get_object(Bucket=b, Key="a")["Body"].read() == b"one"

# Range.
g = s3.get_object(Bucket=b, Key=key, Range="bytes=10-19")
assert g["Body"].read() == data[10:20]
assert g["ContentRange"] == "bytes 10-19/%d" % len(data)
assert s3.get_object(Bucket=b, Key=key, Range="bytes=-5")["Body"].read() == data[-5:]

# Create-only writes.
s3.put_object(Bucket=b, Key="once", Body=b"x", IfNoneMatch="*")
expect_error("PreconditionFailed", 412, s3.put_object, Bucket=b, Key="once", Body=b"y", IfNoneMatch="*")
assert s3.get_object(Bucket=b, Key="once")["Body"].read() == b"x"

# Conditional reads.
expect_error("304", 304, s3.get_object, Bucket=b, Key=key, IfNoneMatch=etag(data))
expect_error("PreconditionFailed", 412, s3.get_object, Bucket=b, Key=key, IfMatch='"nope"')
assert s3.get_object(Bucket=b, Key=key, IfMatch=etag(data))["ContentLength"] == len(data)
future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
expect_error("304", 304, s3.get_object, Bucket=b, Key=key, IfModifiedSince=future)
past = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
expect_error("PreconditionFailed", 412, s3.get_object, Bucket=b, Key=key, IfUnmodifiedSince=past)

# response-* overrides.
g = s3.get_object(
    Bucket=b, Key=key, ResponseContentType="application/x-test",
    ResponseContentDisposition="attachment; filename=x.txt",
    ResponseCacheControl="no-cache",
)
assert g["ContentType"] == "application/x-test"
assert g["ContentDisposition"] == "attachment; filename=x.txt"
assert g["CacheControl"] == "no-cache"

# x-amz-checksum-*: checked on the way in, returned when asked for.
sha = base64.b64encode(hashlib.sha256(data).digest()).decode()
s3.put_object(Bucket=b, Key="summed", Body=data, ChecksumAlgorithm="SHA256")
g = s3.get_object(Bucket=b, Key="summed", ChecksumMode="ENABLED")
assert g["ChecksumSHA256"] == sha and g["Body"].read() == data
crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
s3.put_object(Bucket=b, Key="summed", Body=data, ChecksumCRC32=crc)
assert s3.head_object(Bucket=b, Key="summed", ChecksumMode="ENABLED")["ChecksumCRC32"] == crc
expect_error("BadDigest", 400, s3.put_object, Bucket=b, Key="bad-sum", Body=data,
             ChecksumCRC32="AAAAAA==")
expect_error("NoSuchKey", 404, s3.get_object, Bucket=b, Key="bad-sum")
s3.delete_object(Bucket=b, Key="summed")

# Virtual-hosted style sees the same bucket.
v = client("virtual")
assert v.get_object(Bucket=b, Key=key)["Body"].read() == data
v.put_object(Bucket=b, Key="virtual", Body=b"v")
assert s3.get_object(Bucket=b, Key="virtual")["Body"].read() == b"v"

# Delete: 204 whether or not the key exists.
assert s3.delete_object(Bucket=b, Key="a")["ResponseMetadata"]["HTTPStatusCode"] == 204
expect_error("NoSuchKey", 404, s3.get_object, Bucket=b, Key="a")
s3.delete_object(Bucket=b, Key="never-was")
expect_error("BucketNotEmpty", 409, s3.delete_bucket, Bucket=b)
for k in [key, "a/b", "empty", "once", "virtual"]:
    s3.delete_object(Bucket=b, Key=k)
s3.delete_bucket(Bucket=b)
expect_error("404", 404, s3.head_bucket, Bucket=b)
assert b not in [x["Name"] for x in s3.list_buckets()["Buckets"]]
print("OK")
