# Oracle for test/interop/uhi-json.test.ts: hist/boost-histogram make random filled histograms as UHI JSON, and
# judge what histd writes back by loading it with hist and comparing with the original.
#
#   make SEED N      print N histograms as UHI JSON, one per line (json.dumps(h, default=uhi.io.json.default))
#   check            stdin: lines {"orig": text, "histd": text}; stdout: one {"ok", "why"} per line
#   fillcheck        stdin: lines {"case": case, "histd": text} (cases.ts); bh fills the case, compares with histd's
import json
import math
import random
import sys

import boost_histogram as bh
import hist
import numpy as np
import uhi.io.json

WORDS = ["data", "drell-yan", "ttbar", "QCD", "W+jets", "é", "", "it's", 'say "hi"', "\\n"]
# log: exp(log(x)) == x for these in glibc, so the transform's lower/upper survive bh's own round trip.
LOG_BOUNDS = [(1.0, 2.0), (0.5, 8.0), (1.0, 16.0), (0.25, 1024.0)]
SQRT_BOUNDS = [(0.0, 4.0), (1.0, 9.0), (0.25, 100.0)]
POW_BOUNDS = [(0.5, 4.0), (1.0, 3.0), (0.0, 2.0)]


def loads(text):
    return json.loads(text, object_hook=uhi.io.json.object_hook)


def make_axis(rng, k):
    kind = rng.choice(
        [
            "regular", "regular", "regular-growth", "regular-circular", "regular-transform",
            "variable", "variable-growth", "integer", "integer-growth",
            "integer-circular", "intcat", "intcat-growth", "strcat", "strcat-growth", "boolean",
        ]
    )
    md = {}
    if rng.random() < 0.8:
        md["name"] = f"a{k}"
    if rng.random() < 0.6:
        md["label"] = rng.choice(["X [GeV]", "p_T", "é ünïcode", "it's", 'a "quoted" label', ""])
    flows = {"underflow": rng.random() < 0.7, "overflow": rng.random() < 0.7}
    if kind.startswith("regular"):
        bins = rng.choice([1, 2, 5, 10, 22, 100])
        lo, hi = rng.choice([(0.0, 1.0), (0.0, 22.0), (-2.0, 2.0), (-0.3, 1.7), (1e-3, 1e3), (-7.5, -1.25)])
        if kind == "regular":
            ax = hist.axis.Regular(bins, lo, hi, **flows, **md)
        elif kind == "regular-growth":
            ax = hist.axis.Regular(bins, lo, hi, growth=True, **md)
        elif kind == "regular-circular":
            ax = hist.axis.Regular(bins, lo, hi, circular=True, **md)
        else:
            t = rng.choice(["log", "sqrt", "pow2", "pow0.5"])
            if t == "log":
                lo, hi = rng.choice(LOG_BOUNDS)
                tr = hist.axis.transform.log
            elif t == "sqrt":
                lo, hi = rng.choice(SQRT_BOUNDS)
                tr = hist.axis.transform.sqrt
            else:
                lo, hi = rng.choice(POW_BOUNDS)
                tr = hist.axis.transform.Pow(2.0 if t == "pow2" else 0.5)
            ax = hist.axis.Regular(rng.choice([1, 3, 8]), lo, hi, transform=tr, **md)
        return ax, lambda n: floats(rng, n, lo, hi)
    if kind.startswith("variable"):
        edges = [round(rng.uniform(-2, 2), 3)]
        for _ in range(rng.randint(1, 7)):
            edges.append(edges[-1] + rng.choice([0.1, 0.25, 1.0, round(rng.uniform(0.01, 2), 4)]))
        if kind == "variable":
            ax = hist.axis.Variable(edges, **flows, **md)
        else:
            ax = hist.axis.Variable(edges, growth=True, **md)
        return ax, lambda n: floats(rng, n, edges[0], edges[-1], edges)
    if kind.startswith("integer"):
        lo = rng.randint(-5, 5)
        hi = lo + rng.randint(1, 12)
        if kind == "integer":
            ax = hist.axis.Integer(lo, hi, **flows, **md)
        elif kind == "integer-growth":
            ax = hist.axis.Integer(lo, hi, growth=True, **md)
        else:
            ax = hist.axis.Integer(lo, hi, circular=True, underflow=False, overflow=False, **md)
        return ax, lambda n: np.array([rng.randint(lo - 4, hi + 4) for _ in range(n)], dtype=np.int64)
    if kind.startswith("intcat"):
        cats = list(dict.fromkeys(rng.randint(-20, 20) for _ in range(rng.randint(1 if kind == "intcat" else 0, 5))))
        if kind == "intcat":
            ax = hist.axis.IntCategory(cats, overflow=rng.random() < 0.6, **md)
        else:
            ax = hist.axis.IntCategory(cats, growth=True, **md)
        pool = cats or [0]
        return ax, lambda n: np.array(
            [rng.choice(pool) if rng.random() < 0.7 else rng.randint(-25, 25) for _ in range(n)], dtype=np.int64
        )
    if kind.startswith("strcat"):
        cats = list(dict.fromkeys(rng.choice(WORDS) for _ in range(rng.randint(1 if kind == "strcat" else 0, 4))))
        if kind == "strcat":
            ax = hist.axis.StrCategory(cats, overflow=rng.random() < 0.6, **md)
        else:
            ax = hist.axis.StrCategory(cats, growth=True, **md)
        return ax, lambda n: [rng.choice(WORDS) for _ in range(n)]
    return hist.axis.Boolean(**md), lambda n: np.array([rng.random() < 0.5 for _ in range(n)])


