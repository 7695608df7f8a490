"""Each S3 error the issue names, as boto3 sees it: code, status, request
id."""

from botocore.exceptions import ClientError

from common import client, expect_error, other_client

s3 = client()
other = other_client()

expect_error("NoSuchBucket", 404, s3.list_objects_v2, Bucket="no-such-bucket")
expect_error("NoSuchBucket", 404, s3.put_object, Bucket="no-such-bucket", Key="k", Body=b"x")
expect_error("NoSuchBucket", 404, s3.delete_bucket, Bucket="no-such-bucket")
for bad in ["ab", "Upper-case", "under_score", "-dash-first", "a..b", "192.168.1.1", "x" * 64]:
    expect_error("InvalidBucketName", 400, s3.create_bucket, Bucket=bad)

s3.create_bucket(Bucket="errs")
expect_error("BucketAlreadyOwnedByYou", 409, s3.create_bucket, Bucket="errs")
expect_error("BucketAlreadyExists", 409, other.create_bucket, Bucket="errs")
expect_error("AccessDenied", 403, other.list_objects_v2, Bucket="errs")
expect_error("AccessDenied", 403, other.get_object, Bucket="errs", Key="k")

expect_error("NoSuchKey", 404, s3.get_object, Bucket="errs", Key="missing")
expect_error("404", 404, s3.head_object, Bucket="errs", Key="missing")

s3.put_object(Bucket="errs", Key="k", Body=b"0123456789")
expect_error("BucketNotEmpty", 409, s3.delete_bucket, Bucket="errs")
expect_error("InvalidRange", 416, s3.get_object, Bucket="errs", Key="k", Range="bytes=10-20")
expect_error("PreconditionFailed", 412, s3.put_object, Bucket="errs", Key="k", Body=b"x",
             IfNoneMatch="*")
expect_error("PreconditionFailed", 412, s3.get_object, Bucket="errs", Key="k", IfMatch='"x"')
expect_error("BadDigest", 400, s3.put_object, Bucket="errs", Key="k2", Body=b"abc",
             ContentMD5="1B2M2Y8AsgTpgAmY7PhCfg==")
expect_error("InvalidDigest", 400, s3.put_object, Bucket="errs", Key="k2", Body=b"abc",
             ContentMD5="not-base64")
expect_error("KeyTooLongError", 400, s3.put_object, Bucket="errs", Key="k" * 1025, Body=b"")

expect_error("NoSuchUpload", 404, s3.upload_part, Bucket="errs", Key="k", UploadId="nope",
             PartNumber=1, Body=b"x")
expect_error("NoSuchUpload", 404, s3.complete_multipart_upload, Bucket="errs", Key="k",
             UploadId="nope", MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"x"'}]})
uid = s3.create_multipart_upload(Bucket="errs", Key="m")["UploadId"]
expect_error("InvalidPart", 400, s3.complete_multipart_upload, Bucket="errs", Key="m",
             UploadId=uid, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"x"'}]})
expect_error("InvalidArgument", 400, s3.upload_part, Bucket="errs", Key="m", UploadId=uid,
             PartNumber=10001, Body=b"x")

# A wrong secret, and an unknown access key.
bad = client(secret="wrong-secret")
expect_error("SignatureDoesNotMatch", 403, bad.list_buckets)
expect_error("SignatureDoesNotMatch", 403, bad.put_object, Bucket="errs", Key="z", Body=b"z")
expect_error("InvalidAccessKeyId", 403, client(key="AKIDUNKNOWN0000000000").list_buckets)

# Error bodies are S3 XML with a request id in the body and the header.
try:
    s3.get_object(Bucket="errs", Key="missing")
except ClientError as e:
    assert e.response["Error"]["Key"] == "missing", e.response
    rid = e.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
    assert rid == e.response["ResponseMetadata"]["RequestId"]
print("OK")
