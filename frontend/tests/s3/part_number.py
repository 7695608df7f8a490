"""GetObject/HeadObject with partNumber, and GetObjectAttributes, as boto3
sees them."""

from common import client, expect_error

s3 = client()
b = "parts"
s3.create_bucket(Bucket=b)

MiB = 1024 * 1024
chunks = [bytes([65 + i]) * (5 * MiB + i) for i in range(3)] + [b"tail"]
up = s3.create_multipart_upload(Bucket=b, Key="mp")["UploadId"]
etags = []
for n, c in enumerate(chunks, 1):
    etags.append(s3.upload_part(Bucket=b, Key="mp", UploadId=up, PartNumber=n, Body=c)["ETag"])
s3.complete_multipart_upload(
    Bucket=b, Key="mp", UploadId=up,
    MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]})
whole = b"".join(chunks)
total = len(whole)

# Each part: its bytes, 206 with the part's Content-Range, the parts count.
offset = 0
for n, c in enumerate(chunks, 1):
    r = s3.get_object(Bucket=b, Key="mp", PartNumber=n)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 206, r["ResponseMetadata"]
    assert r["Body"].read() == c, n
    assert r["ContentLength"] == len(c), r
    assert r["ContentRange"] == "bytes %d-%d/%d" % (offset, offset + len(c) - 1, total), r
    assert r["PartsCount"] == 4, r
    h = s3.head_object(Bucket=b, Key="mp", PartNumber=n)
    assert h["ResponseMetadata"]["HTTPStatusCode"] == 206, h["ResponseMetadata"]
    assert h["ContentLength"] == len(c) and h["PartsCount"] == 4, h
    offset += len(c)
expect_error("InvalidPartNumber", 416, s3.get_object, Bucket=b, Key="mp", PartNumber=5)
expect_error("416", 416, s3.head_object, Bucket=b, Key="mp", PartNumber=5)
expect_error("InvalidArgument", 400, s3.get_object, Bucket=b, Key="mp", PartNumber=0)
expect_error("InvalidRequest", 400, s3.get_object, Bucket=b, Key="mp", PartNumber=1, Range="bytes=0-1")

# A single-part object is its own part 1.
s3.put_object(Bucket=b, Key="one", Body=b"0123456789")
r = s3.get_object(Bucket=b, Key="one", PartNumber=1)
assert r["Body"].read() == b"0123456789" and r["ContentLength"] == 10, r
assert r["ContentRange"] == "bytes 0-9/10", r
assert "PartsCount" not in r, r
expect_error("InvalidPartNumber", 416, s3.get_object, Bucket=b, Key="one", PartNumber=2)

# GetObjectAttributes.
ALL = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]
a = s3.get_object_attributes(Bucket=b, Key="one", ObjectAttributes=ALL)
assert a["ETag"] == "781e5e245d69b566979b86e28d23f2c7", a
assert a["ObjectSize"] == 10 and a["StorageClass"] == "STANDARD", a
assert "ObjectParts" not in a and "LastModified" in a, a
a = s3.get_object_attributes(Bucket=b, Key="mp", ObjectAttributes=["ObjectParts", "ObjectSize"])
assert "ETag" not in a and a["ObjectSize"] == total, a
op = a["ObjectParts"]
assert op["TotalPartsCount"] == 4 and op["IsTruncated"] is False, op
assert [(p["PartNumber"], p["Size"]) for p in op["Parts"]] == \
    [(n, len(c)) for n, c in enumerate(chunks, 1)], op
# Paged: two at a time.
a = s3.get_object_attributes(Bucket=b, Key="mp", ObjectAttributes=["ObjectParts"], MaxParts=2)
op = a["ObjectParts"]
assert op["IsTruncated"] is True and op["NextPartNumberMarker"] == 2, op
assert [p["PartNumber"] for p in op["Parts"]] == [1, 2], op
a = s3.get_object_attributes(Bucket=b, Key="mp", ObjectAttributes=["ObjectParts"], MaxParts=2,
                             PartNumberMarker=2)
op = a["ObjectParts"]
assert op["IsTruncated"] is False and op["PartNumberMarker"] == 2, op
assert [p["PartNumber"] for p in op["Parts"]] == [3, 4], op
expect_error("NoSuchKey", 404, s3.get_object_attributes, Bucket=b, Key="nope", ObjectAttributes=ALL)
expect_error("InvalidArgument", 400, s3.get_object_attributes, Bucket=b, Key="one",
             ObjectAttributes=["Bogus"])
print("OK")
