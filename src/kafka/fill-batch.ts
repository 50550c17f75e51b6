// Filling one batch of event messages (see fill-pool.ts), on a worker or on the main thread: each message is
// decoded in place (its event arrays are views onto the batch) and filled into the histograms flagged for it.
import { decodeEvents, type EventMessage } from "../formats/flatbuffers/index.ts";
import type { JbiHistogram } from "./histograms.ts";

/** Returns how many messages could not be decoded. `fill` holds one row of flags per message. */
export function fillBatch(
  hists: readonly (JbiHistogram | undefined)[],
  bytes: Uint8Array,
  spans: Int32Array,
  fill: Uint8Array,
): number {
  const n = hists.length;
  let errors = 0;
  for (let m = 0; m * 2 < spans.length; m++) {
    let ev: EventMessage;
    try {
      ev = decodeEvents(bytes.subarray(spans[2 * m], spans[2 * m] + spans[2 * m + 1]));
    } catch {
      errors++;
      continue;
    }
    const tof = ev.timeOfFlight;
    const det = ev.schema === "ev42" ? ev.detectorId : ev.pixelId;
    for (let k = 0; k < n; k++) if (fill[m * n + k] === 1) hists[k]?.add(tof, det);
  }
  return errors;
}
