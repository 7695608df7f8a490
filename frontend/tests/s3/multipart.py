"""Multipart uploads: 100 MiB in 8 MiB parts, ListParts,
ListMultipartUploads, Complete (md5-of-md5s ETag), ranged reads across
parts, UploadPartCopy, Abort, and the multipart error cases."""

import time
import hashlib
import os
from concurrent.futures import ThreadPoolExecutor

from common import client, expect_error

MIB = 1 << 20
s3 = client()
b = "multi"
s3.create_bucket(Bucket=b)

sizes = [8 * MIB] * 12 + [4 * MIB]
parts = [os.urandom(n) for n in sizes]
whole = hashlib.md5()
for p in parts:
    whole.update(p)
up = s3.create_multipart_upload(Bucket=b, Key="big", ContentType="application/x-big",
                                Metadata={"kind": "big"})
uid = up["UploadId"]


def send(i):
    r = s3.upload_part(Bucket=b, Key="big", UploadId=uid, PartNumber=i + 1, Body=parts[i])
    assert r["ETag"] == '"%s"' % hashlib.md5(parts[i]).hexdigest()
    return {"PartNumber": i + 1, "ETag": r["ETag"]}


with ThreadPoolExecutor(4) as pool:
    done = list(pool.map(send, range(len(parts))))

listed = s3.list_parts(Bucket=b, Key="big", UploadId=uid)
assert [p["PartNumber"] for p in listed["Parts"]] == list(range(1, 14))
assert [p["Size"] for p in listed["Parts"]] == sizes
page = s3.list_parts(Bucket=b, Key="big", UploadId=uid, MaxParts=5, PartNumberMarker=5)
assert [p["PartNumber"] for p in page["Parts"]] == [6, 7, 8, 9, 10] and page["IsTruncated"]
ups = s3.list_multipart_uploads(Bucket=b)["Uploads"]
assert [(u["Key"], u["UploadId"]) for u in ups] == [("big", uid)]

# Errors of Complete.
bad = [dict(done[0], ETag='"0000"')] + done[1:]
expect_error("InvalidPart", 400, s3.complete_multipart_upload, Bucket=b, Key="big",
             UploadId=uid, MultipartUpload={"Parts": bad})
expect_error("InvalidPart", 400, s3.complete_multipart_upload, Bucket=b, Key="big",
             UploadId=uid, MultipartUpload={"Parts": done + [{"PartNumber": 99, "ETag": '"x"'}]})
expect_error("InvalidPartOrder", 400, s3.complete_multipart_upload, Bucket=b, Key="big",
             UploadId=uid, MultipartUpload={"Parts": [done[1], done[0]]})

r = s3.complete_multipart_upload(Bucket=b, Key="big", UploadId=uid,
                                 MultipartUpload={"Parts": done})
md5s = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
assert r["ETag"] == '"%s-13"' % md5s, r["ETag"]
assert s3.list_multipart_uploads(Bucket=b).get("Uploads", []) == []
expect_error("NoSuchUpload", 404, s3.list_parts, Bucket=b, Key="big", UploadId=uid)

h = s3.head_object(Bucket=b, Key="big")
assert h["ContentLength"] == sum(sizes) and h["ETag"] == r["ETag"]
assert h["ContentType"] == "application/x-big" and h["Metadata"] == {"kind": "big"}
got = hashlib.md5()
body = s3.get_object(Bucket=b, Key="big")["Body"]
for chunk in body.iter_chunks(MIB):
    got.update(chunk)
assert got.hexdigest() == whole.hexdigest()
joined = b"".join(parts)
for lo, hi in [(8 * MIB - 10, 8 * MIB + 9), (0, 24 * MIB + 3), (100 * MIB - 7, 100 * MIB - 1)]:
    g = s3.get_object(Bucket=b, Key="big", Range="bytes=%d-%d" % (lo, hi))
    assert g["Body"].read() == joined[lo:hi + 1], (lo, hi)
listed = s3.list_objects_v2(Bucket=b)["Contents"]
assert [(o["Key"], o["Size"], o["ETag"]) for o in listed] == [("big", sum(sizes), r["ETag"])]

# UploadPartCopy: a range of "big" (bytes move) and all of "small" (shares
# its blob).
small = os.urandom(1000)
s3.put_object(Bucket=b, Key="small", Body=small)
cu = s3.create_multipart_upload(Bucket=b, Key="copied")["UploadId"]
p1 = s3.upload_part_copy(Bucket=b, Key="copied", UploadId=cu, PartNumber=1,
                         CopySource={"Bucket": b, "Key": "big"},
                         CopySourceRange="bytes=0-%d" % (5 * MIB - 1))
