"""gRPC door benchmark (driven by bench/grpc.bench.ts): prints one JSON object per case.

(a) seed protocol: 1M events (x, y, weight float64 + dataset) per fill from a grpcio client built from the
    spec, raw and with the seed client's gzip; bound: the same arrays into a local boost-histogram.
(b) pre-binned fills: histd_client.fill_prebinned vs histserv's RemoteHist.fill on the same histogram."""

import json
import os
import sys
import time

import grpc
import hist
import numpy as np
import uhi.io.json

from histd_client import Client  # noqa: E402

histd_addr, histserv_addr, ir_path, mode = sys.argv[1:5]
reps = int(os.environ.get("BENCH_REPS", "8"))
N = 1_000_000
rng = np.random.default_rng(1)
x, y, w = rng.normal(size=N), rng.normal(size=N), np.ones(N)
ir = json.load(open(ir_path), object_hook=uhi.io.json.object_hook)


def best(fn, reps=reps):
    fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts), float(np.median(ts))


def emit(**kw):
    print(json.dumps(kw), flush=True)


# local bound: boost-histogram (through hist) in this process
local = hist.Hist(ir)
t_local, _ = best(lambda: local.fill(x=x, y=y, weight=w, dataset="data"))
local_mevs = N / t_local / 1e6

stats_client = Client(histd_addr)


def server_ms(fn, n):
    s0 = stats_client.stats()
    for _ in range(n):
        fn()
    s1 = stats_client.stats()
    return 1e3 * ((s1["decode_seconds"] - s0["decode_seconds"]) + (s1["fill_seconds"] - s0["fill_seconds"])) / n


if mode == "seed":
    # the seed's proto and histserv's both define a top-level FillRequest: one per process
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "test", "grpc", "py"))
    from seed_protocol import fill_request, stub
for label, comp in (("raw", grpc.Compression.NoCompression), ("gzip", grpc.Compression.Gzip)) if mode == "seed" else ():
    s = stub(histd_addr, compression=comp)

    def one():
        r = s.fill(fill_request(x=x, y=y, weight=w, dataset="data"))
        assert r.success, r.message

    t, med = best(one, reps if label == "raw" else 3)
    emit(
        case=f"seed fill 1M events ({label})",
        histd_mevs=N / t / 1e6,
        reference="local boost-histogram fill",
        reference_mevs=local_mevs,
        ratio=(N / t / 1e6) / local_mevs,
        server_ms_per_fill=server_ms(one, 3),
        client_ms_per_fill=t * 1e3,
    )

# (b) pre-binned: histd_client vs histserv, same histogram, same arrays
if mode == "prebinned":
    from histserv.client import Client as HSClient
for n in (1_000_000, 100_000, 10_000) if mode == "prebinned" else ():
    xs, ys, ws = x[:n], y[:n], w[:n]
    rh = Client(histd_addr).init(hist.Hist(ir))
    t_h, _ = best(lambda: rh.fill_prebinned(x=xs, y=ys, weight=ws, dataset="data"))
    hs = HSClient(histserv_addr).init(hist.Hist(ir))
    t_s, _ = best(lambda: hs.fill(x=xs, y=ys, weight=ws, dataset="data"))
    # both servers hold the same counts afterwards
    a = rh.snapshot().values()
    b = hs.snapshot().to_hist().values()
    assert np.allclose(a, b), "histd and histserv disagree"
    emit(
        case=f"pre-binned fill {n:,} events",
        histd_mevs=n / t_h / 1e6,
        reference="histserv 0.2.1",
        reference_mevs=n / t_s / 1e6,
        ratio=t_s / t_h,
        server_ms_per_fill=None,
    )
