"""histd.v1 through the project's Python client (histd_client), each result compared with boost-histogram/hist
filled locally on the same arrays."""

import json
import os
import pickle
import sys
import threading
import time

import grpc
import h5py
import hist
import lz4.frame
import cloudpickle
import numpy as np
import uhi.io.hdf5
import uhi.io.json

from histd_client import Client, HistdError

address, outdir = sys.argv[1:3]
client = Client(address)
rng = np.random.default_rng(11)
out = {}


def same(a, b, what, exact=False):
    assert a.axes == b.axes, f"{what}: axes differ:\n{a.axes}\n{b.axes}"
    va, vb = a.view(flow=True), b.view(flow=True)
    if va.dtype.names:
        for f in va.dtype.names:
            x, y = np.asarray(va[f]), np.asarray(vb[f])
            ok = np.array_equal(x, y, equal_nan=True) if exact else np.allclose(x, y, rtol=1e-12, atol=1e-300, equal_nan=True)
            assert ok, f"{what}: field {f} differs\n{x}\n{y}"
    else:
        assert np.allclose(np.asarray(va), np.asarray(vb), rtol=1e-12, atol=0), f"{what}: values differ"


def expect_error(code, fn, what):
    try:
        fn()
    except HistdError as e:
        assert e.code == code, f"{what}: expected {code}, got {e.code}: {e.details}"
        assert e.details, what
        return e.details
    raise AssertionError(f"{what}: no error")


# 1. Many axis types, weighted storage, every dtype and codec.
def make():
    return hist.Hist(
        hist.axis.Regular(20, -3, 3, name="x"),
        hist.axis.Variable([0, 0.5, 1, 2, 5], name="v"),
        hist.axis.Integer(-2, 3, name="i"),
        hist.axis.IntCategory([1, 2, 7], name="ic"),
        hist.axis.StrCategory([], growth=True, name="s"),
        hist.axis.Boolean(name="b"),
        storage=hist.storage.Weight(),
    )


local = make()
remote = client.init(make())
assert remote.hist_id in client.list()
n = 50_000
for k, (dt, codec) in enumerate([("<f8", None), ("<f4", "lz4"), ("<i8", "zstd"), ("<i4", "blosc"), ("<f8", "blosc")]):
    kw = dict(
        x=rng.normal(size=n).astype(dt) if dt[1] == "f" else rng.integers(-4, 4, n).astype(dt),
        v=rng.uniform(-1, 6, n).astype(dt) if dt[1] == "f" else rng.integers(-1, 6, n).astype(dt),
        i=rng.integers(-4, 5, n).astype("<i8"),
        ic=rng.choice([1, 2, 7, 9], n).astype("<i4"),
        s=["a", "bb", "c"][k % 3],
        b=rng.integers(0, 2, n).astype(bool),
        weight=rng.uniform(0, 3, n),
    )
    r = remote.fill(codec=codec, **kw)
    assert r.entries == n and not r.duplicate, r
    local.fill(**kw)
same(remote.snapshot(), local, "columnar fills")

# strings column for the growing category axis
kw = dict(x=[0.1, 0.2], v=[0.7, 3.0], i=[0, 1], ic=[1, 7], s=["zz", "a"], b=[True, False], weight=[1.0, 2.0])
remote.fill(**kw)
local.fill(**kw)
same(remote.snapshot(), local, "string column with growth")

# 2. fill ids: a retried fill is counted once; fill_many.
kw = dict(x=rng.normal(size=1000), v=0.7, i=1, ic=2, s="a", b=True, weight=rng.uniform(size=1000))
r1 = remote.fill(fill_id="f-1", **kw)
r2 = remote.fill(fill_id="f-1", **kw)
assert not r1.duplicate and r2.duplicate and r2.entries == 0, (r1, r2)
local.fill(**kw)
many = [dict(x=rng.normal(size=500), v=1.5, i=0, ic=1, s="bb", b=False) for _ in range(5)]
res = remote.fill_many(many, fill_ids=[f"m-{j}" for j in range(5)])
assert [x.duplicate for x in res] == [False] * 5
res = remote.fill_many(many, fill_ids=[f"m-{j}" for j in range(5)])
assert [x.duplicate for x in res] == [True] * 5
for m in many:
    local.fill(**m)
same(remote.snapshot(), local, "fill ids and fill_many")

# 3. snapshots projected and sliced, against hist's own.
snap = remote.snapshot(project=["x", "s"])
same(snap, local.project("x", "s"), "projection")
snap = remote.snapshot(select={"v": sum, "i": 2, "x": slice(2, 15, 2)})
same(snap, local[{"v": sum, "i": 2, "x": slice(2, 15, hist.rebin(2))}], "selection")

# 4. pre-binned dense fills (dense views have the histogram's current shape: no growing axes here)
def make_fixed():
    return hist.Hist(*[a if a.name != "s" else hist.axis.StrCategory(["a", "b"], name="s") for a in make().axes], storage=hist.storage.Weight())


