"""Message and service classes compiled at import time from the .proto files shipped in this package
(grpc.protos_and_services, which needs grpcio-tools): no generated code is checked in."""

from __future__ import annotations

import functools
import os
import sys

import grpc

_PROTO_DIR = os.path.join(os.path.dirname(__file__), "proto")


@functools.cache
def load(path: str):
    """(messages module, services module) of a proto file under proto/, e.g. "histd/v1/histd.proto"."""
    sys.path.insert(0, _PROTO_DIR)
    try:
        return grpc.protos_and_services(path)
    finally:
        sys.path.remove(_PROTO_DIR)
