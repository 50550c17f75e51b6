// Filling off the main thread. The main thread reads Kafka, copies each fetched record's value once into an
// 8-byte-aligned batch buffer, decodes its header there (views, no copy of the event arrays) to run just-bin-it's
// per-message rules (start/stop, source filter, pulse time), and hands the batch buffer to a worker by transfer.
// The worker decodes the same bytes in place and fills its own partial engine histograms, one per histogram of the
// running config, whose counts live in SharedArrayBuffers, which the main thread sums into the published histogram.
// FINISHED, ERROR and the first publish after a reset first wait for every batch handed out so far (a barrier through
// each worker's queue: an exact prefix of the messages); periodic publishes read the partials as they are (a
// snapshot, so they are never late behind queued work). Workers keep at most 2 batches queued each, and the reader
// stops fetching while they are full.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { HistogramSpec } from "./config-commands.ts";
import { fillBatch } from "./fill-batch.ts";
import { createHistogram, type JbiHistogram } from "./histograms.ts";

/** Bytes of messages per batch handed to a worker. */
export const BATCH_BYTES = 1 << 20;
/** Batches queued per worker before the reader waits. */
const QUEUE_PER_WORKER = 2;

export type WorkerRequest =
  | { kind: "config"; gen: number; specs: HistogramSpec[]; buffers: SharedArrayBuffer[] }
  | {
      kind: "batch";
      gen: number;
      bytes: ArrayBuffer;
      /** Per message: byte offset, byte length. */
      spans: Int32Array;
      /** Per message, per histogram (row-major): 1 when the histogram takes the message's events. */
      fill: Uint8Array;
      id: number;
    }
  | { kind: "clear"; gen: number; which: number[] }
  | { kind: "barrier"; id: number };

export type WorkerReply =
  | { kind: "batch"; id: number; bytes: ArrayBuffer; error?: string }
  | { kind: "barrier"; id: number };

/** A batch being built: message values copied at aligned offsets, with their fill flags. */
export class Batch {
  bytes: ArrayBuffer;
  private u8: Uint8Array;
  used = 0;
  count = 0;
  spans: number[] = [];
  fill: number[] = [];
  constructor(bytes: ArrayBuffer) {
    this.bytes = bytes;
    this.u8 = new Uint8Array(bytes);
  }
  /** Whether `n` more bytes fit. */
  fits(n: number): boolean {
    return this.count === 0 || ((this.used + 7) & ~7) + n <= this.bytes.byteLength;
  }
  /** The state to roll back to if the next message is not kept. */
  mark(): number {
    return this.used;
  }
  rollback(used: number): void {
    this.used = used;
    this.count--;
    this.spans.length -= 2;
  }
  /** Copies a message in; returns an aligned view of the copy (decodable without copying its arrays). */
  push(value: Uint8Array): Uint8Array {
    const at = (this.used + 7) & ~7;
    if (at + value.length > this.bytes.byteLength) {
      // One message larger than a batch: a batch of its own, sized for it.
      const grown = new ArrayBuffer(at + value.length);
      new Uint8Array(grown).set(this.u8.subarray(0, this.used));
      this.bytes = grown;
      this.u8 = new Uint8Array(grown);
    }
    this.u8.set(value, at);
    this.used = at + value.length;
    this.count++;
    this.spans.push(at, value.length);
    return this.u8.subarray(at, at + value.length);
  }
}

export class FillPool {
  readonly threads: number;
  private readonly workers: Worker[];
  private readonly queued: number[];
  private readonly pending = new Map<number, () => void>();
  private readonly free: ArrayBuffer[] = [];
  private nextId = 0;
  private gen = 0;
  private buffers: SharedArrayBuffer[][] = [];
  private waiters: (() => void)[] = [];
  private next = 0;
  /** Messages a worker could not fill (decode errors after the header passed on the main thread). */
  errors = 0;
  private failure: Error | undefined;
  /** The main thread's own partials: it fills a batch itself when every worker already has one queued. */
  private local: (JbiHistogram | undefined)[] = [];
  private readonly fillHere: boolean;