p2 = s3.upload_part_copy(Bucket=b, Key="copied", UploadId=cu, PartNumber=2,
                         CopySource="%s/small" % b)
assert p2["CopyPartResult"]["ETag"] == '"%s"' % hashlib.md5(small).hexdigest()
s3.complete_multipart_upload(Bucket=b, Key="copied", UploadId=cu, MultipartUpload={"Parts": [
    {"PartNumber": 1, "ETag": p1["CopyPartResult"]["ETag"]},
    {"PartNumber": 2, "ETag": p2["CopyPartResult"]["ETag"]},
]})
assert s3.get_object(Bucket=b, Key="copied")["Body"].read() == joined[:5 * MIB] + small

# A part under 5 MiB that is not the last.
tu = s3.create_multipart_upload(Bucket=b, Key="tiny")["UploadId"]
t1 = s3.upload_part(Bucket=b, Key="tiny", UploadId=tu, PartNumber=1, Body=b"a" * 100)
t2 = s3.upload_part(Bucket=b, Key="tiny", UploadId=tu, PartNumber=2, Body=b"b" * 100)
expect_error("EntityTooSmall", 400, s3.complete_multipart_upload, Bucket=b, Key="tiny",
             UploadId=tu, MultipartUpload={"Parts": [
                 {"PartNumber": 1, "ETag": t1["ETag"]}, {"PartNumber": 2, "ETag": t2["ETag"]}]})
# A single small part is fine.
r = s3.complete_multipart_upload(Bucket=b, Key="tiny", UploadId=tu, MultipartUpload={
    "Parts": [{"PartNumber": 2, "ETag": t2["ETag"]}]})
assert s3.get_object(Bucket=b, Key="tiny")["Body"].read() == b"b" * 100

# Abort.
au = s3.create_multipart_upload(Bucket=b, Key="gone")["UploadId"]
s3.upload_part(Bucket=b, Key="gone", UploadId=au, PartNumber=1, Body=b"x")
s3.abort_multipart_upload(Bucket=b, Key="gone", UploadId=au)
expect_error("NoSuchUpload", 404, s3.list_parts, Bucket=b, Key="gone", UploadId=au)
expect_error("NoSuchUpload", 404, s3.upload_part, Bucket=b, Key="gone", UploadId=au,
             PartNumber=1, Body=b"x")
expect_error("NoSuchUpload", 404, s3.abort_multipart_upload, Bucket=b, Key="gone", UploadId=au)
expect_error("NoSuchKey", 404, s3.get_object, Bucket=b, Key="gone")

# ListMultipartUploads pages (one metadata page per request, not a read of
# every upload): key order, then initiation order within a key, with
# prefix, key and upload-id markers.
lb = "listing-uploads"
s3.create_bucket(Bucket=lb)
made = []
for k in ["b/2", "a", "b/1", "a", "c", "b/1", "a/x"]:
    made.append((k, s3.create_multipart_upload(Bucket=lb, Key=k)["UploadId"]))
    time.sleep(0.002)
order = {u: i for i, (_, u) in enumerate(made)}
want = sorted(made, key=lambda ku: (ku[0], order[ku[1]]))
got, kw = [], {}
while True:
    page = s3.list_multipart_uploads(Bucket=lb, MaxUploads=2, **kw)
    got += [(u["Key"], u["UploadId"]) for u in page.get("Uploads", [])]
    assert len(page.get("Uploads", [])) <= 2
    if not page["IsTruncated"]:
        break
    kw = {"KeyMarker": page["NextKeyMarker"], "UploadIdMarker": page["NextUploadIdMarker"]}
assert got == want, (got, want)
page = s3.list_multipart_uploads(Bucket=lb, Prefix="b/")
assert [u["Key"] for u in page["Uploads"]] == ["b/1", "b/1", "b/2"], page["Uploads"]
page = s3.list_multipart_uploads(Bucket=lb, KeyMarker="a")
assert [u["Key"] for u in page["Uploads"]] == ["a/x", "b/1", "b/1", "b/2", "c"], page["Uploads"]
for k, u in made:
    s3.abort_multipart_upload(Bucket=lb, Key=k, UploadId=u)
assert s3.list_multipart_uploads(Bucket=lb).get("Uploads", []) == []
print("OK")
