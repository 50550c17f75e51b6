"""histd's Python client: remote histograms that feel like hist.Hist.

    from histd_client import Client
    remote = Client("localhost:50051").init(h)      # h: a hist.Hist (its axes and storage; data is kept)
    remote.fill(x=xs, y=ys, dataset="data", weight=w)
    h2 = remote.snapshot()                          # a hist.Hist
"""

from .client import Client, HistdError, RemoteHist
from .haas import HaaSClient

__all__ = ["Client", "HaaSClient", "HistdError", "RemoteHist"]