local2 = make_fixed()
pre = client.init(make_fixed())
for _ in range(3):
    kw = dict(x=rng.normal(size=20_000), v=rng.uniform(0, 5, 20_000), i=1, ic=7, s="a", b=False, weight=rng.uniform(size=20_000))
    pre.fill_prebinned(**kw)
    local2.fill(**kw)
same(pre.snapshot(), local2, "pre-binned")
d = hist.Hist(hist.axis.Regular(4, 0, 1, name="q"))
expect_error(grpc.StatusCode.INVALID_ARGUMENT, lambda: pre.fill_dense(d), "dense of wrong shape")

# 5. mean storage with sample
m_local = hist.Hist(hist.axis.Regular(5, 0, 1, name="x"), storage=hist.storage.Mean())
m_remote = client.init(m_local.copy())
xs, ss = rng.uniform(size=10_000), rng.normal(size=10_000)
m_remote.fill(x=xs, sample=ss)
m_local.fill(xs, sample=ss)
same(m_remote.snapshot(), m_local, "mean storage")
m_remote.fill_dense(m_local)
m_local2 = m_local.copy()
m_local2 += m_local
same(m_remote.snapshot(), m_local2, "mean dense")

# 6. export to files, loaded by Python's own readers
remote.flush("out/h.coffea")
with open(os.path.join(outdir, "out/h.coffea"), "rb") as f:
    same(cloudpickle.loads(lz4.frame.decompress(f.read())), local, ".coffea")
remote.flush("out/h.h5")
with h5py.File(os.path.join(outdir, "out/h.h5")) as f:
    same(hist.Hist(uhi.io.hdf5.read(f["histogram"])), local, ".h5")
remote.flush("h.json")
with open(os.path.join(outdir, "h.json")) as f:
    same(hist.Hist(json.load(f, object_hook=uhi.io.json.object_hook)), local, ".json")

# 7. bad input: clear status, histogram unchanged, server still serving.
before = remote.snapshot()
E = grpc.StatusCode
errs = {}
base = dict(v=0.7, i=1, ic=2, s="a", b=True)
errs["unknown axis"] = expect_error(E.INVALID_ARGUMENT, lambda: remote.fill(x=[1.0], zz=[1.0], **base), "unknown axis")
errs["length mismatch"] = expect_error(E.INVALID_ARGUMENT, lambda: remote.fill(x=[1.0, 2.0], weight=[1.0], **base), "lengths")
errs["wrong type"] = expect_error(E.INVALID_ARGUMENT, lambda: remote.fill(x=["a", "b"], **base), "strings for regular")
errs["unknown id"] = expect_error(E.NOT_FOUND, lambda: client.connect("nope"), "unknown id")
from histd_client.client import _pb  # noqa: E402

protos = _pb()[0]
good = np.arange(10, dtype="<f8")
corrupt = protos.Array(dtype="DTYPE_FLOAT64", shape=[10], data=lz4.frame.compress(good.tobytes())[:-6] + b"garbag", codec="CODEC_LZ4")
bad_req = protos.FillRequest(hist_id=remote.hist_id, columns=protos.ColumnarFill(columns={
    "x": protos.Column(array=corrupt), **{k: protos.Column(string_value=v) if isinstance(v, str) else protos.Column(double_value=v) if isinstance(v, float) else protos.Column(bool_value=v) if isinstance(v, bool) else protos.Column(int_value=v) for k, v in base.items()}}))
