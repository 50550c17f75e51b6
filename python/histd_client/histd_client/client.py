"""Client and RemoteHist for histd.v1.Histd (see proto/histd/v1/histd.proto)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import boost_histogram as bh
import grpc
import hist
import numpy as np
import uhi.io.json

from ._protos import load

MAX_MESSAGE = 512 * 1024 * 1024
_OPTIONS = [
    ("grpc.max_send_message_length", MAX_MESSAGE),
    ("grpc.max_receive_message_length", MAX_MESSAGE),
]

_DTYPES = {
    np.dtype("<f8"): "DTYPE_FLOAT64",
    np.dtype("<f4"): "DTYPE_FLOAT32",
    np.dtype("<i8"): "DTYPE_INT64",
    np.dtype("<i4"): "DTYPE_INT32",
    np.dtype("u1"): "DTYPE_UINT8",
    np.dtype("?"): "DTYPE_BOOL",
}
_STORAGE_KEYS = {
    "int": ["values"],
    "double": ["values"],
    "weighted": ["values", "variances"],
    "mean": ["counts", "values", "variances"],
    "weighted_mean": ["sum_of_weights", "sum_of_weights_squared", "values", "variances"],
}
# Fields of boost-histogram's structured views, in the order of _STORAGE_KEYS.
_VIEW_FIELDS = {
    "weighted": ["value", "variance"],
    "mean": ["count", "value", "_sum_of_deltas_squared"],
    "weighted_mean": ["sum_of_weights", "sum_of_weights_squared", "value", "_sum_of_weighted_deltas_squared"],
}


def _pb():
    return load("histd/v1/histd.proto")


class HistdError(Exception):
    """A failed call: `code` is the grpc.StatusCode, `details` the server's message."""

    def __init__(self, code: grpc.StatusCode, details: str):
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details


def _call(fn, request, **kw):
    try:
        return fn(request, **kw)
    except grpc.RpcError as e:  # pragma: no cover - exercised through tests
        raise HistdError(e.code(), e.details()) from None


def _compress(data: bytes, codec: str | None, itemsize: int) -> bytes:
    if codec in (None, "none"):
        return data
    if codec == "lz4":
        import lz4.frame

        return lz4.frame.compress(data)
    if codec == "zstd":
        import zstandard

        return zstandard.ZstdCompressor(level=1).compress(data)
    if codec == "blosc":
        import numcodecs

        return numcodecs.Blosc(cname="zstd", clevel=1, shuffle=numcodecs.Blosc.BITSHUFFLE).encode(
            np.frombuffer(data, dtype=f"u{itemsize}" if itemsize in (1, 2, 4, 8) else "u1")
        )
    raise ValueError(f"unknown codec {codec!r} (use None, 'lz4', 'zstd' or 'blosc')")


_CODEC_ENUM = {None: "CODEC_NONE", "none": "CODEC_NONE", "lz4": "CODEC_LZ4", "zstd": "CODEC_ZSTD", "blosc": "CODEC_BLOSC"}


def encode_array(a: np.ndarray, codec: str | None = None):
    """An ndarray as a histd.v1.Array (little-endian, C order; other dtypes are converted)."""
    protos, _ = _pb()
    a = np.asarray(a)
    if a.dtype.kind == "b":
        a = a.astype("?", copy=False)
    elif a.dtype.kind in "iu" and a.dtype not in _DTYPES:
        a = a.astype("<i8")
    elif a.dtype.kind == "f" and a.dtype not in _DTYPES:
        a = a.astype("<f8")
    elif a.dtype.byteorder == ">":
        a = a.astype(a.dtype.newbyteorder("<"))
    if a.dtype not in _DTYPES:
        raise TypeError(f"cannot send an array of dtype {a.dtype}")
    a = np.ascontiguousarray(a)
    return protos.Array(
        dtype=_DTYPES[a.dtype],
        shape=list(a.shape),
        data=_compress(a.tobytes(), codec, a.dtype.itemsize),
        codec=_CODEC_ENUM[codec],
    )


def encode_column(v: Any, codec: str | None = None):
    protos, _ = _pb()
    if isinstance(v, str):
        return protos.Column(string_value=v)
    if isinstance(v, (bool, np.bool_)):
        return protos.Column(bool_value=bool(v))
    if isinstance(v, (int, np.integer)):
        return protos.Column(int_value=int(v))
    if isinstance(v, (float, np.floating)):
        return protos.Column(double_value=float(v))
    a = np.asarray(v)
    if a.dtype.kind in "UO":
        return protos.Column(strings=protos.Strings(values=[str(s) for s in a.ravel()]))
    return protos.Column(array=encode_array(a, codec))


