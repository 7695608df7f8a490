"""Garbage collection meets S3's shared and pending blobs, in steps the
Rust test (durability.rs) interleaves with maintenance passes:

  start   a pending multipart upload (parts uploaded, not completed), an
          aborted one, and a CopyObject whose source is then deleted
  finish  completes the pending upload
  verify  every surviving object reads back exactly
"""

import hashlib
import sys

from common import client

BUCKET = "gcmp"
PART = 5 * 1024 * 1024


def data(seed, n):
    out = bytearray()
    block = hashlib.sha256(str(seed).encode()).digest()
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:n])


def expected():
    return {
        "big": data(1, PART) + data(2, 1024 * 1024),
        "copy": data(3, 300_000),
    }


def start(s3):
    s3.create_bucket(Bucket=BUCKET)
    up = s3.create_multipart_upload(Bucket=BUCKET, Key="big")["UploadId"]
    want = expected()["big"]
    for n, chunk in ((1, want[:PART]), (2, want[PART:])):
        s3.upload_part(Bucket=BUCKET, Key="big", UploadId=up, PartNumber=n, Body=chunk)
    gone = s3.create_multipart_upload(Bucket=BUCKET, Key="gone")["UploadId"]
    s3.upload_part(Bucket=BUCKET, Key="gone", UploadId=gone, PartNumber=1, Body=data(9, 200_000))
    s3.abort_multipart_upload(Bucket=BUCKET, Key="gone", UploadId=gone)
    s3.put_object(Bucket=BUCKET, Key="src", Body=expected()["copy"])
    s3.copy_object(Bucket=BUCKET, Key="copy", CopySource={"Bucket": BUCKET, "Key": "src"})
    s3.delete_object(Bucket=BUCKET, Key="src")
    print("UPLOAD", up)


def finish(s3, up):
    parts = s3.list_parts(Bucket=BUCKET, Key="big", UploadId=up)["Parts"]
    s3.complete_multipart_upload(
        Bucket=BUCKET,
        Key="big",
        UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in parts]},
    )


def verify(s3):
    for key, want in expected().items():
        got = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        assert got == want, f"{key}: {len(got)} bytes, wrong content"


def main():
    s3 = client()
    step = sys.argv[1]
    if step == "start":
        start(s3)
    elif step == "finish":
        finish(s3, sys.argv[2])
        verify(s3)
    elif step == "verify":
        verify(s3)
    print("OK")


if __name__ == "__main__":
    main()
