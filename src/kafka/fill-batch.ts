// Filling one batch of event messages (see fill-pool.ts), on a worker or on the main thread: each message is
// decoded in place (its event arrays are views onto the batch). The histograms flagged for a message are filled in
// one pass over its events (a fused kernel, fill-kernels.ts); a large detector image instead takes the ids of every
// message flagged for it in one call, sorted by bucket before counting; a roihist fills through the engine.
import { decodeEvents, type EventMessage } from "../formats/flatbuffers/index.ts";
import { type FusedKernel, fusedKernel } from "./fill-kernels.ts";
import type { Ids, JbiHistogram } from "./histograms.ts";

const empty = new Int32Array(0);

/** Fused kernels per histogram list (one per config and thread) and set of histograms filled together. */
const fusedCache = new WeakMap<readonly unknown[], Map<string, FusedKernel>>();

function fused(hists: readonly (JbiHistogram | undefined)[], which: readonly number[]): FusedKernel {
  let byKey = fusedCache.get(hists);
  if (!byKey) {
    byKey = new Map();
    fusedCache.set(hists, byKey);
  }
  const key = which.join(",");
  let k = byKey.get(key);
  if (!k) {
    k = fusedKernel(which.map((h) => hists[h]!.part!));
    byKey.set(key, k);
  }
  return k;
}

/** Returns how many messages could not be decoded. `fill` holds one row of flags per message. */
export function fillBatch(
  hists: readonly (JbiHistogram | undefined)[],
  bytes: Uint8Array,
  spans: Int32Array,
  fill: Uint8Array,
): number {
  const n = hists.length;
  let errors = 0;
  // Per histogram, the messages it takes alone (not fused): large images, roihists, or a histogram of its own.
  const alone: { tofs: Ids[]; dets: (Ids | undefined)[] }[] = hists.map(() => ({ tofs: [], dets: [] }));
  const which: number[] = [];
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
    which.length = 0;
    for (let k = 0; k < n; k++) {
      const h = hists[k];
      if (!h || fill[m * n + k] !== 1) continue;
      if (h.part) which.push(k);
      else {
        alone[k].tofs.push(tof);
        alone[k].dets.push(det);
      }
    }
    if (which.length === 1) {
      alone[which[0]].tofs.push(tof);
      alone[which[0]].dets.push(det);
    } else if (which.length > 1) {
      const counts = which.map((k) => hists[k]!.hist.storage.fields[0]);
      if (!fused(hists, which)(tof, det ?? empty, counts)) for (const k of which) hists[k]!.add(tof, det);
    }
  }
  for (let k = 0; k < n; k++) if (alone[k].tofs.length > 0) hists[k]!.addMany(alone[k].tofs, alone[k].dets);
  return errors;
}
