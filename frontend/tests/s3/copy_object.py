"""CopyObject: metadata directive COPY and REPLACE, copy-source
conditions, the new key sharing the source's bytes."""

from common import client, etag, expect_error

s3 = client()
b = "copies"
s3.create_bucket(Bucket=b)
s3.create_bucket(Bucket="copies-2")
data = b"hello copy" * 1000
s3.put_object(Bucket=b, Key="src", Body=data, ContentType="text/x-src", Metadata={"a": "1"})

r = s3.copy_object(Bucket=b, Key="dst", CopySource={"Bucket": b, "Key": "src"})
assert r["CopyObjectResult"]["ETag"] == etag(data)
g = s3.get_object(Bucket=b, Key="dst")
assert g["Body"].read() == data
assert g["ContentType"] == "text/x-src" and g["Metadata"] == {"a": "1"}

r = s3.copy_object(Bucket="copies-2", Key="dst/replaced", CopySource="%s/src" % b,
                   MetadataDirective="REPLACE", ContentType="text/x-new", Metadata={"b": "2"})
g = s3.get_object(Bucket="copies-2", Key="dst/replaced")
assert g["Body"].read() == data and g["ETag"] == etag(data)
assert g["ContentType"] == "text/x-new" and g["Metadata"] == {"b": "2"}

# Replacing the metadata of an object in place; copying onto itself
# unchanged is refused.
s3.copy_object(Bucket=b, Key="src", CopySource="%s/src" % b, MetadataDirective="REPLACE",
               Metadata={"c": "3"})
assert s3.head_object(Bucket=b, Key="src")["Metadata"] == {"c": "3"}
expect_error("InvalidRequest", 400, s3.copy_object, Bucket=b, Key="src", CopySource="%s/src" % b)

# The copy is independent of the source.
s3.delete_object(Bucket=b, Key="src")
assert s3.get_object(Bucket=b, Key="dst")["Body"].read() == data
expect_error("NoSuchKey", 404, s3.copy_object, Bucket=b, Key="x", CopySource="%s/src" % b)
expect_error("NoSuchBucket", 404, s3.copy_object, Bucket=b, Key="x", CopySource="nobucket/src")

# Copy-source conditions.
expect_error("PreconditionFailed", 412, s3.copy_object, Bucket=b, Key="x",
             CopySource="%s/dst" % b, CopySourceIfMatch='"nope"')
s3.copy_object(Bucket=b, Key="x", CopySource="%s/dst" % b, CopySourceIfMatch=etag(data))
expect_error("PreconditionFailed", 412, s3.copy_object, Bucket=b, Key="y",
             CopySource="%s/dst" % b, CopySourceIfNoneMatch=etag(data))

# Keys that need escaping.
s3.put_object(Bucket=b, Key="sp ace/+plus?&.txt", Body=b"odd")
s3.copy_object(Bucket=b, Key="odd-copy", CopySource={"Bucket": b, "Key": "sp ace/+plus?&.txt"})
assert s3.get_object(Bucket=b, Key="odd-copy")["Body"].read() == b"odd"
print("OK")