  constructor(threads = availableParallelism(), o: { fillHere?: boolean } = {}) {
    this.threads = Math.max(1, threads);
    // Measured no faster on 2 cores (the reader then waits behind a fill); kept as an option.
    this.fillHere = o.fillHere ?? false;
    this.workers = [];
    this.queued = [];
    for (let k = 0; k < this.threads; k++) {
      const w = new Worker(new URL("./fill-worker.ts", import.meta.url));
      w.on("message", (r: WorkerReply) => this.reply(k, r));
      w.on("error", (e) => this.fail(e));
      w.on("exit", (code) => this.fail(new Error(`Kafka fill worker exited with code ${code}`)));
      w.unref();
      this.workers.push(w);
      this.queued.push(0);
    }
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const settle of this.pending.values()) settle();
    this.pending.clear();
    this.wakeWaiters();
  }

  private reply(k: number, r: WorkerReply): void {
    if (r.kind === "batch") {
      this.queued[k]--;
      if (r.error) this.errors++;
      if (this.free.length < 2 * this.threads) this.free.push(r.bytes);
      if (this.queued[k] === 0) this.workers[k].unref();
      this.wakeWaiters();
    }
    this.pending.get(r.id)?.();
    this.pending.delete(r.id);
  }

  private wakeWaiters(): void {
    if (!this.hasRoom() && !this.failure) return;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private hasRoom(): boolean {
    return this.queued.reduce((a, b) => a + b, 0) < this.threads * QUEUE_PER_WORKER;
  }

  /** Resolves when the workers can take another batch. */
  room(): Promise<void> {
    if (this.hasRoom() || this.failure) return Promise.resolve();
    return new Promise((ok) => this.waiters.push(ok));
  }

  /** Starts a new config: every worker builds the histograms, counting into fresh shared partials. */
  configure(specs: HistogramSpec[], cells: number[]): void {
    this.gen++;
    this.buffers = this.workers.map(() => cells.map((n) => new SharedArrayBuffer(n * 8)));
    this.local = specs.map((spec) => {
      try {
        return createHistogram(spec);
      } catch {
        return undefined;
      }
    });
    this.workers.forEach((w, k) => {
      const req: WorkerRequest = { kind: "config", gen: this.gen, specs, buffers: this.buffers[k] };
      w.postMessage(req);
    });
  }

  newBatch(): Batch {
    return new Batch(this.free.pop() ?? new ArrayBuffer(BATCH_BYTES));
  }

  /** Hands a batch to the least busy worker (by transfer: the buffer is gone from this thread). */
  submit(b: Batch, histograms: number): void {
    if (b.count === 0) {
      this.free.push(b.bytes);
      return;
    }
    let k = this.next;
    for (let j = 0; j < this.threads; j++) {
      const c = (this.next + j) % this.threads;
      if (this.queued[c] < this.queued[k]) k = c;
    }
    if (this.fillHere && this.queued[k] > 0) {
      // Every worker is busy: this thread fills the batch itself, in order with the clears it sees.
      const fill = Uint8Array.from(b.fill);
      this.errors += fillBatch(this.local, new Uint8Array(b.bytes), Int32Array.from(b.spans), fill);
      this.free.push(b.bytes);
      return;
    }
    this.next = (k + 1) % this.threads;
    const fill = new Uint8Array(b.count * histograms);
    for (let i = 0; i < b.fill.length; i++) fill[i] = b.fill[i];
    const req: WorkerRequest = {
      kind: "batch",
      gen: this.gen,
      bytes: b.bytes,
      spans: Int32Array.from(b.spans),
      fill,
      id: this.nextId++,
    };
    this.queued[k]++;
    this.workers[k].ref();
    this.workers[k].postMessage(req, [b.bytes]);
  }

  /** Starts histogram `k` from restored counts (kept in this thread's partial, which gather() adds in). */
  seed(k: number, counts: Float64Array): void {
    this.local[k]?.counts.set(counts);
  }

  /** Zeroes the partials of the given histograms, after every batch handed out before. */
  clear(which: number[]): void {
    for (const k of which) this.local[k]?.clear();
    for (const w of this.workers)
      w.postMessage({ kind: "clear", gen: this.gen, which } satisfies WorkerRequest);
  }

  /** Resolves once every batch handed out so far has been filled. */
  async barrier(): Promise<void> {
    if (this.failure) throw this.failure;
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((ok) => {
            const id = this.nextId++;
            this.pending.set(id, ok);
            w.postMessage({ kind: "barrier", id } satisfies WorkerRequest);
          }),
      ),
    );
    if (this.failure) throw this.failure;
  }

  /** counts = the sum of every worker's partial of histogram `k` (call after barrier()). */
  gather(k: number, counts: Float64Array): void {
    const parts: Float64Array[] = this.buffers.map((b) => new Float64Array(b[k]));
    const mine = this.local[k]?.counts;
    if (mine) parts.push(mine);
    counts.set(parts[0]);
    for (let p = 1; p < parts.length; p++) {
      const src = parts[p];
      for (let i = 0; i < counts.length; i++) counts[i] += src[i];
    }
  }

  async close(): Promise<void> {
    this.failure ??= new Error("closed");
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