def floats(rng, n, lo, hi, edges=None):
    span = hi - lo
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.6:
            x = lo - 0.25 * span + rng.random() * 1.5 * span
        elif r < 0.75:
            x = rng.choice(edges or [lo, hi])
        elif r < 0.85:
            x = math.nextafter(rng.choice(edges or [lo, hi]), rng.choice([-math.inf, math.inf]))
        else:
            x = rng.choice([math.nan, math.inf, -math.inf, lo, hi, 0.0, -0.0])
        out.append(x)
    return np.array(out, dtype=np.float64)


def make_hist(rng):
    rank = rng.choice([0, 1, 1, 2, 2, 3]) if rng.random() < 0.95 else 0
    axes, gens = [], []
    for k in range(rank):
        ax, gen = make_axis(rng, k)
        axes.append(ax)
        gens.append(gen)
    st = rng.choice(["int", "double", "weight", "mean", "weighted_mean"])
    storage = {
        "int": hist.storage.Int64(),
        "double": hist.storage.Double(),
        "weight": hist.storage.Weight(),
        "mean": hist.storage.Mean(),
        "weighted_mean": hist.storage.WeightedMean(),
    }[st]
    hmd = {}
    if rng.random() < 0.4:
        hmd["name"] = rng.choice(["h", "hist one", "é"])
    if rng.random() < 0.3:
        hmd["label"] = "Counts"
    h = hist.Hist(*axes, storage=storage, **hmd)
    if rng.random() < 0.2:
        h.metadata = rng.choice(["meta", 3, 2.5, True])  # hist's free `metadata` attribute
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        n = rng.choice([1, 3, 20, 200])
        args = [g(n) for g in gens]
        kw = {}
        if st in ("mean", "weighted_mean"):
            s = np.array([rng.gauss(0, 10) for _ in range(n)])
            if rng.random() < 0.3:  # Infinity / NaN / -0.0 means and variances
                for i in range(n):
                    if rng.random() < 0.2:
                        s[i] = rng.choice([math.inf, -math.inf, math.nan, -0.0, 1e300])
            kw["sample"] = s
        if rng.random() < (0.8 if st == "weighted_mean" else 0.4):
            kw["weight"] = np.array([rng.choice([0.5, 1.0, 2.0, 1e-3, rng.random() * 3]) for _ in range(n)])
        if rank == 0:
            continue
        h.fill(*args, **kw)
    return h


def views_equal(a, b):
    """Exact equality of two arrays, NaN equal to NaN and -0.0 distinct from 0.0."""
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape:
        return False
    if a.dtype.kind == "f" or b.dtype.kind == "f":
        a = a.astype(np.float64)
        b = b.astype(np.float64)
        return bool(np.array_equal(a, b, equal_nan=True) and np.array_equal(np.signbit(a), np.signbit(b)))
    return bool(np.array_equal(a, b))


MEAN_FIELDS = {"mean": ["count", "value", "variance"], "weighted_mean": ["sum_of_weights", "sum_of_weights_squared", "value", "variance"]}


def compare_structure(h_o, h_n):
    """Axes (type, traits, transform, metadata, binning), storage type and histogram metadata; None if equal."""
    if len(h_o.axes) != len(h_n.axes):
        return f"rank {len(h_o.axes)} != {len(h_n.axes)}"
    for k, (a, b) in enumerate(zip(h_o.axes, h_n.axes)):
        if type(a) is not type(b):
            return f"axis {k}: {type(a).__name__} != {type(b).__name__}"
        if a.traits != b.traits:
            return f"axis {k}: traits {a.traits} != {b.traits}"
        if a.__dict__ != b.__dict__:
            return f"axis {k}: metadata {a.__dict__} != {b.__dict__}"
        if getattr(a, "transform", None) != getattr(b, "transform", None):
            return f"axis {k}: transform {a.transform} != {b.transform}"
        if a != b:
            return f"axis {k}: {a!r} != {b!r} (edges {list(a.edges)} vs {list(b.edges)})"
    if h_o.axes != h_n.axes:
        return "axes differ"
    if h_o.storage_type != h_n.storage_type:
        return f"storage {h_o.storage_type} != {h_n.storage_type}"
    if h_o.__dict__ != h_n.__dict__:
        return f"histogram metadata {h_o.__dict__} != {h_n.__dict__}"
    return None


def compare_ir_data(ir_o, ir_n, keys=None):
    for key, arr in ir_o["storage"].items():
        if key == "type" or (keys is not None and key not in keys):
            continue
        if key not in ir_n["storage"]:
            return f"storage key {key} missing"
        if not views_equal(arr, ir_n["storage"][key]):
            return f"IR storage.{key} differs:\n{np.ravel(arr)[:40]}\n{np.ravel(ir_n['storage'][key])[:40]}"
    if ir_o["storage"]["type"] != ir_n["storage"]["type"]:
        return "IR storage type differs"
    return None


