// Durable state of the gRPC door: periodic checkpoints of every histogram (one file each, h-<id>.ckpt) and an
// optional write-ahead log of histd.v1 changes (create, fill, reset, delete), restored and replayed on start.
// The door calls it: log*() right where a change is applied (inside the histogram's fill queue, so log order is
// apply order), and acknowledges the RPC once the returned promise resolves.
import { mkdir } from "node:fs/promises";
import { type Histogram, histogramFromUhi, histogramToUhi, uhiFromJson } from "../engine/index.ts";
import type { Entry, Registry } from "../grpc/registry.ts";
import {
  fsyncDir,
  listCheckpoints,
  readCheckpoint,
  removeCheckpoint,
  writeCheckpoint,
} from "./checkpoint.ts";
import type { CheckpointMeta } from "./format.ts";
import { listSegments, readSegment, Wal, type WalRecord } from "./wal.ts";

export interface StateLogger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface DurableOptions {
  dir: string;
  /** Keep a write-ahead log (every acknowledged histd.v1 change survives a crash). */
  wal: boolean;
  /** Seconds between checkpoints (default 5). */
  intervalS?: number;
  log: StateLogger;
}

/** Counters for /metrics. */
export interface StateCounters {
  checkpoints: number;
  checkpointFailures: number;
  walFailures: number;
  walRecords: number;
  lastCheckpointSeconds: number;
  lastCheckpointBytes: number;
}

const fileName = (id: string) => `h-${id}`;

const COPY_CELLS = 4 * 1024 * 1024;

/** Copies of `fields`, made 4 Mi cells at a time with a turn of the event loop in between for large ones. */
async function copyChunked(fields: Float64Array[]): Promise<Float64Array[]> {
  const out: Float64Array[] = [];
  for (const f of fields) {
    if (f.length <= COPY_CELLS) {
      out.push(f.slice());
      continue;
    }
    const c = new Float64Array(f.length);
    for (let o = 0; o < f.length; o += COPY_CELLS) {
      c.set(f.subarray(o, Math.min(f.length, o + COPY_CELLS)), o);
      await new Promise((r) => setImmediate(r));
    }
    out.push(c);
  }
  return out;
}

export class DurableState {
  readonly dir: string;
  readonly intervalS: number;
  private readonly log: StateLogger;
  private wal: Wal | undefined;
  private readonly walWanted: boolean;
  /** Last WAL sequence number applied to each histogram, and the version last checkpointed. */
  private readonly lsnOf = new WeakMap<Entry, number>();
  private readonly savedVersion = new WeakMap<Entry, number>();
  /** Checkpoint names on disk. */
  private readonly onDisk = new Set<string>();
  private nextLsn = 1;
  private seq = 1;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private registry: Registry | undefined;
  readonly counters: StateCounters = {
    checkpoints: 0,
    checkpointFailures: 0,
    walFailures: 0,
    walRecords: 0,
    lastCheckpointSeconds: 0,
    lastCheckpointBytes: 0,
  };

  constructor(o: DurableOptions) {
    this.dir = o.dir;
    this.intervalS = o.intervalS ?? 5;
    this.log = o.log;
    this.walWanted = o.wal;
  }

  get walEnabled(): boolean {
    return this.walWanted;
  }

  /** Loads the newest valid checkpoint of every histogram into `registry` (before the server serves). */
  async restore(registry: Registry): Promise<void> {
    this.registry = registry;
    try {
      await mkdir(this.dir, { recursive: true });
    } catch (e) {
      this.log.error(`state: cannot create state directory ${this.dir}: ${(e as Error).message}`);
      return;
    }
    let names: string[];
    try {
      names = await listCheckpoints(this.dir);
    } catch (e) {
      this.log.error(`state: cannot read state directory ${this.dir}: ${(e as Error).message}`);
      return;
    }
    for (const name of names) {
      const bad: string[] = [];
      const c = await readCheckpoint(this.dir, name, bad);
      for (const b of bad) this.log.warn(`state: ignoring torn or corrupt checkpoint ${b}`);
      if (c === undefined) continue;
      this.onDisk.add(name);
      try {
        const e = this.load(registry, c.meta, c.fields);
        this.log.info(
          `state: restored histogram ${e.id} from ${c.file} (version ${c.meta.version}, ${c.meta.fills} fills)`,
        );
      } catch (err) {
        this.log.error(`state: cannot restore ${c.file}: ${(err as Error).message}`);
      }
      this.seq = Math.max(this.seq, c.meta.seq + 1);
      this.nextLsn = Math.max(this.nextLsn, c.meta.lsn + 1);
    }
  }

