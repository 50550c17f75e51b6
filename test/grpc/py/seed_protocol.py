"""The seed's protocol (haas-protocols.md §1), compiled here from the table in that document, not from histd's
proto file, so histd's wire format is checked against the spec. Import `pb`, `stub(address)`, `value(v)`."""

import os
import sys
import tempfile

import grpc
import numpy as np
from grpc_tools import protoc

SPEC = """
syntax = "proto3";
service Histogrammer {
  rpc fill(FillRequest) returns (Result);
  rpc flush(FlushRequest) returns (Result);
}
message dtype { enum Type { DT_FLOAT32 = 0; DT_FLOAT64 = 1; DT_INT32 = 2; DT_INT64 = 3; } Type type = 2; }
message ndarray { repeated int64 shape = 1; dtype dtype = 2; bytes data = 3; }
message Value { oneof value { ndarray array_value = 1; string string_value = 2; int64 int_value = 3; bool bool_value = 4; } }
message FillRequest { map<string, Value> kwargs = 1; }
message FlushRequest { string destination = 1; }
message Result { bool success = 1; string message = 2; }
"""

_dir = tempfile.mkdtemp(prefix="seedproto-")
with open(os.path.join(_dir, "seedspec.proto"), "w") as f:
    f.write(SPEC)
_inc = os.path.join(os.path.dirname(protoc.__file__), "_proto")
if protoc.main(["protoc", f"-I{_dir}", f"-I{_inc}", f"--python_out={_dir}", f"--grpc_python_out={_dir}", "seedspec.proto"]) != 0:
    raise SystemExit("protoc failed")
sys.path.insert(0, _dir)
import seedspec_pb2 as pb  # noqa: E402
import seedspec_pb2_grpc as pb_grpc  # noqa: E402

DT = {np.dtype("<f4"): 0, np.dtype("<f8"): 1, np.dtype("<i4"): 2, np.dtype("<i8"): 3}


def stub(address: str, max_len: int = 1 << 29, compression=grpc.Compression.Gzip):
    ch = grpc.insecure_channel(
        address,
        options=[("grpc.max_send_message_length", max_len), ("grpc.max_receive_message_length", max_len)],
        compression=compression,
    )
    return pb_grpc.HistogrammerStub(ch)


def value(v):
    if isinstance(v, str):
        return pb.Value(string_value=v)
    if isinstance(v, bool):
        return pb.Value(bool_value=v)
    if isinstance(v, int):
        return pb.Value(int_value=v)
    a = np.asarray(v)
    return pb.Value(array_value=pb.ndarray(shape=list(a.shape), dtype=pb.dtype(type=DT[a.dtype]), data=a.tobytes()))


def fill_request(**kwargs):
    return pb.FillRequest(kwargs={k: value(v) for k, v in kwargs.items()})