def compare(orig_text, new_text, cls=hist.Hist):
    """histd's text against the original: equal axes/metadata/storage type, equal cells with flow (None if so).
    Mean storages carry M2 only as a derived variance, so their variances are compared with what hist itself
    writes back after reading the original (the same lossy M2 = variance * (count - 1) step), NaN == NaN."""
    h_o = cls(loads(orig_text))
    h_n = cls(loads(new_text))
    why = compare_structure(h_o, h_n)
    if why:
        return why
    ir_o = loads(orig_text)
    ir_n = loads(new_text)
    st = ir_o["storage"]["type"]
    if st not in MEAN_FIELDS:
        if not (h_o == h_n):
            return "h_orig == h_histd is False"
        if not views_equal(h_o.view(flow=True), h_n.view(flow=True)):
            return "views differ"
        return compare_ir_data(ir_o, ir_n)
    ref_text = json.dumps(h_o, default=uhi.io.json.default)
    h_r = cls(loads(ref_text))
    vr = h_r.view(flow=True)
    vn = h_n.view(flow=True)
    for f in MEAN_FIELDS[st]:
        if not views_equal(getattr(vr, f), getattr(vn, f)):
            return f"view.{f} differs:\n{getattr(vr, f).ravel()[:40]}\n{getattr(vn, f).ravel()[:40]}"
    return compare_ir_data(ir_o, ir_n, {"counts", "sum_of_weights", "sum_of_weights_squared", "values"}) or compare_ir_data(
        loads(ref_text), ir_n
    )


def cmd_make(seed, count):
    rng = random.Random(seed)
    made = skipped = 0
    while made < count:
        h = make_hist(rng)
        text = json.dumps(h, default=uhi.io.json.default)
        # Only histograms that hist itself reads back with the same axes are fair to ask of histd.
        try:
            why = compare_structure(h, hist.Hist(loads(text)))
        except Exception as e:  # noqa: BLE001
            why = repr(e)
        if why is not None and "_variance_known" not in why:
            skipped += 1
            print(f"skipped (hist's own round trip fails: {why.splitlines()[0]}): {text[:300]}", file=sys.stderr)
            continue
        print(text)
        made += 1
    print(f"made {made}, skipped {skipped}", file=sys.stderr)


def cmd_check():
    for line in sys.stdin:
        pair = json.loads(line)
        try:
            why = compare(pair["orig"], pair["histd"])
        except Exception as e:  # noqa: BLE001
            why = f"{type(e).__name__}: {e}"
        print(json.dumps({"ok": why is None, "why": why}))
        sys.stdout.flush()


DTYPES = {"float64": np.float64, "float32": np.float32, "int64": np.int64, "int32": np.int32, "bool": np.bool_}


def column(spec):
    if spec["kind"] == "scalar":
        return spec["value"]
    if spec["dtype"] == "str":
        return np.array(spec["values"], dtype=object) if spec["values"] else np.array([], dtype=str)
    return np.asarray(spec["values"], dtype=DTYPES[spec["dtype"]])


def cmd_fillcheck():
    for line in sys.stdin:
        msg = json.loads(line)
        case = msg["case"]
        try:
            h = bh.Histogram(loads(json.dumps(case["uhi"])))
            for fill in case["fills"]:
                kw = {k: column(fill[k]) for k in ("weight", "sample") if k in fill}
                args = [column(c) for c in fill["args"]]
                n = max((len(a) for a in args if isinstance(a, np.ndarray)), default=None)
                if n is not None:  # bh#960: spell broadcast scalars out (see bh_fill.py)
                    args = [a if isinstance(a, np.ndarray) else np.array([a] * n) for a in args]
                h.fill(*args, **kw)
            # Axes and metadata against the filled histogram itself: bh 1.8 writes circular Variable axes with
            # wrong edges and leaves _variance_known out of its JSON, so its own text is not the reference there.
            h_n = bh.Histogram(loads(msg["histd"]))
            why = compare_structure(h, h_n)
            if why is None and h.storage_type not in (bh.storage.Mean, bh.storage.WeightedMean):
                if not (h == h_n):
                    why = "h_bh == h_histd is False"
            # Cells: histd's arrays against bh's, exactly (NaN == NaN, -0.0 != 0.0), variances included.
            if why is None:
                why = compare_ir_data(loads(json.dumps(h, default=uhi.io.json.default)), loads(msg["histd"]))
        except Exception as e:  # noqa: BLE001
            why = f"{type(e).__name__}: {e}"
        print(json.dumps({"ok": why is None, "why": why}))
        sys.stdout.flush()


if __name__ == "__main__":
    if sys.argv[1] == "make":
        cmd_make(int(sys.argv[2]), int(sys.argv[3]))
    elif sys.argv[1] == "check":
        cmd_check()
    elif sys.argv[1] == "fillcheck":
        cmd_fillcheck()
