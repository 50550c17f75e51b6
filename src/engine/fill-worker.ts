// A FillPool worker: fills its part of the events into a private storage and hands the storage back, or, for a
// fill split by cells, fills every event's entries in its range of cells into the shared buffers it was given.
import { parentPort } from "node:worker_threads";
import { fastFillCells } from "./fast-fill.ts";
import { fillChunks } from "./fill.ts";
import type { PartReply, PartRequest } from "./parallel.ts";
import { histogramFromUhi } from "./uhi.ts";

parentPort!.on("message", (req: PartRequest) => {
  let reply: PartReply;
  try {
    const h = histogramFromUhi(req.ir);
    const plan = h.plan(req.args, { weight: req.weight, sample: req.sample });
    const r = req.range;
    if (r) {
      if (r.zero) for (const f of r.fields) f.fill(0, 0, r.hi - r.lo);
      if (!fastFillCells(plan, h.storage.type, r.fields, r.cells, r.lo, r.hi))
        throw new Error("fill worker: this fill cannot be split by cells");
      reply = { id: req.id, fields: [] };
    } else {
      fillChunks(plan, h.storage);
      reply = { id: req.id, fields: h.storage.fields };
    }
  } catch (e) {
    reply = { id: req.id, error: e instanceof Error ? e.message : String(e) };
  }
  parentPort!.postMessage(reply, "fields" in reply ? reply.fields.map((f) => f.buffer as ArrayBuffer) : []);
});
