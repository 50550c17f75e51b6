// The write-ahead log: numbered segment files (wal-000001.log, ...), each
//   "HISTDWAL" | u32 version (1)       then records
//   u32 bodyBytes | u32 CRC-32(body) | body
//   body: f64 lsn | u8 kind | u16 idBytes | id | u16 fillIdBytes | fillId | payload (the rest)
// Appends are group-committed: records appended while an fsync runs are written and fsync'd together by the next
// one, and each append's promise resolves only once its record is durable. A process always appends to a fresh
// segment; segments are deleted once a checkpoint covers them. Reading stops a segment at the first torn or
// corrupt record (a crash mid-write leaves at most the unacknowledged tail).
import { type FileHandle, open, readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { fsyncDir } from "./checkpoint.ts";

export const WAL_MAGIC = "HISTDWAL";
export const WAL_VERSION = 1;

export const KIND = { create: 1, fill: 2, reset: 3, delete: 4 } as const;
export type WalKind = keyof typeof KIND;
const KIND_NAME: Record<number, WalKind> = { 1: "create", 2: "fill", 3: "reset", 4: "delete" };

export interface WalRecord {
  lsn: number;
  kind: WalKind;
  id: string;
  fillId: string;
  payload: Uint8Array;
}

export function encodeRecord(r: WalRecord): Buffer {
  const id = Buffer.from(r.id, "utf8");
  const fid = Buffer.from(r.fillId, "utf8");
  const bodyLen = 8 + 1 + 2 + id.length + 2 + fid.length + r.payload.length;
  const b = Buffer.allocUnsafe(8 + bodyLen);
  b.writeUInt32LE(bodyLen, 0);
  let o = 8;
  o = b.writeDoubleLE(r.lsn, o);
  o = b.writeUInt8(KIND[r.kind], o);
  o = b.writeUInt16LE(id.length, o);
  o += id.copy(b, o);
  o = b.writeUInt16LE(fid.length, o);
  o += fid.copy(b, o);
  b.set(r.payload, o);
  b.writeUInt32LE(crc32(b.subarray(8)) >>> 0, 4);
  return b;
}

function decodeBody(body: Buffer): WalRecord {
  let o = 0;
  const lsn = body.readDoubleLE(o);
  o += 8;
  const kind = KIND_NAME[body.readUInt8(o)];
  o += 1;
  if (kind === undefined) throw new Error("unknown record kind");
  const idLen = body.readUInt16LE(o);
  o += 2;
  const id = body.toString("utf8", o, o + idLen);
  o += idLen;
  const fidLen = body.readUInt16LE(o);
  o += 2;
  const fillId = body.toString("utf8", o, o + fidLen);
  o += fidLen;
  return { lsn, kind, id, fillId, payload: body.subarray(o) };
}

const segName = (n: number) => `wal-${String(n).padStart(6, "0")}.log`;

/** Segment numbers present in `dir`, ascending. */
export async function listSegments(dir: string): Promise<number[]> {
  return (await readdir(dir))
    .map((f) => /^wal-(\d+)\.log$/.exec(f))
    .filter((m) => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/** Every valid record of segment `n`, in order; `problem` is set when the segment ends in a torn or corrupt
 * record (the records before it are returned). */
export async function readSegment(
  dir: string,
  n: number,
  onRecord: (r: WalRecord) => void,
): Promise<{ records: number; problem?: string }> {
  const fh = await open(join(dir, segName(n)), "r");
  try {
    const { size } = await fh.stat();
    const head = Buffer.alloc(12);
    if (size === 0) return { records: 0 };
    if (size < 12 || (await fh.read(head, 0, 12, 0)).bytesRead < 12)
      return { records: 0, problem: "no header (torn)" };
    if (head.toString("latin1", 0, 8) !== WAL_MAGIC || head.readUInt32LE(8) !== WAL_VERSION)
      return { records: 0, problem: "bad header" };
    let pos = 12;
    let records = 0;
    const rh = Buffer.alloc(8);
    while (pos < size) {
      if (size - pos < 8) return { records, problem: `torn record header at byte ${pos}` };
      await fh.read(rh, 0, 8, pos);
      const len = rh.readUInt32LE(0);
      const crc = rh.readUInt32LE(4);
      if (len < 13 || pos + 8 + len > size) return { records, problem: `torn record at byte ${pos}` };
      const body = Buffer.allocUnsafe(len);
      await fh.read(body, 0, len, pos + 8);
      if (crc32(body) >>> 0 !== crc) return { records, problem: `checksum mismatch at byte ${pos}` };
      onRecord(decodeBody(body));
      records++;
      pos += 8 + len;
    }
    return { records };
  } finally {
    await fh.close();
  }
}

/** One segment being appended to, with group commit. */
class Segment {
  readonly n: number;
  private fh: Promise<FileHandle>;
  private pending: Buffer[] = [];
  private waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private flushing = false;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => undefined;
  broken: unknown;
  /** fsyncs done and records written, for tests and stats. */
  syncs = 0;
  records = 0;

  private readonly dir: string;
  private dirSynced = false;

  constructor(dir: string, n: number) {
    this.n = n;
    this.dir = dir;
    const head = Buffer.alloc(12);
    head.write(WAL_MAGIC, 0, "latin1");
    head.writeUInt32LE(WAL_VERSION, 8);
    this.pending.push(head);
    this.fh = open(join(dir, segName(n)), "wx", 0o644);
    this.fh.catch(() => undefined);
  }

  append(b: Buffer): Promise<void> {
    if (this.broken !== undefined) return Promise.reject(this.broken);
    this.pending.push(b);
    this.records++;
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.flushing) {
      this.flushing = true;
      this.idle = new Promise((r) => {
        this.markIdle = r;
      });
      queueMicrotask(() => this.flush());
    }
    return p;
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      const waiters = this.waiters;
      this.pending = [];
      this.waiters = [];
      try {
        const fh = await this.fh;
        let bufs = batch;
        while (bufs.length > 0) {
          let { bytesWritten } = await fh.writev(bufs);
          while (bufs.length > 0 && bytesWritten >= bufs[0].length) {
            bytesWritten -= bufs[0].length;
            bufs = bufs.slice(1);
          }
          if (bufs.length > 0) bufs = [bufs[0].subarray(bytesWritten), ...bufs.slice(1)];
        }
        await fh.datasync();
        if (!this.dirSynced) {
          await fsyncDir(this.dir); // the new segment's directory entry must be durable too
          this.dirSynced = true;
        }
        this.syncs++;
        for (const w of waiters) w.resolve();
      } catch (e) {
        // A failed write may have left a partial record: this segment takes no more appends.
        this.broken = e;
        for (const w of [...waiters, ...this.waiters]) w.reject(e);
        this.pending = [];
        this.waiters = [];
      }
    }
    this.flushing = false;
    this.markIdle();
  }

  /** Resolves when every append so far has been fsync'd (or failed). */
  settled(): Promise<void> {
    return this.idle;
  }

  async close(): Promise<void> {
    await this.settled();
    await (await this.fh.catch(() => undefined))?.close();
  }
}

/** The log: appends go to the current segment; `rotate` starts a new one. */
export class Wal {
  readonly dir: string;
  private current: Segment;
  private readonly old: Segment[] = [];
  /** Failed appends (write or fsync errors). */
  failures = 0;
  onFailure: (e: unknown) => void = () => undefined;

  private constructor(dir: string, first: number) {
    this.dir = dir;
    this.current = new Segment(dir, first);
  }

  /** Opens the log for appending in a new segment after every existing one. */
  static async open(dir: string): Promise<Wal> {
    // An unreadable directory is not fatal here: appends then fail (and are counted and logged) until it works.
    const segs = await listSegments(dir).catch(() => [] as number[]);
    const w = new Wal(dir, (segs.at(-1) ?? 0) + 1);
    await fsyncDir(dir).catch(() => undefined);
    return w;
  }

  get segment(): number {
    return this.current.n;
  }

  get syncs(): number {
    return this.current.syncs + this.old.reduce((s, g) => s + g.syncs, 0);
  }

  /** Appends a record; resolves once it is durable. A segment that failed is replaced by a new one. */
  append(r: WalRecord): Promise<void> {
    if (this.current.broken !== undefined) this.rotate();
    return this.current.append(encodeRecord(r)).catch((e) => {
      this.failures++;
      this.onFailure(e);
      throw e;
    });
  }

  /** Resolves once everything appended so far is durable (rejects if some of it failed). */
  async barrier(): Promise<void> {
    await Promise.all([...this.old, this.current].map((s) => s.settled()));
  }

  /** New appends go to a new segment; returns the new segment's number. Everything appended before is in
   * segments with smaller numbers. */
  rotate(): number {
    this.old.push(this.current);
    this.current = new Segment(this.dir, this.current.n + 1);
    return this.current.n;
  }

  /** Deletes every segment numbered below `n` (after its pending appends settled). */
  async dropBefore(n: number): Promise<void> {
    for (const s of this.old.filter((s) => s.n < n)) {
      await s.close();
      this.old.splice(this.old.indexOf(s), 1);
    }
    for (const k of await listSegments(this.dir))
      if (k < n)
        await unlink(join(this.dir, segName(k))).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== "ENOENT") throw e;
        });
    await fsyncDir(this.dir);
  }

  async close(): Promise<void> {
    for (const s of [...this.old, this.current]) await s.close();
  }
}