  private load(registry: Registry, meta: CheckpointMeta, fields: Float64Array[]): Entry {
    const h: Histogram = histogramFromUhi(meta.uhi as Parameters<typeof histogramFromUhi>[0]);
    if (h.cells !== meta.cells || h.storage.fields.length !== fields.length)
      throw new Error(`definition has ${h.cells} cells, the file ${meta.cells}`);
    h.storage.fields = fields;
    h.varianceKnown = meta.varianceKnown;
    const e = registry.add(h, meta.owner, meta.id);
    e.version = meta.version;
    e.fills = meta.fills;
    (e as { created: number }).created = meta.created;
    for (const id of meta.fillIds) e.remember(id);
    this.lsnOf.set(e, meta.lsn);
    this.savedVersion.set(e, meta.version);
    return e;
  }

  /** Replays the write-ahead log over the restored checkpoints, skipping records a checkpoint already holds,
   * then opens a new log segment. `applyFill` applies one logged fill (it skips fill ids already seen). */
  async replay(registry: Registry, applyFill: (entry: Entry, payload: Uint8Array, fillId: string) => void) {
    if (!this.walWanted) return;
    let segs: number[] = [];
    try {
      segs = await listSegments(this.dir);
    } catch {
      /* reported by restore */
    }
    let applied = 0;
    let skipped = 0;
    for (const n of segs) {
      const r = await readSegment(this.dir, n, (rec) => {
        this.nextLsn = Math.max(this.nextLsn, rec.lsn + 1);
        if (this.replayOne(registry, rec, applyFill)) applied++;
        else skipped++;
      });
      if (r.problem) this.log.warn(`state: WAL segment ${n} ends early: ${r.problem} (the rest is ignored)`);
    }
    if (segs.length > 0)
      this.log.info(
        `state: replayed ${applied} WAL records (${skipped} already in checkpoints or duplicates)`,
      );
    this.wal = await Wal.open(this.dir);
    this.wal.onFailure = (e) => {
      this.counters.walFailures++;
      this.log.error(`state: WAL append failed: ${(e as Error).message} (the fill is not acknowledged)`);
    };
  }

  private replayOne(
    registry: Registry,
    rec: WalRecord,
    applyFill: (entry: Entry, payload: Uint8Array, fillId: string) => void,
  ): boolean {
    const e = registry.all().find((x) => x.id === rec.id);
    if (e !== undefined && rec.lsn <= (this.lsnOf.get(e) ?? 0)) return false;
    try {
      switch (rec.kind) {
        case "create": {
          const { owner, uhi } = JSON.parse(Buffer.from(rec.payload).toString("utf8"));
          if (e !== undefined) registry.delete(e.id, e.owner);
          const n = registry.add(histogramFromUhi(uhiFromJson(uhi)), owner, rec.id);
          this.lsnOf.set(n, rec.lsn);
          return true;
        }
        case "fill":
        case "reset":
        case "delete": {
          if (e === undefined) {
            this.log.warn(`state: WAL ${rec.kind} of unknown histogram '${rec.id}' (lsn ${rec.lsn}) skipped`);
            return false;
          }
          this.lsnOf.set(e, rec.lsn);
          if (rec.kind === "fill") {
            if (e.seen(rec.fillId)) return false;
            applyFill(e, rec.payload, rec.fillId);
          } else if (rec.kind === "reset") {
            e.hist.reset();
            e.changed();
          } else registry.delete(e.id, e.owner);
          return true;
        }
      }
    } catch (err) {
      this.log.error(
        `state: WAL record ${rec.kind} '${rec.id}' (lsn ${rec.lsn}) failed: ${(err as Error).message}`,
      );
    }
    return false;
  }

