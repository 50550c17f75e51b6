# The peers side of `npm run bench`: fills the same arrays into boost-histogram and numpy and prints one JSON
# line per case with their rates (best of --repeat runs, million events per second).
import json
import sys
import time

import boost_histogram as bh
import numpy as np

spec = json.load(open(sys.argv[1]))
repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 3


def load(col, n):
    if col["dtype"] == "str":
        return np.array(open(col["path"], encoding="utf8").read().split("\n")[:n])
    return np.fromfile(col["path"], dtype=np.float64 if col["dtype"] == "float64" else np.int32, count=n)


def best(fn):
    t = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        t = min(t, time.perf_counter() - t0)
    return t


for case in spec["cases"]:
    n = spec["events"]
    cols = [load(c, n) for c in case["columns"]]
    w = np.fromfile(case["weight"], dtype=np.float64, count=n) if case.get("weight") else None
    kw = {} if w is None else {"weight": w}

    def fill_bh():
        h = eval(case["bh"])  # noqa: S307 - expressions written by the benchmark itself
        h.fill(*cols, **kw)

    npf = eval(case["numpy"])  # noqa: S307
    t_bh = best(fill_bh)
    t_np = best(lambda: npf(cols, w) if w is not None else npf(cols))
    print(json.dumps({"case": case["name"], "boost_histogram_mevs": n / t_bh / 1e6, "numpy_mevs": n / t_np / 1e6}), flush=True)
