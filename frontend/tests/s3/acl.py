"""Canned ACLs with boto3: a public-read bucket serves anonymous (UNSIGNED)
GET, HEAD and listings and nothing else; object ACLs; public-read-write;
authenticated-read; Put/Get*Acl in AWS's XML."""

import os

import boto3
from botocore import UNSIGNED
from botocore.config import Config

from common import client, expect_error, other_client

s3 = client()
other = other_client()
anon = boto3.client("s3", endpoint_url=os.environ["S3_URL"], region_name="us-east-1",
                    config=Config(signature_version=UNSIGNED, s3={"addressing_style": "path"},
                                  retries={"max_attempts": 1, "mode": "standard"}))
me = s3.list_buckets()["Owner"]["ID"]
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def grants(acl):
    out = []
    for g in acl["Grants"]:
        who = g["Grantee"].get("ID") or g["Grantee"].get("URI")
        out.append((g["Grantee"]["Type"], who, g["Permission"]))
    return sorted(out)


# A public-read bucket: anyone reads and lists; nobody else writes.
s3.create_bucket(Bucket="pub", ACL="public-read")
s3.put_object(Bucket="pub", Key="dir/k", Body=b"public bytes")
acl = s3.get_bucket_acl(Bucket="pub")
assert acl["Owner"]["ID"] == me, acl
assert grants(acl) == sorted([("CanonicalUser", me, "FULL_CONTROL"), ("Group", ALL_USERS, "READ")]), acl
assert anon.get_object(Bucket="pub", Key="dir/k")["Body"].read() == b"public bytes"
assert anon.head_object(Bucket="pub", Key="dir/k")["ContentLength"] == 12
anon.head_bucket(Bucket="pub")
r = anon.list_objects_v2(Bucket="pub", FetchOwner=True)
assert [c["Key"] for c in r["Contents"]] == ["dir/k"] and r["Contents"][0]["Owner"]["ID"] == me, r
assert [c["Key"] for c in anon.list_objects(Bucket="pub")["Contents"]] == ["dir/k"]
expect_error("NoSuchKey", 404, anon.get_object, Bucket="pub", Key="missing")
expect_error("AccessDenied", 403, anon.put_object, Bucket="pub", Key="x", Body=b"x")
expect_error("AccessDenied", 403, anon.delete_object, Bucket="pub", Key="dir/k")
expect_error("AccessDenied", 403, anon.get_bucket_acl, Bucket="pub")
expect_error("AccessDenied", 403, anon.put_bucket_acl, Bucket="pub", ACL="public-read-write")
expect_error("AccessDenied", 403, anon.list_multipart_uploads, Bucket="pub")
expect_error("AccessDenied", 403, anon.list_buckets)
expect_error("AccessDenied", 403, anon.create_bucket, Bucket="anon-bucket")
expect_error("AccessDenied", 403, anon.delete_bucket, Bucket="pub")
assert other.get_object(Bucket="pub", Key="dir/k")["Body"].read() == b"public bytes"
expect_error("AccessDenied", 403, other.put_object, Bucket="pub", Key="x", Body=b"x")
assert s3.get_object(Bucket="pub", Key="dir/k")["Body"].read() == b"public bytes"

# A private bucket: nothing, and not even whether a key or bucket exists.
s3.create_bucket(Bucket="priv")
s3.put_object(Bucket="priv", Key="k", Body=b"secret")
for fn, kw in [(anon.get_object, {"Key": "k"}), (anon.get_object, {"Key": "missing"}),
               (anon.list_objects_v2, {}), (other.get_object, {"Key": "k"})]:
    expect_error("AccessDenied", 403, fn, Bucket="priv", **kw)
expect_error("403", 403, anon.head_bucket, Bucket="priv")
expect_error("AccessDenied", 403, anon.get_object, Bucket="no-such-bucket", Key="k")
assert grants(s3.get_bucket_acl(Bucket="priv")) == [("CanonicalUser", me, "FULL_CONTROL")]

# An object ACL opens one object of a private bucket.
s3.put_object(Bucket="priv", Key="open", Body=b"one open object", ACL="public-read")
assert anon.get_object(Bucket="priv", Key="open")["Body"].read() == b"one open object"
assert ("Group", ALL_USERS, "READ") in grants(s3.get_object_acl(Bucket="priv", Key="open"))
expect_error("AccessDenied", 403, anon.list_objects_v2, Bucket="priv")
s3.put_object_acl(Bucket="priv", Key="open", ACL="private")
expect_error("AccessDenied", 403, anon.get_object, Bucket="priv", Key="open")
assert s3.get_object(Bucket="priv", Key="open")["Body"].read() == b"one open object", "bytes kept"
# A copy does not take its source's ACL.
s3.put_object_acl(Bucket="priv", Key="open", ACL="public-read")
s3.copy_object(Bucket="priv", Key="copy", CopySource={"Bucket": "priv", "Key": "open"})
expect_error("AccessDenied", 403, anon.get_object, Bucket="priv", Key="copy")

# public-read-write: anyone writes and deletes keys, not the bucket.
s3.put_bucket_acl(Bucket="pub", ACL="public-read-write")
anon.put_object(Bucket="pub", Key="by-anyone", Body=b"anonymous write")
assert s3.get_object(Bucket="pub", Key="by-anyone")["Body"].read() == b"anonymous write"
anon.delete_object(Bucket="pub", Key="by-anyone")
expect_error("NoSuchKey", 404, s3.get_object, Bucket="pub", Key="by-anyone")
expect_error("AccessDenied", 403, anon.delete_bucket, Bucket="pub")

# authenticated-read: any account's signed request, not an anonymous one.
s3.put_bucket_acl(Bucket="pub", ACL="authenticated-read")
assert [c["Key"] for c in other.list_objects_v2(Bucket="pub")["Contents"]] == ["dir/k"]
expect_error("AccessDenied", 403, anon.list_objects_v2, Bucket="pub")

# An AccessControlPolicy body that is a canned ACL; one that is not.
owner = {"ID": me}
s3.put_bucket_acl(Bucket="pub", AccessControlPolicy={"Owner": owner, "Grants": [
    {"Grantee": {"Type": "CanonicalUser", "ID": me}, "Permission": "FULL_CONTROL"},
    {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"}]})
assert anon.get_object(Bucket="pub", Key="dir/k")["Body"].read() == b"public bytes"
them = other.list_buckets()["Owner"]["ID"]
expect_error("NotImplemented", 501, s3.put_bucket_acl, Bucket="pub", AccessControlPolicy={
    "Owner": owner, "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": them},
                                "Permission": "READ"}]})
expect_error("InvalidArgument", 400, s3.put_bucket_acl, Bucket="pub", ACL="bogus")
s3.put_bucket_acl(Bucket="pub", ACL="private")
expect_error("AccessDenied", 403, anon.get_object, Bucket="pub", Key="dir/k")
print("OK")
