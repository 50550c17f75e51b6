// A FillPool worker: fills its part of the events into a private storage and hands the storage back.
import { parentPort } from "node:worker_threads";
import { fillChunks } from "./fill.ts";
import type { PartReply, PartRequest } from "./parallel.ts";
import { histogramFromUhi } from "./uhi.ts";

parentPort!.on("message", (req: PartRequest) => {
  let reply: PartReply;
  try {
    const h = histogramFromUhi(req.ir);
    fillChunks(h.plan(req.args, { weight: req.weight, sample: req.sample }), h.storage);
    reply = { id: req.id, fields: h.storage.fields };
  } catch (e) {
    reply = { id: req.id, error: e instanceof Error ? e.message : String(e) };
  }
  parentPort!.postMessage(reply, "fields" in reply ? reply.fields.map((f) => f.buffer as ArrayBuffer) : []);
});
