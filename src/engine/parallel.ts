// Filling on all cores. Small storages: the events are split into contiguous parts, each part is filled into a
// private partial storage (one part on the calling thread, the others on a pool of worker threads), and the
// partials are added into the histogram once every part has succeeded, so a failed fill still adds nothing.
// Weighted fills of storages too big for L2: the cells are split instead, every thread bins all events but writes
// only its own range of cells, so each cell still receives its entries in input order onto its previous value,
// i.e. exactly the sequential result (added partials round differently), and no thread fills a whole partial. Inputs backed by a SharedArrayBuffer reach the workers without a copy. Growing
// axes and mean storages fill on one thread: their partials would not merge to the sequential result
// (boost-histogram refuses threads for them too).
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { FillValue } from "./columns.ts";
import { fastFillable, fastFillCells, sampleCells } from "./fast-fill.ts";
import { fillChunks } from "./fill.ts";
import type { FillPlan } from "./fill-plan.ts";
import type { FillOptions, Histogram } from "./histogram.ts";
import { Storage } from "./storage.ts";
import { histogramToUhi } from "./uhi.ts";
import type { UhiHistogram } from "./uhi-types.ts";

/** Below this many events a fill is not worth splitting. */
const MIN_PARALLEL_EVENTS = 1 << 18;
/** Above this many cells per partial, the partials cost more memory than the split saves time. */
const MAX_PARTIAL_CELLS = 1 << 25;

/** Above this many cells the cells are split between the threads instead of the events (see the top). */
const SPLIT_CELLS_ABOVE = 1 << 17;

/** Per-thread buffers up to this many cells are kept between fills. */
const KEEP_CELLS = 1 << 23;

/** A worker's share of a fill split by cells: cells [lo, hi) of `cells`, in `fields` (shared, [j - lo]), which
 * hold the histogram's current values of those cells on the way in and the filled ones on the way out. */
export interface CellRange {
  lo: number;
  hi: number;
  cells: number;
  fields: Float64Array[];
  /** The fields are a partial to be zeroed first (split by events), not the current values. */
  zero?: boolean;
}

export interface PartRequest {
  id: number;
  ir: UhiHistogram;
  args: FillValue[];
  weight?: FillValue;
  sample?: FillValue;
  range?: CellRange;
}

export type PartReply = { id: number; fields: Float64Array[] } | { id: number; error: string };

function shared(v: FillValue | undefined): boolean {
  return (
    v === undefined ||
    typeof v !== "object" ||
    (ArrayBuffer.isView(v) && (v as Float64Array).buffer instanceof SharedArrayBuffer)
  );
}

function slicePart(v: FillValue | undefined, start: number, end: number): FillValue | undefined {
  if (v === undefined || typeof v !== "object") return v;
  if (ArrayBuffer.isView(v)) return (v as Float64Array).subarray(start, end);
  return (v as readonly unknown[]).slice(start, end) as FillValue;
}

