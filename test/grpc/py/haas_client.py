"""The later HaaS protocol (haas-protocols.md §2): Init / Fill / SnapShot / Flush with Blosc-compressed arrays
(numcodecs Blosc zstd clevel 9 BITSHUFFLE, as HaaS's serialize.py), compiled here from the spec's table."""

import json
import os
import sys
import tempfile

import grpc
import h5py
import hist
import numcodecs
import numpy as np
import uhi.io.hdf5
import uhi.io.json
from grpc_tools import protoc

SPEC = """
syntax = "proto3";
service HistogrammerService {
  rpc Init(InitRequest) returns (InitResponse);
  rpc Fill(FillRequest) returns (FillResponse);
  rpc SnapShot(SnapShotRequest) returns (SnapShotResponse);
  rpc Flush(FlushRequest) returns (FlushResponse);
}
message Dtype { enum Type { TYPE_DT_FLOAT32 = 0; TYPE_DT_FLOAT64 = 1; TYPE_DT_INT32 = 2; TYPE_DT_INT64 = 3; } Type type = 2; }
message Ndarray { repeated int64 shape = 1; Dtype dtype = 2; bytes data = 3; }
message Value { oneof value { Ndarray array_value = 1; string string_value = 2; int64 int_value = 3; bool bool_value = 4; } }
message InitRequest { string hist_json = 1; }
message InitResponse { bool success = 1; string message = 2; }
message FillRequest { string hist_id = 1; map<string, Value> kwargs = 2; }
message FillResponse { bool success = 1; string message = 2; }
message SnapShotRequest { string hist_id = 1; bool drop_from_server = 2; }
message SnapShotResponse { bool success = 1; string message = 2; string hist_json = 3; map<string, Value> data = 4; }
message FlushRequest { string hist_id = 1; string destination = 2; }
message FlushResponse { bool success = 1; string message = 2; }
"""
d = tempfile.mkdtemp(prefix="haasproto-")
open(os.path.join(d, "haasspec.proto"), "w").write(SPEC)
inc = os.path.join(os.path.dirname(protoc.__file__), "_proto")
assert protoc.main(["protoc", f"-I{d}", f"-I{inc}", f"--python_out={d}", f"--grpc_python_out={d}", "haasspec.proto"]) == 0
sys.path.insert(0, d)
import haasspec_pb2 as pb  # noqa: E402
import haasspec_pb2_grpc as pbg  # noqa: E402

address, outdir = sys.argv[1:3]
stub = pbg.HistogrammerServiceStub(grpc.insecure_channel(address, options=[("grpc.max_send_message_length", 1 << 29), ("grpc.max_receive_message_length", 1 << 29)]))
codec = numcodecs.Blosc(cname="zstd", clevel=9, shuffle=numcodecs.Blosc.BITSHUFFLE)
DT = {np.dtype("<f4"): 0, np.dtype("<f8"): 1, np.dtype("<i4"): 2, np.dtype("<i8"): 3}
NP = {0: "<f4", 1: "<f8", 2: "<i4", 3: "<i8"}


def value(v):
    if isinstance(v, str):
        return pb.Value(string_value=v)
    if isinstance(v, int):
        return pb.Value(int_value=v)
    a = np.ascontiguousarray(v)
    return pb.Value(array_value=pb.Ndarray(shape=list(a.shape), dtype=pb.Dtype(type=DT[a.dtype]), data=codec.encode(a)))


h = hist.Hist(hist.axis.Regular(10, -2, 2, name="x"), hist.axis.StrCategory(["a", "b"], name="c"), hist.axis.Integer(0, 5, name="k"), storage=hist.storage.Weight())
local = h.copy()
import boost_histogram as bh  # noqa: E402

r = stub.Init(pb.InitRequest(hist_json=json.dumps(bh.serialization.to_uhi(h), default=uhi.io.json.default)))
assert r.success, r.message
hid = r.message
assert len(hid) == 32 and all(c in "0123456789abcdef" for c in hid), hid
rng = np.random.default_rng(3)
for c in "ab":
    kw = dict(x=rng.normal(size=100_000), c=c, k=rng.integers(-1, 7, 100_000).astype("<i8"), weight=rng.uniform(size=100_000))
    r = stub.Fill(pb.FillRequest(hist_id=hid, kwargs={k: value(v) for k, v in kw.items()}))
    assert r.success, r.message
    local.fill(**kw)
bad = stub.Fill(pb.FillRequest(hist_id=hid, kwargs={"x": pb.Value(array_value=pb.Ndarray(shape=[4], dtype=pb.Dtype(type=1), data=b"not blosc"))}))
assert not bad.success and "blosc" in bad.message.lower(), bad.message
s = stub.SnapShot(pb.SnapShotRequest(hist_id=hid))
assert s.success, s.message
ir = json.loads(s.hist_json, object_hook=uhi.io.json.object_hook)
assert set(ir["storage"]) == {"type"}, ir["storage"]
for key, v in s.data.items():
    arr = np.frombuffer(codec.decode(v.array_value.data), dtype=NP[v.array_value.dtype.type]).reshape(tuple(v.array_value.shape))
    ir["storage"][key] = arr
snap = hist.Hist(bh.serialization.from_uhi(ir))
assert snap == local or np.allclose(snap.view(flow=True)["value"], local.view(flow=True)["value"], rtol=1e-12), "snapshot differs"
assert np.allclose(snap.view(flow=True)["variance"], local.view(flow=True)["variance"], rtol=1e-12)
r = stub.Flush(pb.FlushRequest(hist_id=hid, destination="../x.h5"))
assert not r.success, r.message
r = stub.Flush(pb.FlushRequest(hist_id=hid, destination="haas.coffea"))
assert not r.success, r.message
r = stub.Flush(pb.FlushRequest(hist_id=hid, destination="haas.h5"))
assert r.success, r.message
with h5py.File(os.path.join(outdir, "haas.h5")) as f:
    back = hist.Hist(uhi.io.hdf5.read(f["histogram"]))
assert np.allclose(back.view(flow=True)["value"], local.view(flow=True)["value"], rtol=1e-12)
# flush evicts
r = stub.SnapShot(pb.SnapShotRequest(hist_id=hid))
assert not r.success and "no histogram" in r.message, r.message
print(json.dumps({"ok": True}))