  private append(e: Entry, kind: WalRecord["kind"], fillId: string, payload: Uint8Array): Promise<void> {
    const wal = this.wal;
    if (wal === undefined) return Promise.resolve();
    const lsn = this.nextLsn++;
    this.lsnOf.set(e, lsn);
    this.counters.walRecords++;
    return wal.append({ lsn, kind, id: e.id, fillId, payload });
  }

  /** Call right after a histogram was created; resolves when that is durable. */
  logCreate(e: Entry, uhiJson: string): Promise<void> {
    return this.append(e, "create", "", Buffer.from(JSON.stringify({ owner: e.owner, uhi: uhiJson })));
  }

  /** Call inside the histogram's queue right after the fill was applied; `payload` is the encoded request. */
  logFill(e: Entry, fillId: string, payload: Uint8Array): Promise<void> {
    return this.append(e, "fill", fillId, payload);
  }

  logReset(e: Entry): Promise<void> {
    return this.append(e, "reset", "", new Uint8Array(0));
  }

  logDelete(e: Entry): Promise<void> {
    return this.append(e, "delete", "", new Uint8Array(0));
  }

  /** Resolves once every record logged so far is durable (a duplicate fill waits for its original). */
  async barrier(): Promise<void> {
    await this.wal?.barrier();
  }

  /** Starts periodic checkpoints of `registry`. */
  start(registry: Registry): void {
    this.registry = registry;
    this.timer = setInterval(() => {
      void this.checkpoint();
    }, this.intervalS * 1000);
    this.timer.unref();
  }

  /** One checkpoint round (a round already running is waited for instead). */
  checkpoint(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.round().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async round(): Promise<void> {
    const registry = this.registry;
    if (registry === undefined) return;
    const t0 = performance.now();
    // Every record appended before this point was applied before it, so the snapshots below include it.
    const walFrom = this.wal?.rotate();
    const seq = this.seq++;
    let ok = true;
    let bytes = 0;
    let written = 0;
    try {
      await mkdir(this.dir, { recursive: true });
    } catch {
      /* the writes below report it */
    }
    const live = new Set<string>();
    for (const e of registry.all()) {
      const name = fileName(e.id);
      live.add(name);
      if (this.savedVersion.get(e) === e.version && this.onDisk.has(name)) continue;
      // Under the histogram's queue (its fills wait, nothing else does): the metadata, then a chunked copy of
      // the fields that yields to the event loop every 32 MiB.
      const snap = await e.run(async () => ({
        version: e.version,
        meta: {
          id: e.id,
          owner: e.owner,
          uhi: histogramToUhi(e.hist, { withData: false }),
          varianceKnown: e.hist.varianceKnown,
          version: e.version,
          fills: e.fills,
          created: e.created,
          fillIds: e.fillIdList(),
          lsn: this.lsnOf.get(e) ?? 0,
          seq,
          cells: e.hist.cells,
          fields: e.hist.storage.fields.length,
        } satisfies CheckpointMeta,
        fields: await copyChunked(e.hist.storage.fields),
      }));
      try {
        bytes += await writeCheckpoint(this.dir, name, snap.meta, snap.fields);
        written++;
        this.onDisk.add(name);
        this.savedVersion.set(e, snap.version);
      } catch (err) {
        ok = false;
        this.counters.checkpointFailures++;
        this.log.error(
          `state: checkpoint of histogram '${e.id}' failed: ${(err as Error).message} (the last good checkpoint is kept)`,
        );
      }
    }
    try {
      let removed = 0;
      for (const name of this.onDisk)
        if (!live.has(name)) {
          await removeCheckpoint(this.dir, name);
          this.onDisk.delete(name);
          removed++;
        }
      if (removed > 0) await fsyncDir(this.dir);
      if (ok && walFrom !== undefined) await this.wal?.dropBefore(walFrom);
    } catch (err) {
      ok = false;
      this.counters.checkpointFailures++;
      this.log.error(`state: checkpoint cleanup failed: ${(err as Error).message}`);
    }
    if (written > 0) {
      this.counters.checkpoints++;
      this.counters.lastCheckpointSeconds = (performance.now() - t0) / 1000;
      this.counters.lastCheckpointBytes = bytes;
    }
  }

  /** Stops the timer, writes a last checkpoint and closes the log. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.checkpoint();
    await this.wal?.close();
  }
}