export class FillPool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, (r: PartReply) => void>();
  private nextId = 0;
  /** The last fill started for each histogram (see fill). */
  private readonly filling = new WeakMap<Histogram, Promise<void>>();
  /** Requests sent to each worker and not answered yet. */
  private readonly queued = new Map<Worker, number>();
  /** Per worker, shared buffers for its cells of a split-by-cells fill, kept between fills (see cellFields). */
  private readonly cellBuffers: Float64Array[][];
  /** The calling thread's buffers: its partial (split by events) or the backup of its cells (split by cells). */
  private own: Float64Array[] = [];
  /** A fill is using the kept buffers: concurrent fills (awaited later) get their own, not kept. */
  private buffersBusy = false;

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
    this.cellBuffers = this.workers.map(() => []);
  }

  private failAll(e: Error): void {
    for (const [id, settle] of this.pending) settle({ id, error: e.message });
    this.pending.clear();
  }

  get threads(): number {
    return this.workers.length + 1;
  }

  /** Fills like h.fill, on every thread when that pays off. Atomic: on error nothing is added. Fills of one
   * histogram run one after the other, in call order: a split by cells copies a worker's cells out and back in, so
   * overlapping fills of the same histogram would lose one another's entries. */
  fill(h: Histogram, args: readonly FillValue[], opts: FillOptions = {}): Promise<void> {
    const before = this.filling.get(h);
    const run = before
      ? before.then(
          () => this.fillNow(h, args, opts),
          () => this.fillNow(h, args, opts),
        )
      : this.fillNow(h, args, opts);
    this.filling.set(h, run);
    const done = () => {
      if (this.filling.get(h) === run) this.filling.delete(h);
    };
    run.then(done, done);
    return run;
  }

  private async fillNow(h: Histogram, args: readonly FillValue[], opts: FillOptions): Promise<void> {
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
    const keep = !this.buffersBusy;
    this.buffersBusy = true;
    try {
      await this.fillParts(h, plan, args, opts, keep);
    } finally {
      if (keep) this.buffersBusy = false;
    }
  }

  private async fillParts(
    h: Histogram,
    plan: FillPlan,
    args: readonly FillValue[],
    opts: FillOptions,
    keep: boolean,
  ): Promise<void> {
    const parts = this.workers.length + 1;
    const ir = histogramToUhi(h, { withData: false });
    if (
      h.cells > SPLIT_CELLS_ABOVE &&
      fastFillable(h.axes, h.storage.type, false) &&
      // Every thread reads every event: only shared inputs reach the workers without a copy of all of them.
      args.every(shared) &&
      shared(opts.weight) &&
      // Weighted sums depend on their order, and only this split keeps it. Unweighted fills (counts: exact in any
      // order) split the events: binning every event on every thread costs more than the kept partials save
      // (2D 1000x1000: ~1.2x of one thread by cells, ~1.7x by events; 1M pixels: a draw on a quiet VM, and much
      // worse than by events while other processes hold a core, since it doubles the binning).
      opts.weight !== undefined
    ) {
      await this.fillByCells(h, plan, ir, args, opts, keep);
      return;
    }
    // Big storages filled by the kernels get their partials from buffers kept between fills (a fresh 8 MB one
    // costs its page faults on every fill), the workers' ones shared so that they need no transfer.
    const reuse = h.cells > SPLIT_CELLS_ABOVE && fastFillable(h.axes, h.storage.type, h.storage.needsSample);
    const count = h.storage.fields.length;
    const bounds = Array.from({ length: parts + 1 }, (_, i) => Math.round((plan.length * i) / parts));
    const broadcast = (v: FillValue | undefined, i: number) =>
      v !== undefined && typeof v === "object" && (v as ArrayLike<unknown>).length === plan.length
        ? slicePart(v, bounds[i], bounds[i + 1])
        : v;
    const remote = this.workers.map((w, k) => {
      const shared = reuse ? this.cellFields(k, count, h.cells, keep) : undefined;
      return this.send(w, {
        id: this.nextId++,
        ir,
        args: args.map((a) => broadcast(a, k + 1)!),
        weight: broadcast(opts.weight, k + 1),
        sample: broadcast(opts.sample, k + 1),
        range: shared && { lo: 0, hi: h.cells, cells: h.cells, fields: shared, zero: true },
      }).then((fields) => shared ?? fields);
    });
    const localArgs = args.map((a) => broadcast(a, 0)!);
    const localPlan = h.plan(localArgs, {
      weight: broadcast(opts.weight, 0),
      sample: broadcast(opts.sample, 0),
    });
    let local: Float64Array[];
    if (reuse) {
      local = this.ownFields(count, h.cells, keep);
      for (const f of local) f.fill(0, 0, h.cells);
      fastFillCells(localPlan, h.storage.type, local, h.cells, 0, h.cells);
    } else {
      const storage = new Storage(h.storage.type, h.cells);
      fillChunks(localPlan, storage);
      local = storage.fields;
    }
    const partials = [local, ...(await Promise.all(remote))];
    const target = h.storage.fields;
    for (const fields of partials)
      fields.forEach((f, i) => {
        const t = target[i];
        const n = t.length;
        for (let j = 0; j < n; j++) t[j] += f[j];
      });
    h.markFilled(plan);
  }

  private send(w: Worker, req: PartRequest): Promise<Float64Array[]> {
    return new Promise<Float64Array[]>((resolve, reject) => {
      // Idle workers do not keep the process alive; busy ones must, or an awaited fill could be cut off. Counted:
      // with concurrent fills, the first reply must not unref a worker that still has a request queued.
      if ((this.queued.get(w) ?? 0) === 0) w.ref();
      this.queued.set(w, (this.queued.get(w) ?? 0) + 1);
      this.pending.set(req.id, (r) => {
        const left = this.queued.get(w)! - 1;
        this.queued.set(w, left);
        if (left === 0) w.unref();
        if ("error" in r) reject(new Error(r.error));
        else resolve(r.fields);
      });
      w.postMessage(req);
    });
  }

  /** The split by cells: thread t owns cells [bounds[t], bounds[t + 1]); the calling thread fills its cells in
   * place (after a backup), each worker fills a shared copy of its cells, copied back once every part succeeded. */
  private async fillByCells(
    h: Histogram,
    plan: FillPlan,
    ir: UhiHistogram,
    args: readonly FillValue[],
    opts: FillOptions,
    keep: boolean,
  ): Promise<void> {
    const cells = h.cells;
    const target = h.storage.fields;
    const bounds = cellBounds(plan, h.storage.type, cells, this.workers.length + 1);
    const parts = this.workers.map((_, k) =>
      this.cellFields(k, target.length, bounds[k + 2] - bounds[k + 1], keep),
    );
    const remote = this.workers.map((w, k) => {
      const lo = bounds[k + 1];
      const hi = bounds[k + 2];
      const fields = parts[k];
      target.forEach((t, f) => {
        fields[f].set(t.subarray(lo, hi));
      });
      const range: CellRange = { lo, hi, cells, fields };
      return this.send(w, { id: this.nextId++, ir, args: [...args], weight: opts.weight, range });
    });
    const [lo, hi] = [bounds[0], bounds[1]];
    const backup = this.ownFields(target.length, hi - lo, keep);
    target.forEach((t, f) => {
      backup[f].set(t.subarray(lo, hi));
    });
    let failed: unknown;
    try {
      fastFillCells(
        plan,
        h.storage.type,
        target.map((t) => t.subarray(lo, hi)),
        cells,
        lo,
        hi,
      );
    } catch (e) {
      failed = e;
    }
    const results = await Promise.allSettled(remote);
    const rejected = results.find((r) => r.status === "rejected");
    if (failed !== undefined || rejected) {
      target.forEach((t, f) => {
        t.set(backup[f].subarray(0, hi - lo), lo);
      });
      throw failed ?? (rejected as PromiseRejectedResult).reason;
    }
    this.workers.forEach((_, k) => {
      const [a, b] = [bounds[k + 1], bounds[k + 2]];
      target.forEach((t, f) => {
        t.set(parts[k][f].subarray(0, b - a), a);
      });
    });
    h.markFilled(plan);
  }

  /** Worker k's shared buffers for `span` cells, reused between fills while they are big enough (if `keep`: the
   * fill holds the kept buffers; and only up to KEEP_CELLS, so that one huge fill does not pin its memory). */
  private cellFields(k: number, count: number, span: number, keep: boolean): Float64Array[] {
    const have = this.cellBuffers[k];
    if (keep && have.length === count && have[0].length >= span) return have;
    const made = Array.from({ length: count }, () => new Float64Array(new SharedArrayBuffer(span * 8)));
    if (keep) this.cellBuffers[k] = span <= KEEP_CELLS ? made : [];
    return made;
  }

  /** The calling thread's buffers for `span` cells, reused and kept like cellFields'. */
  private ownFields(count: number, span: number, keep: boolean): Float64Array[] {
    const have = this.own;
    if (keep && have.length === count && have[0].length >= span) return have;
    const made = Array.from({ length: count }, () => new Float64Array(span));
    if (keep) this.own = span <= KEEP_CELLS ? made : [];
    return made;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Cell boundaries giving each of `parts` threads about the same number of entries, from the cells of a sample
 * of the events (uniform cell counts if the sample has no entry). */
function cellBounds(plan: FillPlan, type: Storage["type"], cells: number, parts: number): number[] {
  const sample = sampleCells(plan, type, cells);
  sample.sort();
  return Array.from({ length: parts + 1 }, (_, t) => {
    if (t === 0) return 0;
    if (t === parts) return cells;
    if (sample.length === 0) return Math.round((cells * t) / parts);
    return sample[Math.floor((sample.length * t) / parts)];
  });
}
