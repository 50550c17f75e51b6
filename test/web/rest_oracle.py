# The REST API's oracle: hist filled with the same arrays as the server, then the same projections and
# selections as the requests; prints values and variances with flow, and edges, as JSON.
import json
import sys

import hist
import numpy as np

d = sys.argv[1]
x = np.fromfile(f"{d}/x.bin")
y = np.fromfile(f"{d}/y.bin")
w = np.fromfile(f"{d}/w.bin")
h = hist.Hist(
    hist.axis.Regular(10, -2, 2, name="x", label="X Axis"),
    hist.axis.Regular(10, -2, 2, name="y", label="Y Axis"),
    hist.axis.StrCategory(["data", "drell-yan"], name="dataset", label="Dataset", overflow=False),
    storage=hist.storage.Weight(),
)
h.fill(x=x, y=y, dataset="data", weight=w)
h.fill(x=y, y=x, dataset="drell-yan", weight=w * 2)

rb = hist.rebin
cases = {
    "uhi": h,
    "projection:x": h.project("x"),
    "projection:0,dataset": h.project(0, "dataset"),
    "projection:y,x": h.project("y", "x"),
    "slice:2:8,sum": h[2:8, sum, :],
    "slice:::2,3,sum": h[:: rb(2), 3, sum],
    "slice:1:9:sum,,0": h[1:9:sum, :, 0],
    "slice:-3:,::5": h[-3:, :: rb(5), :],
    "slice:,,1": h[:, :, 1],
}
out = {}
for k, r in cases.items():
    out[k] = {
        "values": np.asarray(r.values(flow=True)).ravel().tolist(),
        "variances": np.asarray(r.variances(flow=True)).ravel().tolist(),
        "edges": [np.asarray(a.edges).tolist() for a in r.axes],
        "sum": float(r.sum(flow=True).value),
    }
print(json.dumps(out))
