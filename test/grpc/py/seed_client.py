"""Drives /Histogrammer with a client built from the spec, fills a local hist.Hist with the same arrays, and
compares: the .coffea, .h5 and .json flushes, loaded by lz4.frame+cloudpickle, uhi.io.hdf5 and uhi.io.json.
Then bad input: each must fail with a clear message and leave the histogram unchanged."""

import json
import os
import sys

import cloudpickle
import grpc
import h5py
import hist
import lz4.frame
import numpy as np
import uhi.io.hdf5
import uhi.io.json

sys.path.insert(0, os.path.dirname(__file__))
from seed_protocol import fill_request, pb, stub  # noqa: E402

address, outdir, ir_path = sys.argv[1:4]
s = stub(address)
local = hist.Hist(json.load(open(ir_path), object_hook=uhi.io.json.object_hook))
rng = np.random.default_rng(7)
n = 300_000
out = {}


def check_equal(h, what):
    a, b = np.asarray(h.view(flow=True)), np.asarray(local.view(flow=True))
    assert h.axes == local.axes, f"{what}: axes differ"
    for field in ("value", "variance"):
        assert np.allclose(a[field], b[field], rtol=1e-13, atol=0), f"{what}: {field} differs"


def load_coffea(path):
    with open(path, "rb") as f:
        return cloudpickle.loads(lz4.frame.decompress(f.read()))


def load_h5(path):
    with h5py.File(path) as f:
        return hist.Hist(uhi.io.hdf5.read(f["histogram"]))


def load_json(path):
    with open(path) as f:
        return hist.Hist(json.load(f, object_hook=uhi.io.json.object_hook))


fills = [
    dict(x=rng.normal(size=n), y=rng.normal(size=n), dataset="data", weight=np.ones(n)),
    dict(x=rng.normal(size=n), y=rng.normal(size=n), dataset="drell-yan", weight=rng.uniform(0, 2, n)),
    # other dtypes of the seed's dtype enum; a scalar weight would be an int_value, so weights are arrays
    dict(x=rng.normal(size=n).astype("<f4"), y=rng.integers(-3, 3, n, dtype="<i4"), dataset="data", weight=np.ones(n)),
    dict(x=rng.integers(-3, 3, n, dtype="<i8"), y=rng.normal(size=n), dataset="drell-yan", weight=np.full(n, 0.5)),
]
for kw in fills:
    r = s.fill(fill_request(**kw))
    assert r.success, r.message
    assert r.message.startswith("Histogram filled {"), r.message
    assert "successfully! Now is: Hist(" in r.message and "# Sum: WeightedSum(" in r.message, r.message
    local.fill(**kw)
out["last_fill_message_tail"] = r.message[r.message.index("# Sum:") :]
out["local_repr_tail"] = repr(local)[repr(local).index("# Sum:") :]

for dest in ("hist.coffea", "sub/dir/hist.h5", "hist.hdf5", "hist.json"):
    r = s.flush(pb.FlushRequest(destination=dest))
    assert r.success, r.message
    assert r.message == f"Histogram flushed successfully to {dest}.", r.message
    path = os.path.join(outdir, dest)
    h = load_coffea(path) if dest.endswith(".coffea") else load_json(path) if dest.endswith(".json") else load_h5(path)
    assert isinstance(h, hist.Hist), type(h)
    check_equal(h, dest)
# default destination
r = s.flush(pb.FlushRequest())
assert r.success and os.path.exists(os.path.join(outdir, "hist.coffea")), r.message

# Bad input: a clear error, nothing changed, still serving.
x = rng.normal(size=10)
bad = {
    "length mismatch": pb.FillRequest(kwargs={
        "x": pb.Value(array_value=pb.ndarray(shape=[10], dtype=pb.dtype(type=1), data=x.tobytes()[:79])),
        "y": pb.Value(array_value=pb.ndarray(shape=[10], dtype=pb.dtype(type=1), data=x.tobytes())),
        "dataset": pb.Value(string_value="data")}),
    "wrong dtype": pb.FillRequest(kwargs={
        "x": pb.Value(array_value=pb.ndarray(shape=[10], dtype=pb.dtype(type=0), data=x.tobytes())),
        "y": pb.Value(array_value=pb.ndarray(shape=[10], dtype=pb.dtype(type=1), data=x.tobytes())),
        "dataset": pb.Value(string_value="data")}),
    "arrays of different lengths": fill_request(x=x, y=x[:5], dataset="data"),
    "unknown axis": fill_request(x=x, y=x, z=x, dataset="data"),
    "missing axis": fill_request(x=x, dataset="data"),
    "unknown category type": fill_request(x=x, y=x, dataset=3),
    "2-d array": fill_request(x=np.zeros((5, 2)), y=x, dataset="data"),
}
errors = {}
for what, req in bad.items():
    r = s.fill(req)
    assert not r.success, what
    assert r.message, what
    errors[what] = r.message
for dest in ("../escape.coffea", "/tmp/abs.coffea", "a/../../escape.h5", "hist.txt", ""):
    r = s.flush(pb.FlushRequest(destination=dest))
    if dest == "":
        continue  # the default destination
    assert not r.success, dest
    errors[f"flush {dest}"] = r.message
assert not os.path.exists(os.path.join(outdir, "..", "escape.coffea"))
r = s.flush(pb.FlushRequest(destination="after-bad.json"))
assert r.success, r.message
check_equal(load_json(os.path.join(outdir, "after-bad.json")), "after bad input")

# Oversize: the client may send it, the server refuses it (RESOURCE_EXHAUSTED) and keeps serving.
limit = int(sys.argv[4]) if len(sys.argv) > 4 else 0
if limit:
    big = np.zeros(limit // 8 + 1024)
    try:
        s.fill(fill_request(x=big, y=big, dataset="data"), compression=grpc.Compression.NoCompression)
        raise AssertionError("oversize fill accepted")
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, e
        errors["oversize"] = f"{e.code().name}: {e.details()}"
    r = s.flush(pb.FlushRequest(destination="after-oversize.json"))
    assert r.success, r.message
    check_equal(load_json(os.path.join(outdir, "after-oversize.json")), "after oversize")
out["errors"] = errors
print(json.dumps(out))
