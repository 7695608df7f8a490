"""x-amz-checksum-* with boto3: every algorithm verified on PutObject
(BadDigest on a wrong value), returned by GetObject/HeadObject with
ChecksumMode and by GetObjectAttributes; multipart uploads with composite
(CRC32C, SHA256) and full-object (CRC64NVME) checksums, checked per part."""

import base64
import hashlib
import zlib

import awscrt.checksums

from common import client, expect_error

s3 = client()
b = "sums"
s3.create_bucket(Bucket=b)


# AWS's own CRCs (the SDKs' implementation) as the reference.
def crc32c(d):
    return awscrt.checksums.crc32c(d).to_bytes(4, "big")


def crc64nvme(d):
    return awscrt.checksums.crc64nvme(d).to_bytes(8, "big")


assert crc64nvme(b"123456789").hex() == "ae8b14860a799888"


def b64(raw):
    return base64.b64encode(raw).decode()


ALGS = {
    "CRC32": lambda d: zlib.crc32(d).to_bytes(4, "big"),
    "CRC32C": crc32c,
    "CRC64NVME": crc64nvme,
    "SHA1": lambda d: hashlib.sha1(d).digest(),
    "SHA256": lambda d: hashlib.sha256(d).digest(),
}
data = b"checksummed bytes " * 1000

for alg, fn in ALGS.items():
    key = "obj-" + alg
    want = b64(fn(data))
    # boto3 computes the value and sends it as the header.
    r = s3.put_object(Bucket=b, Key=key, Body=data, ChecksumAlgorithm=alg)
    assert r["Checksum" + alg] == want and r["ChecksumType"] == "FULL_OBJECT", r
    g = s3.get_object(Bucket=b, Key=key, ChecksumMode="ENABLED")
    assert g["Body"].read() == data
    assert g["Checksum" + alg] == want and g["ChecksumType"] == "FULL_OBJECT", g
    h = s3.head_object(Bucket=b, Key=key, ChecksumMode="ENABLED")
    assert h["Checksum" + alg] == want, h
    a = s3.get_object_attributes(Bucket=b, Key=key, ObjectAttributes=["Checksum"])
    assert a["Checksum"]["Checksum" + alg] == want, a
    assert a["Checksum"]["ChecksumType"] == "FULL_OBJECT", a
    # A wrong value, given explicitly: BadDigest, nothing stored.
    wrong = b64(fn(b"other bytes"))
    expect_error("BadDigest", 400, s3.put_object, Bucket=b, Key=key + "-bad", Body=data,
                 **{"Checksum" + alg: wrong})
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=b, Key=key + "-bad")
# Not a digest of its algorithm at all.
expect_error("InvalidRequest", 400, s3.put_object, Bucket=b, Key="bad", Body=data,
             ChecksumCRC64NVME=b64(b"1234"))

# Multipart with checksums: each part checked; the object's value is
# composite (CRC32C, SHA256) or full-object (CRC64NVME).
MiB = 1024 * 1024
parts = [bytes([97 + i]) * (5 * MiB) for i in range(2)] + [b"last part"]
for alg, kind in [("CRC32C", "COMPOSITE"), ("SHA256", "COMPOSITE"), ("CRC64NVME", "FULL_OBJECT")]:
    fn, key = ALGS[alg], "mp-" + alg
    r = s3.create_multipart_upload(Bucket=b, Key=key, ChecksumAlgorithm=alg)
    assert r["ChecksumAlgorithm"] == alg and r["ChecksumType"] == kind, r
    up, done = r["UploadId"], []
    expect_error("BadDigest", 400, s3.upload_part, Bucket=b, Key=key, UploadId=up,
                 PartNumber=1, Body=parts[0], **{"Checksum" + alg: b64(fn(b"nope"))})
    for n, p in enumerate(parts, 1):
        r = s3.upload_part(Bucket=b, Key=key, UploadId=up, PartNumber=n, Body=p,
                           ChecksumAlgorithm=alg)
        assert r["Checksum" + alg] == b64(fn(p)), r
        done.append({"PartNumber": n, "ETag": r["ETag"], "Checksum" + alg: b64(fn(p))})
    bad = [dict(done[0], **{"Checksum" + alg: b64(fn(b"x"))})] + done[1:]
    expect_error("InvalidPart", 400, s3.complete_multipart_upload, Bucket=b, Key=key,
                 UploadId=up, MultipartUpload={"Parts": bad})
    r = s3.complete_multipart_upload(Bucket=b, Key=key, UploadId=up,
                                     MultipartUpload={"Parts": done})
    if kind == "COMPOSITE":
        want = "%s-%d" % (b64(fn(b"".join(fn(p) for p in parts))), len(parts))
    else:
        want = b64(fn(b"".join(parts)))
    assert r["Checksum" + alg] == want and r["ChecksumType"] == kind, r
    h = s3.head_object(Bucket=b, Key=key, ChecksumMode="ENABLED")
    assert h["Checksum" + alg] == want and h["ChecksumType"] == kind, h
    g = s3.get_object(Bucket=b, Key=key, ChecksumMode="ENABLED")
    assert g["Body"].read() == b"".join(parts)
    # One part: that part's own checksum.
    g = s3.get_object(Bucket=b, Key=key, PartNumber=3, ChecksumMode="ENABLED")
    assert g["Body"].read() == parts[2] and g["Checksum" + alg] == b64(fn(parts[2])), g
    a = s3.get_object_attributes(Bucket=b, Key=key, ObjectAttributes=["Checksum", "ObjectParts"])
    assert a["Checksum"]["Checksum" + alg] == want, a
    got = [(p["PartNumber"], p["Size"], p["Checksum" + alg]) for p in a["ObjectParts"]["Parts"]]
    assert got == [(n, len(p), b64(fn(p))) for n, p in enumerate(parts, 1)], got

expect_error("InvalidRequest", 400, s3.create_multipart_upload, Bucket=b, Key="x",
             ChecksumAlgorithm="SHA256", ChecksumType="FULL_OBJECT")
expect_error("InvalidRequest", 400, s3.create_multipart_upload, Bucket=b, Key="x",
             ChecksumAlgorithm="CRC64NVME", ChecksumType="COMPOSITE")
# A part of another algorithm than the upload's.
up = s3.create_multipart_upload(Bucket=b, Key="mix", ChecksumAlgorithm="CRC32C")["UploadId"]
expect_error("InvalidRequest", 400, s3.upload_part, Bucket=b, Key="mix", UploadId=up,
             PartNumber=1, Body=b"x", ChecksumAlgorithm="SHA1")
print("OK")
