"""ListObjects v1 and v2 over 10,000 keys: prefixes, delimiters, paging,
markers, start-after, encoding-type=url; then DeleteObjects."""

import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

from common import client, expect_error

START = time.time()

s3 = client()
b = "listing"
s3.create_bucket(Bucket=b)
keys = ["d%03d/f%05d" % (i % 100, i) for i in range(9_990)]
keys += ["top%d" % i for i in range(5)]
keys += ["a", "a/b", "sp ace/\u00fc+%.txt", "x-y-z", "x-y"]
assert len(keys) == 10_000


def create(chunk):
    # Each process has its own client: boto3 is CPU-bound under one GIL.
    c = client()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: c.put_object(Bucket=b, Key=k, Body=k.encode()), chunk))


t0 = time.time()
with ProcessPoolExecutor(4) as procs:
    list(procs.map(create, [keys[i::4] for i in range(4)]))
print("created 10,000 keys in %.1fs" % (time.time() - t0), file=sys.stderr)
t0 = time.time()
want = sorted(keys)


T = [time.time()]


def step(name):
    now = time.time()
    print("%s: %.1fs" % (name, now - T[0]), file=sys.stderr)
    T[0] = now


def v2_all(**kw):
    out, prefixes = [], []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=b, **kw):
        out += [c["Key"] for c in page.get("Contents", [])]
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    return out, prefixes


def v1_all(**kw):
    out, prefixes = [], []
    for page in s3.get_paginator("list_objects").paginate(Bucket=b, **kw):
        out += [c["Key"] for c in page.get("Contents", [])]
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    return out, prefixes


# Everything, in order, 1000 per page.
got, _ = v2_all()
assert got == want, (len(got), [k for k in want if k not in set(got)][:5])
got, _ = v1_all()
assert got == want
page = s3.list_objects_v2(Bucket=b)
assert page["KeyCount"] == 1000 and page["IsTruncated"]
assert page["Contents"][0]["Size"] == len(page["Contents"][0]["Key"].encode())

print("listed 10,000 keys twice in %.1fs" % (time.time() - t0), file=sys.stderr)

step('# Delimiter: 100 dirs')
# Delimiter: 100 dirs + "a/", "sp ace/"; keys without "/".
tops = sorted(["d%03d/" % i for i in range(100)] + ["a/", "sp ace/"])
for lister in (v2_all, v1_all):
    got, prefixes = lister(Delimiter="/")
    assert prefixes == tops, prefixes[:5]
    assert got == sorted(["a", "x-y", "x-y-z"] + ["top%d" % i for i in range(5)]), got

step('# Small pages')
# Small pages through common prefixes (markers and tokens that are prefixes).
for lister in (v2_all, v1_all):
    got, prefixes = lister(Delimiter="/", PaginationConfig={"PageSize": 7})
    assert prefixes == tops and len(got) == 8

step('# Prefix.')
# Prefix.
got, prefixes = v2_all(Prefix="d007/")
assert got == sorted(k for k in keys if k.startswith("d007/")) and len(got) == 100
got, prefixes = v2_all(Prefix="d00", Delimiter="/")
assert got == [] and prefixes == ["d00%d/" % i for i in range(10)]
got, _ = v2_all(Prefix="nothing")
assert got == []

step('# Another delimiter.')
# Another delimiter.
got, prefixes = v2_all(Prefix="x", Delimiter="-")
assert prefixes == ["x-"] and got == []
got, prefixes = v2_all(Prefix="x-", Delimiter="-")
assert prefixes == ["x-y-"] and got == ["x-y"]

step('# start-after')
# start-after and marker.
got, _ = v2_all(StartAfter="d099/f09999")
assert got == [k for k in want if k > "d099/f09999"]
page = s3.list_objects(Bucket=b, Marker="top2", MaxKeys=2)
assert [c["Key"] for c in page["Contents"]] == ["top3", "top4"] and page["IsTruncated"]
page = s3.list_objects_v2(Bucket=b, MaxKeys=3, Prefix="d001/")
assert page["KeyCount"] == 3 and page["IsTruncated"]
nxt = s3.list_objects_v2(Bucket=b, MaxKeys=3, Prefix="d001/",
                         ContinuationToken=page["NextContinuationToken"])
assert [c["Key"] for c in nxt["Contents"]] == want[want.index("d001/f00001") + 3:][:3]

step('# encoding-type')
# encoding-type=url (botocore asks for it and decodes).
got, prefixes = v2_all(Prefix="sp ace/")
assert got == ["sp ace/\u00fc+%.txt"]
raw = s3.list_objects_v2(Bucket=b, Prefix="sp", EncodingType="url")
assert raw["Contents"][0]["Key"] == "sp%20ace/%C3%BC%2B%25.txt", raw["Contents"][0]["Key"]

step('# Consistent')
# Consistent after write.
s3.put_object(Bucket=b, Key="d050/new", Body=b"n")
got, _ = v2_all(Prefix="d050/")
assert "d050/new" in got
expect_error("InvalidArgument", 400, s3.list_objects_v2, Bucket=b, ContinuationToken="!!!")

step('# DeleteObjects')
# DeleteObjects: 1000 keys per call.
doomed = [k for k in keys if k.startswith("d0")]
for i in range(0, len(doomed), 1000):
    batch = [{"Key": k} for k in doomed[i:i + 1000]]
    r = s3.delete_objects(Bucket=b, Delete={"Objects": batch})
    assert len(r["Deleted"]) == len(batch) and not r.get("Errors")
r = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "a"}, {"Key": "ghost"}], "Quiet": True})
assert not r.get("Deleted") and not r.get("Errors")
got, _ = v2_all()
gone = set(doomed) | {"a"}
assert got == sorted(k for k in keys + ["d050/new"] if k not in gone), got[:5]
step("end")
print("total %.1fs" % (time.time() - START), file=sys.stderr)
print("OK")
