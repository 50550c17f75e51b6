"""The seed's client API (HaaS's HaaSClient) for histd's /Histogrammer service: fill(**kwargs) and
flush(destination), raw little-endian arrays, gzip channel compression, 512 MiB messages."""

from __future__ import annotations

from typing import Any

import grpc
import numpy as np

from ._protos import load

_DT = {np.dtype("<f4"): 0, np.dtype("<f8"): 1, np.dtype("<i4"): 2, np.dtype("<i8"): 3}


class HaaSClient:
    def __init__(self, address: str = "[::]:50051") -> None:
        self.address = address
        self._channel: grpc.Channel | None = None
        self._stub = None

    def __getstate__(self):
        return {"address": self.address, "_channel": None, "_stub": None}

    def __enter__(self) -> HaaSClient:
        return self

    def __exit__(self, *exc) -> None:
        if self._channel is not None:
            self._channel.close()
        self._channel = None
        self._stub = None

    @property
    def stub(self):
        if self._stub is None:
            self._channel = grpc.insecure_channel(
                self.address,
                options=[("grpc.max_send_message_length", 1 << 29), ("grpc.max_receive_message_length", 1 << 29)],
                compression=grpc.Compression.Gzip,
            )
            self._stub = load("seed.proto")[1].HistogrammerStub(self._channel)
        return self._stub

    def _value(self, v: Any):
        pb = load("seed.proto")[0]
        if isinstance(v, str):
            return pb.Value(string_value=v)
        if isinstance(v, int):  # as the seed: bool is an int, so True arrives as int_value 1
            return pb.Value(int_value=int(v))
        if isinstance(v, bool):
            return pb.Value(bool_value=v)
        a = np.asarray(v)
        if a.dtype not in _DT:
            a = a.astype("<f8")
        return pb.Value(array_value=pb.ndarray(shape=list(a.shape), dtype=pb.dtype(type=_DT[a.dtype]), data=a.tobytes()))

    def fill(self, **kwargs: Any):
        pb = load("seed.proto")[0]
        return self.stub.fill(pb.FillRequest(kwargs={k: self._value(v) for k, v in kwargs.items()}))

    def flush(self, destination: str = "hist.coffea"):
        pb = load("seed.proto")[0]
        return self.stub.flush(pb.FlushRequest(destination=destination))
