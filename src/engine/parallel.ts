// Filling on all cores: the events are split into contiguous parts, each part is filled into a private partial
// storage (one part on the calling thread, the others on a pool of worker threads), and the partials are added
// into the histogram once every part has succeeded, so a failed fill still adds nothing. Inputs backed by a
// SharedArrayBuffer reach the workers without a copy. Growing axes and mean storages fill on one thread: their
// partials would not merge to the sequential result (boost-histogram refuses threads for them too).
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { FillValue } from "./columns.ts";
import { fillChunks } from "./fill.ts";
import type { FillOptions, Histogram } from "./histogram.ts";
import { Storage } from "./storage.ts";
import { histogramToUhi } from "./uhi.ts";
import type { UhiHistogram } from "./uhi-types.ts";

/** Below this many events a fill is not worth splitting. */
const MIN_PARALLEL_EVENTS = 1 << 18;
/** Above this many cells per partial, the partials cost more memory than the split saves time. */
const MAX_PARTIAL_CELLS = 1 << 25;

export interface PartRequest {
  id: number;
  ir: UhiHistogram;
  args: FillValue[];
  weight?: FillValue;
  sample?: FillValue;
}

export type PartReply = { id: number; fields: Float64Array[] } | { id: number; error: string };

function slicePart(v: FillValue | undefined, start: number, end: number): FillValue | undefined {
  if (v === undefined || typeof v !== "object") return v;
  if (ArrayBuffer.isView(v)) return (v as Float64Array).subarray(start, end);
  return (v as readonly unknown[]).slice(start, end) as FillValue;
}

export class FillPool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, (r: PartReply) => void>();
  private nextId = 0;

  constructor(threads = availableParallelism()) {
    this.workers = Array.from({ length: Math.max(0, threads - 1) }, () => {
      const w = new Worker(new URL("./fill-worker.ts", import.meta.url));
      w.on("message", (r: PartReply) => {
        this.pending.get(r.id)?.(r);
        this.pending.delete(r.id);
      });
      // A worker that dies fails the fills it was doing, rather than leaving them pending forever.
      w.on("error", (e) => this.failAll(e));
      w.on("exit", (code) => this.failAll(new Error(`fill worker exited with code ${code}`)));
      w.unref();
      return w;
    });
  }

  private failAll(e: Error): void {
    for (const [id, settle] of this.pending) settle({ id, error: e.message });
    this.pending.clear();
  }

  get threads(): number {
    return this.workers.length + 1;
  }

  /** Fills like h.fill, on every thread when that pays off. Atomic: on error nothing is added. */
  async fill(h: Histogram, args: readonly FillValue[], opts: FillOptions = {}): Promise<void> {
    const plan = h.plan(args, opts);
    const parts = this.workers.length + 1;
    const splittable =
      parts > 1 &&
      plan.length >= MIN_PARALLEL_EVENTS &&
      h.cells <= MAX_PARTIAL_CELLS &&
      !h.axes.some((a) => a.growth) &&
      !h.storage.needsSample &&
      // Strings cannot be shared with workers, and copying them costs more than binning them here.
      !args.some((a) => Array.isArray(a) && typeof a[0] === "string");
    if (!splittable) {
      h.fillPlanned(plan);
      return;
    }
    const ir = histogramToUhi(h, { withData: false });
    const bounds = Array.from({ length: parts + 1 }, (_, i) => Math.round((plan.length * i) / parts));
    const broadcast = (v: FillValue | undefined, i: number) =>
      v !== undefined && typeof v === "object" && (v as ArrayLike<unknown>).length === plan.length
        ? slicePart(v, bounds[i], bounds[i + 1])
        : v;
    const remote = this.workers.map(
      (w, k) =>
        new Promise<Float64Array[]>((resolve, reject) => {
          const id = this.nextId++;
          const req: PartRequest = {
            id,
            ir,
            args: args.map((a) => broadcast(a, k + 1)!),
            weight: broadcast(opts.weight, k + 1),
            sample: broadcast(opts.sample, k + 1),
          };
          // Idle workers do not keep the process alive; busy ones must, or an awaited fill could be cut off.
          w.ref();
          this.pending.set(id, (r) => {
            w.unref();
            if ("error" in r) reject(new Error(r.error));
            else resolve(r.fields);
          });
          w.postMessage(req);
        }),
    );
    const local = new Storage(h.storage.type, h.cells);
    const localArgs = args.map((a) => broadcast(a, 0)!);
    fillChunks(
      h.plan(localArgs, { weight: broadcast(opts.weight, 0), sample: broadcast(opts.sample, 0) }),
      local,
    );
    const partials = [local.fields, ...(await Promise.all(remote))];
    const target = h.storage.fields;
    for (const fields of partials)
      fields.forEach((f, i) => {
        const t = target[i];
        for (let j = 0; j < t.length; j++) t[j] += f[j];
      });
    h.markFilled(plan);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