def _decode_array(a) -> np.ndarray:
    dt = {v: k for k, v in _DTYPES.items()}[a.dtype if isinstance(a.dtype, str) else _pb()[0].DType.Name(a.dtype)]
    if a.codec != 0:
        raise ValueError("compressed snapshots are not supported")
    return np.frombuffer(a.data, dtype=dt).reshape(tuple(a.shape))


def hist_to_uhi_json(h: bh.Histogram) -> str:
    return json.dumps(bh.serialization.to_uhi(h), default=uhi.io.json.default)


def snapshot_to_hist(snap) -> hist.Hist:
    ir = json.loads(snap.uhi_json, object_hook=uhi.io.json.object_hook)
    for key, arr in snap.storage.items():
        ir["storage"][key] = _decode_array(arr)
    return hist.Hist(bh.serialization.from_uhi(ir))


class Client:
    """A connection to a histd server. Picklable: the channel is reopened where it is unpickled.

    `token`: a bearer token (it scopes which histograms this client sees); `root_certificates` (PEM bytes) or
    `tls=True` for TLS; `compression`: codec for fill arrays (None, "lz4", "zstd", "blosc")."""

    def __init__(
        self,
        address: str,
        *,
        token: str | None = None,
        tls: bool = False,
        root_certificates: bytes | None = None,
        compression: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.address = address
        self.token = token
        self.tls = tls or root_certificates is not None
        self.root_certificates = root_certificates
        self.compression = compression
        self.timeout = timeout
        self._channel: grpc.Channel | None = None
        self._stub = None

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_channel"] = None
        state["_stub"] = None
        return state

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
        self._channel = None
        self._stub = None

    @property
    def stub(self):
        if self._stub is None:
            if self.tls:
                creds = grpc.ssl_channel_credentials(root_certificates=self.root_certificates)
                self._channel = grpc.secure_channel(self.address, creds, options=_OPTIONS)
            else:
                self._channel = grpc.insecure_channel(self.address, options=_OPTIONS)
            self._stub = _pb()[1].HistdStub(self._channel)
        return self._stub

    @property
    def metadata(self):
        return (("authorization", f"Bearer {self.token}"),) if self.token else None

    def _rpc(self, name: str, request, timeout: float | None = None):
        return _call(getattr(self.stub, name), request, metadata=self.metadata, timeout=timeout or self.timeout)

    def init(self, h: bh.Histogram | str, *, id: str | None = None, if_not_exists: bool = False) -> RemoteHist:
        """Creates a remote histogram with `h`'s axes, storage and contents (or from UHI JSON text)."""
        protos, _ = _pb()
        text = h if isinstance(h, str) else hist_to_uhi_json(h)
        info = self._rpc("Create", protos.CreateRequest(uhi_json=text, id=id or "", if_not_exists=if_not_exists))
        return RemoteHist(self, info.hist_id)

    def connect(self, hist_id: str) -> RemoteHist:
        """A handle on an existing remote histogram (NOT_FOUND if this client cannot see it)."""
        remote = RemoteHist(self, hist_id)
        remote.describe()
        return remote

    def list(self) -> list[str]:
        protos, _ = _pb()
        return [i.hist_id for i in self._rpc("List", protos.ListRequest()).histograms]

    def stats(self) -> dict[str, Any]:
        protos, _ = _pb()
        r = self._rpc("Stats", protos.StatsRequest())
        out: dict[str, Any] = {
            k: getattr(r, k)
            for k in ("histograms", "bytes", "total_histograms", "total_bytes", "fills", "entries", "received_bytes", "uptime_s", "decode_seconds", "fill_seconds")
        }
        out["rpcs"] = {(c.method, c.status): c.count for c in r.rpcs}
        return out


class RemoteHist:
    """A histogram on a histd server. Picklable (carries address, token and id), so dask/coffea workers can
    fill it."""

    def __init__(self, client: Client, hist_id: str) -> None:
        self.client = client
        self.hist_id = hist_id
        self._local: bh.Histogram | None = None

    def __getstate__(self):
        return {"client": self.client, "hist_id": self.hist_id, "_local": None}

    def __repr__(self) -> str:
        return f"RemoteHist(address={self.client.address!r}, hist_id={self.hist_id!r})"

    def _fill_request(self, kwargs: Mapping[str, Any], fill_id: str | None, codec: str | None):
        protos, _ = _pb()
        codec = self.client.compression if codec is None else codec
        cols = {k: encode_column(v, codec) for k, v in kwargs.items()}
        return protos.FillRequest(
            hist_id=self.hist_id, fill_id=fill_id or "", columns=protos.ColumnarFill(columns=cols)
        )

    def fill(self, *, fill_id: str | None = None, codec: str | None = None, **kwargs: Any):
        """hist's fill(**kwargs) on the server: axis names, `weight`, `sample`. With `fill_id`, a retried fill is
        applied once. Returns the FillResponse (entries, duplicate, version)."""
        return self.client._rpc("Fill", self._fill_request(kwargs, fill_id, codec))

    def fill_many(
        self, fills: Iterable[Mapping[str, Any]], *, fill_ids: Sequence[str] | None = None, codec: str | None = None
    ):
        """Many fills in one request: all are checked before any is applied."""
        protos, _ = _pb()
        fills = list(fills)
        ids = list(fill_ids) if fill_ids is not None else [None] * len(fills)
        reqs = [self._fill_request(kw, i, codec) for kw, i in zip(fills, ids, strict=True)]
        return self.client._rpc("FillMany", protos.FillManyRequest(fills=reqs)).results

    def _template(self) -> bh.Histogram:
        if self._local is None:
            self._local = self.snapshot()
        self._local.reset()
        return self._local

    def fill_dense(self, local: bh.Histogram, *, fill_id: str | None = None, codec: str | None = None):
        """Adds a histogram binned locally (same axes and storage as the remote one, flow bins included)."""
        protos, _ = _pb()
        codec = self.client.compression if codec is None else codec
        view = local.view(flow=True)
        st = local.storage_type
        if issubclass(st, bh.storage.Weight):
            keys = _STORAGE_KEYS["weighted"]
            arrays = [view["value"], view["variance"]]
        elif issubclass(st, (bh.storage.Mean, bh.storage.WeightedMean)):
            ir = bh.serialization.to_uhi(local)["storage"]
            keys = _STORAGE_KEYS[ir["type"]]
            arrays = [np.asarray(ir[k], dtype="<f8") for k in keys]
        else:
            keys = _STORAGE_KEYS["double"]
            arrays = [np.asarray(view, dtype="<f8")]
        storage = {k: encode_array(a, codec) for k, a in zip(keys, arrays, strict=True)}
        req = protos.FillRequest(hist_id=self.hist_id, fill_id=fill_id or "", dense=protos.DenseFill(storage=storage))
        return self.client._rpc("Fill", req)

    def fill_prebinned(self, *, fill_id: str | None = None, codec: str | None = None, **kwargs: Any):
        """Bins `kwargs` locally with boost-histogram (threads=None) and sends only the bins."""
        local = self._template()
        local.fill(**kwargs)
        return self.fill_dense(local, fill_id=fill_id, codec=codec)

    def snapshot(self, *, select: Mapping[str, Any] | None = None, project: Sequence[str | int] = ()) -> hist.Hist:
        """The histogram now, as a hist.Hist. `select` maps axis names to `sum`, a bin number (pick) or a
        slice(start, stop[, merge]) of bin numbers; then `project` keeps these axes, in order."""
        protos, _ = _pb()
        req = protos.SnapshotRequest(hist_id=self.hist_id, project=[str(p) for p in project])
        for name, act in (select or {}).items():
            sel = protos.AxisSelection(axis=str(name))
            if act is sum:
                sel.sum = True
            elif isinstance(act, slice):
                sl = protos.SliceAction(merge=act.step or 0)
                if act.start is not None:
                    sl.start = act.start
                if act.stop is not None:
                    sl.stop = act.stop
                sel.slice.CopyFrom(sl)
            else:
                sel.pick = int(act)
            req.select.append(sel)
        return snapshot_to_hist(self.client._rpc("Snapshot", req))

    def watch(self, *, interval: float = 1.0, project: Sequence[str | int] = ()) -> Iterator[hist.Hist]:
        """Yields the histogram now and then whenever it has changed (at most once per `interval` s)."""
        protos, _ = _pb()
        req = protos.WatchRequest(hist_id=self.hist_id, interval_ms=int(interval * 1000), project=[str(p) for p in project])
        stream = self.client.stub.Watch(req, metadata=self.client.metadata)
        try:
            for snap in stream:
                yield snapshot_to_hist(snap)
        finally:
            stream.cancel()

    def describe(self):
        protos, _ = _pb()
        return self.client._rpc("Describe", protos.HistogramRef(hist_id=self.hist_id))

    def exists(self) -> bool:
        try:
            self.describe()
            return True
        except HistdError as e:
            if e.code == grpc.StatusCode.NOT_FOUND:
                return False
            raise

    def reset(self):
        protos, _ = _pb()
        return self.client._rpc("Reset", protos.HistogramRef(hist_id=self.hist_id))

    def delete(self):
        protos, _ = _pb()
        return self.client._rpc("Delete", protos.HistogramRef(hist_id=self.hist_id))

    def flush(self, destination: str = "hist.coffea") -> str:
        """Writes the histogram to `destination` in the server's output directory (.coffea, .h5/.hdf5, .json)."""
        protos, _ = _pb()
        return self.client._rpc("Export", protos.ExportRequest(hist_id=self.hist_id, destination=destination)).path

    @staticmethod
    def new_fill_id() -> str:
        return uuid.uuid4().hex
