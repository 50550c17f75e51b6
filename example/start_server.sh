#!/usr/bin/env bash
# The seed's example server: one histogram (hist_ir.json) on port 50051.
cd "$(dirname "$0")/.."
exec bin/haas-server --port 50051 --max-workers 1 --hist-ir "$(cat example/hist_ir.json)" "$@"
