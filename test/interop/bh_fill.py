# Oracle for the engine interop tests: builds each case's histogram in boost-histogram from the same UHI JSON,
# fills it with the same arrays, and prints the filled histogram as UHI JSON (one per line).
import json
import sys

import boost_histogram as bh
import numpy as np
import uhi.io.json

DTYPES = {"float64": np.float64, "float32": np.float32, "int64": np.int64, "int32": np.int32, "bool": np.bool_}


def column(spec):
    if spec["kind"] == "scalar":
        return spec["value"]
    if spec["dtype"] == "str":
        return np.array(spec["values"], dtype=object) if spec["values"] else np.array([], dtype=str)
    return np.asarray(spec["values"], dtype=DTYPES[spec["dtype"]])


for line in sys.stdin:
    case = json.loads(line)
    ir = json.loads(json.dumps(case["uhi"]), object_hook=uhi.io.json.object_hook)
    out = []
    try:
        h = bh.Histogram(ir)
        for fill in case["fills"]:
            kwargs = {}
            if "weight" in fill:
                kwargs["weight"] = column(fill["weight"])
            if "sample" in fill:
                kwargs["sample"] = column(fill["sample"])
            args = [column(c) for c in fill["args"]]
            # boost-histogram 1.8 drops a whole chunk when a broadcast scalar meets an entry that a
            # non-flow axis drops (bh#960, boostorg/histogram#426); histd drops only that entry, which is what
            # the same fill with the scalar spelled out as an array gives, so the oracle spells it out.
            n = max((len(a) for a in args if isinstance(a, np.ndarray)), default=None)
            if n is not None:
                args = [a if isinstance(a, np.ndarray) else np.array([a] * n) for a in args]
            h.fill(*args, **kwargs)
        print(json.dumps({"ok": True, "uhi": h}, default=uhi.io.json.default))
    except Exception as e:  # noqa: BLE001 - the test compares error/no-error with histd
        print(json.dumps({"ok": False, "error": f"{type(e).__name__}: {e}"}))
    sys.stdout.flush()
