// The x5f2 status heartbeat (just-bin-it.md §5.1): "just-bin-it", "", "", hostname, pid, 1000, "{}".
import { hostname } from "node:os";
import { encodeX5f2 } from "../formats/flatbuffers/index.ts";

export function heartbeatMessage(): Uint8Array {
  return encodeX5f2({
    softwareName: "just-bin-it",
    softwareVersion: "",
    serviceId: "",
    hostName: hostname(),
    processId: process.pid,
    updateInterval: 1000,
    statusJson: "{}",
  });
}

/** Milliseconds until the next multiple of `period` (the aligned schedules of just-bin-it's main loop). */
export function untilAligned(period: number, now = Date.now()): number {
  return period - (now % period) || period;
}
