# Oracle for the operation tests: loads a histogram histd wrote (UHI JSON), applies one operation with
# boost-histogram, and prints the result as UHI JSON, or the requested views.
import json
import sys

import boost_histogram as bh
import numpy as np
import uhi.io.json


def load(s):
    return bh.Histogram(json.loads(json.dumps(s), object_hook=uhi.io.json.object_hook))


def to_slice(a, n):
    if a["kind"] == "keep":
        return slice(None)
    if a["kind"] == "pick":
        return a["bin"]
    if a["kind"] == "sum":
        if "start" in a or "stop" in a:
            return slice(a.get("start"), a.get("stop"), sum)
        return sum if a.get("flow", True) else slice(0, n, sum)
    step = bh.rebin(a["merge"]) if a.get("merge", 1) != 1 else None
    return slice(a.get("start"), a.get("stop"), step)


def arr(v):
    return None if v is None else np.asarray(v).ravel().tolist()


for line in sys.stdin:
    case = json.loads(line)
    h = load(json.loads(case["uhiText"]))
    op = case["op"]
    try:
        if op == "add":
            r = h + load(json.loads(case["otherText"]))
        elif op == "project":
            r = h.project(*case["axes"])
        elif op == "reduce":
            idx = {}
            for k, a in enumerate(case["actions"]):
                idx[k] = to_slice(a, len(h.axes[k]))
            r = h[idx]
        elif op == "views":
            flow = case["flow"]
            out = {"values": arr(h.values(flow=flow)), "variances": arr(h.variances(flow=flow)), "counts": arr(h.counts(flow=flow))}
            print(json.dumps({"ok": True, "views": out}))
            continue
        if not isinstance(r, bh.Histogram):
            print(json.dumps({"ok": True, "scalar": True}))
            continue
        print(json.dumps({"ok": True, "uhi": r}, default=uhi.io.json.default))
    except Exception as e:  # noqa: BLE001 - compared with histd's refusal
        print(json.dumps({"ok": False, "error": f"{type(e).__name__}: {e}"}))
