"""Bearer tokens scope histograms; unknown or missing tokens are UNAUTHENTICATED; TLS when a CA is given."""

import json
import sys

import grpc
import hist
import numpy as np

from histd_client import Client, HistdError

address, ca_path = sys.argv[1], sys.argv[2]
ca = open(ca_path, "rb").read() if ca_path != "-" else None
mk = lambda **kw: Client(address, root_certificates=ca, **kw)  # noqa: E731
out = {}


def code_of(fn):
    try:
        fn()
    except HistdError as e:
        return e.code.name
    return "OK"


h = hist.Hist(hist.axis.Regular(10, 0, 1, name="x"))
out["anonymous"] = code_of(lambda: mk().list())
out["unknown token"] = code_of(lambda: mk(token="nope").list())
a, b = mk(token="alice-token"), mk(token="bob-token")
ra = a.init(h, id="shared-name")
ra.fill(x=np.linspace(0, 1, 100))
rb = b.init(h, id="bob-only")
out["alice sees"] = sorted(a.list())
out["bob sees"] = sorted(b.list())
out["bob reads alice's"] = code_of(lambda: b.connect(ra.hist_id))
out["alice sum"] = float(ra.snapshot().sum())
out["stats alice"] = a.stats()["histograms"]
print(json.dumps(out))