errs["corrupt lz4"] = expect_error(E.INVALID_ARGUMENT, lambda: client._rpc("Fill", bad_req), "corrupt lz4")
short = protos.Array(dtype="DTYPE_FLOAT64", shape=[10], data=good.tobytes()[:72])
bad_req.columns.columns["x"].array.CopyFrom(short)
errs["short bytes"] = expect_error(E.INVALID_ARGUMENT, lambda: client._rpc("Fill", bad_req), "short")
blosc_bad = protos.Array(dtype="DTYPE_FLOAT64", shape=[10], data=b"\x02\x01\x21\x08" + b"\xff" * 30, codec="CODEC_BLOSC")
bad_req.columns.columns["x"].array.CopyFrom(blosc_bad)
errs["corrupt blosc"] = expect_error(E.INVALID_ARGUMENT, lambda: client._rpc("Fill", bad_req), "blosc")
# FillMany with one bad fill applies none
errs["fill_many one bad"] = expect_error(E.INVALID_ARGUMENT, lambda: remote.fill_many([dict(x=[0.5], **base), dict(x=[0.5], zz=[1], **base)]), "fill_many")
errs["path escape"] = expect_error(E.INVALID_ARGUMENT, lambda: remote.flush("../../etc/x.json"), "escape")
errs["absolute path"] = expect_error(E.INVALID_ARGUMENT, lambda: remote.flush("/tmp/x.json"), "absolute")
errs["bad uhi"] = expect_error(E.INVALID_ARGUMENT, lambda: client.init('{"uhi_schema": 1, "axes": 3}'), "bad uhi")
errs["oversize"] = expect_error(E.RESOURCE_EXHAUSTED, lambda: remote.fill(x=np.zeros(32 * 1024 * 1024 // 8 + 10), **base), "oversize")
same(remote.snapshot(), before, "unchanged after bad input", exact=True)
out["errors"] = errs

# 8. reset, delete, describe
info = remote.describe()
assert "# Sum:" in info.repr and tuple(info.shape) == local.view(flow=True).shape, (info.shape, local.view(flow=True).shape)
m_remote.reset()
assert m_remote.snapshot().sum(flow=True).count == 0
m_remote.delete()
assert not m_remote.exists()

# 9. pickled handles fill from other processes (as dask/coffea workers would).
import subprocess  # noqa: E402

WORKER = """
import pickle, sys, numpy as np
rh = pickle.loads(sys.stdin.buffer.read())
g = np.random.default_rng(int(sys.argv[1]))
rh.fill(x=g.normal(size=10_000), v=1.0, i=0, ic=1, s="w", b=True)
"""
c_local = make()
c_remote = client.init(make())
blob = pickle.dumps(c_remote)
procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(100 + j)], stdin=subprocess.PIPE) for j in range(2)]
for p in procs:
    p.communicate(blob)
    assert p.returncode == 0
for j in range(2):
    g = np.random.default_rng(100 + j)
    c_local.fill(x=g.normal(size=10_000), v=1.0, i=0, ic=1, s="w", b=True)
same(c_remote.snapshot(), c_local, "pickled remote from 2 processes")

# 10. concurrency: 8 clients filling at once lose no counts.
conc = client.init(hist.Hist(hist.axis.Regular(50, -3, 3, name="x"), hist.axis.StrCategory(["a", "b"], name="c")))
conc_local = hist.Hist(hist.axis.Regular(50, -3, 3, name="x"), hist.axis.StrCategory(["a", "b"], name="c"))
arrays = [np.random.default_rng(200 + j).normal(size=100_000) for j in range(8)]


def filler(j):
    c = Client(address)
    rh = c.connect(conc.hist_id)
    for k in range(5):
        rh.fill(x=arrays[j], c="ab"[k % 2])


threads = [threading.Thread(target=filler, args=(j,)) for j in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
for j in range(8):
    for k in range(5):
        conc_local.fill(x=arrays[j], c="ab"[k % 2])
same(conc.snapshot(), conc_local, "8 concurrent clients")
assert conc.snapshot().sum(flow=True) == 8 * 5 * 100_000

# 11. a 1M-event fill does not stall other RPCs: Describe latency while big fills run.
big = client.init(hist.Hist(hist.axis.Regular(100, -3, 3, name="x"), hist.axis.Regular(100, -3, 3, name="y"), storage=hist.storage.Weight()))
bx, by, bw = rng.normal(size=1_000_000), rng.normal(size=1_000_000), rng.uniform(size=1_000_000)
stop = False
lat = []
big_fills = []


def big_filler():
    c = Client(address)
    rh = c.connect(big.hist_id)
    while not stop:
        t0 = time.perf_counter()
        rh.fill(x=bx, y=by, weight=bw)
        big_fills.append(time.perf_counter() - t0)


th = threading.Thread(target=big_filler)
th.start()
time.sleep(0.3)
c2 = Client(address)
h2 = c2.connect(conc.hist_id)
for _ in range(30):
    t0 = time.perf_counter()
    h2.describe()
    lat.append(time.perf_counter() - t0)
    time.sleep(0.02)
stop = True
th.join()
assert len(big_fills) >= 2, big_fills
out["describe_ms_during_1M_fills"] = {"max": max(lat) * 1e3, "median": float(np.median(lat)) * 1e3, "fills": len(big_fills), "fill_s": float(np.median(big_fills))}
big_local = hist.Hist(*big.snapshot().axes, storage=hist.storage.Weight())
for _ in big_fills:
    big_local.fill(x=bx, y=by, weight=bw)
same(big.snapshot(), big_local, "1M fills")
assert max(lat) < 1.0, lat

# 12. watch: a snapshot now, then after a change.
w = client.init(hist.Hist(hist.axis.Regular(4, 0, 1, name="x")))
it = w.watch(interval=0.05)
first = next(it)
assert first.sum() == 0
w.fill(x=[0.1, 0.2, 0.9])
second = next(it)
assert second.sum() == 3, second
it.close()

st = client.stats()
assert st["histograms"] >= 5 and st["fills"] > 0
assert st["rpcs"][("histd.v1.Histd/Fill", "OK")] > 0 and st["rpcs"][("histd.v1.Histd/Fill", "INVALID_ARGUMENT")] > 0
print(json.dumps(out))
