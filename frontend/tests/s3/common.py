"""Shared set-up of the S3 client tests: a boto3 client on the test
cluster's S3 port (S3_URL), credentials from the environment, and helpers
asserting S3 error codes."""

import base64
import hashlib
import os
import socket

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

_getaddrinfo = socket.getaddrinfo


def _resolve_localhost_subdomains(host, *args, **kwargs):
    # Virtual-hosted-style requests go to <bucket>.localhost; not every
    # resolver answers for subdomains of localhost.
    if isinstance(host, str) and host.endswith(".localhost"):
        host = "127.0.0.1"
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _resolve_localhost_subdomains


def client(style="path", key=None, secret=None):
    url = os.environ["S3_URL"]
    if style == "virtual":
        url = url.replace("127.0.0.1", "localhost")
    return boto3.client(
        "s3",
        endpoint_url=url,
        aws_access_key_id=key or os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=secret or os.environ["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": style},
            retries={"max_attempts": 1, "mode": "standard"},
            max_pool_connections=64,
        ),
    )


def other_client():
    return client(key=os.environ["OTHER_ACCESS_KEY_ID"], secret=os.environ["OTHER_SECRET_ACCESS_KEY"])


def md5_b64(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def etag(data):
    return '"%s"' % hashlib.md5(data).hexdigest()


def expect_error(code, status, fn, *args, **kwargs):
    """Calls fn, which must fail with S3 error `code` and HTTP `status`, and
    a request id."""
    try:
        fn(*args, **kwargs)
    except ClientError as e:
        got = e.response["Error"].get("Code")
        got_status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        assert got == code, "expected %s, got %s: %s" % (code, got, e.response)
        assert got_status == status, "expected %d, got %d" % (status, got_status)
        assert e.response["ResponseMetadata"].get("RequestId"), e.response
        return e
    raise AssertionError("expected %s, call succeeded" % code)
