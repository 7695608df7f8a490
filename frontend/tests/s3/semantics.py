"""Small S3 semantics clients rely on: max-keys=0, GetBucketLocation,
CreateBucket of an existing bucket, and a CompleteMultipartUpload retried
after its answer was lost."""

from common import client, etag, expect_error, other_client

s3 = client()
b = "semantics"
s3.create_bucket(Bucket=b)

# max-keys=0: no keys and not truncated, on an empty bucket and a full one.
for keys in [[], ["a", "b/c"]]:
    for k in keys:
        s3.put_object(Bucket=b, Key=k, Body=b"x")
    r = s3.list_objects(Bucket=b, MaxKeys=0)
    assert "Contents" not in r and r["IsTruncated"] is False and r["MaxKeys"] == 0, r
    r = s3.list_objects_v2(Bucket=b, MaxKeys=0)
    assert "Contents" not in r and r["IsTruncated"] is False and r["KeyCount"] == 0, r
    assert "NextContinuationToken" not in r, r
expect_error("NoSuchBucket", 404, s3.list_objects_v2, Bucket="no-such-bucket", MaxKeys=0)

# GetBucketLocation: us-east-1 is the empty constraint.
assert s3.get_bucket_location(Bucket=b)["LocationConstraint"] in (None, "")

# CreateBucket again: ours keeps its keys; another account's is taken.
expect_error("BucketAlreadyOwnedByYou", 409, s3.create_bucket, Bucket=b)
assert s3.get_object(Bucket=b, Key="a")["Body"].read() == b"x"
expect_error("BucketAlreadyExists", 409, other_client().create_bucket, Bucket=b)

# CompleteMultipartUpload retried with the same parts succeeds again with
# the same ETag; with other parts, the upload is gone.
part = b"p" * (5 * 1024 * 1024)
up = s3.create_multipart_upload(Bucket=b, Key="mp")["UploadId"]
e1 = s3.upload_part(Bucket=b, Key="mp", UploadId=up, PartNumber=1, Body=part)["ETag"]
e2 = s3.upload_part(Bucket=b, Key="mp", UploadId=up, PartNumber=2, Body=b"tail")["ETag"]
parts = {"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]}
first = s3.complete_multipart_upload(Bucket=b, Key="mp", UploadId=up, MultipartUpload=parts)
again = s3.complete_multipart_upload(Bucket=b, Key="mp", UploadId=up, MultipartUpload=parts)
assert first["ETag"] == again["ETag"] and first["ETag"].endswith('-2"'), (first, again)
assert again["Key"] == "mp" and again["Bucket"] == b, again
assert s3.get_object(Bucket=b, Key="mp")["Body"].read() == part + b"tail"
expect_error("NoSuchUpload", 404, s3.complete_multipart_upload, Bucket=b, Key="mp", UploadId=up,
             MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}]})
# Once the key holds something else, the old completion is not claimed.
s3.put_object(Bucket=b, Key="mp", Body=b"replaced")
assert s3.head_object(Bucket=b, Key="mp")["ETag"] == etag(b"replaced")
expect_error("NoSuchUpload", 404, s3.complete_multipart_upload, Bucket=b, Key="mp", UploadId=up,
             MultipartUpload=parts)
print("OK")
