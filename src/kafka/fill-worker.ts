// A Kafka fill worker (see fill-pool.ts): decodes the event messages of each batch in place and fills its partial
// engine histograms (counts in SharedArrayBuffers the main thread sums at publish time), in the order batches came.
import { parentPort } from "node:worker_threads";
import { fillBatch } from "./fill-batch.ts";
import type { WorkerReply, WorkerRequest } from "./fill-pool.ts";
import { createHistogram, type JbiHistogram } from "./histograms.ts";

let gen = -1;
let hists: (JbiHistogram | undefined)[] = [];

function configure(specs: WorkerRequest & { kind: "config" }): void {
  gen = specs.gen;
  hists = specs.specs.map((spec, k) => {
    try {
      const h = createHistogram(spec);
      // The engine histogram counts straight into the shared partial.
      h.hist.storage.fields = [new Float64Array(specs.buffers[k])];
      return h;
    } catch {
      return undefined;
    }
  });
}

parentPort!.on("message", (req: WorkerRequest) => {
  switch (req.kind) {
    case "config":
      configure(req);
      return;
    case "batch": {
      let reply: WorkerReply;
      try {
        const errors = req.gen === gen ? fillBatch(hists, new Uint8Array(req.bytes), req.spans, req.fill) : 0;
        reply = { kind: "batch", id: req.id, bytes: req.bytes, ...(errors ? { error: `${errors}` } : {}) };
      } catch (e) {
        reply = {
          kind: "batch",
          id: req.id,
          bytes: req.bytes,
          error: e instanceof Error ? e.message : String(e),
        };
      }
      parentPort!.postMessage(reply, [req.bytes]);
      return;
    }
    case "clear":
      if (req.gen === gen) for (const k of req.which) hists[k]?.hist.reset();
      return;
    case "barrier":
      parentPort!.postMessage({ kind: "barrier", id: req.id } satisfies WorkerReply);
  }
});
