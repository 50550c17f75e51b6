// The checkpoint file format (version 1), little-endian:
//   "HISTDCKP" (8 bytes) | u32 version | u32 metaBytes | f64 dataBytes
//   meta: UTF-8 JSON (a StoredMeta: CheckpointMeta for the gRPC door), zero-padded to a multiple of 8 bytes
//   data: float64 arrays, `fields` arrays of `cells` each, or of `lengths[i]` each when the meta has `lengths`
//   trailer: u32 CRC-32 of every byte before it | "DONE"
// A file whose length, magic, version or checksum does not match is torn or corrupt and is never loaded.
import { crc32 } from "node:zlib";

export const CHECKPOINT_MAGIC = "HISTDCKP";
export const CHECKPOINT_VERSION = 1;
export const HEADER_BYTES = 24;
export const TRAILER_BYTES = 8;
const TRAILER_TAG = "DONE";

/** What every checkpoint's metadata holds: its round, and the float64 array lengths that follow it. */
export interface StoredMeta {
  /** Checkpoint round that wrote the file (the newest valid generation wins on restore). */
  seq: number;
  /** Cells per field, for `fields` arrays of one length. */
  cells?: number;
  fields?: number;
  /** Length of each array, for arrays of different lengths. */
  lengths?: number[];
}

/** The array lengths a meta announces. */
export function arrayLengths(meta: StoredMeta): number[] {
  if (Array.isArray(meta.lengths)) return meta.lengths;
  return new Array<number>(meta.fields ?? 0).fill(meta.cells ?? 0);
}

/** Everything about one gRPC-door histogram except its storage arrays. */
export interface CheckpointMeta extends StoredMeta {
  id: string;
  owner: string;
  /** The histogram's UHI definition without data (axes as they are now, storage type, metadata). */
  uhi: unknown;
  varianceKnown: boolean;
  version: number;
  fills: number;
  created: number;
  /** Remembered fill ids, oldest first. */
  fillIds: string[];
  /** Last write-ahead-log sequence number included (0 without a WAL). */
  lsn: number;
  /** Cells per field; fields.length is the storage's field count. */
  cells: number;
  fields: number;
}

export class CorruptCheckpoint extends Error {}

/** The pieces of a checkpoint file in order; the caller writes them and appends `trailer(crc)`. Field arrays
 * are views, not copies (float64 is little-endian on every platform Node runs on that we support). */
export function checkpointParts(meta: StoredMeta, fields: Float64Array[]): Uint8Array[] {
  const json = Buffer.from(JSON.stringify(meta), "utf8");
  const padded = Math.ceil(json.length / 8) * 8;
  const metaBuf = Buffer.alloc(padded);
  json.copy(metaBuf);
  const header = Buffer.alloc(HEADER_BYTES);
  header.write(CHECKPOINT_MAGIC, 0, "latin1");
  header.writeUInt32LE(CHECKPOINT_VERSION, 8);
  header.writeUInt32LE(padded, 12);
  header.writeDoubleLE(
    fields.reduce((s, f) => s + f.byteLength, 0),
    16,
  );
  return [header, metaBuf, ...fields.map((f) => new Uint8Array(f.buffer, f.byteOffset, f.byteLength))];
}

export function trailer(crc: number): Uint8Array {
  const t = Buffer.alloc(TRAILER_BYTES);
  t.writeUInt32LE(crc >>> 0, 0);
  t.write(TRAILER_TAG, 4, "latin1");
  return t;
}

const CHUNK = 16 * 1024 * 1024;

/** CRC-32 over the parts, 16 MiB at a time, yielding to the event loop between chunks (so checksumming a
 * gigabyte does not stall fills). */
export async function crcOf(parts: Uint8Array[]): Promise<number> {
  let crc = 0;
  for (const p of parts)
    for (let o = 0; o < p.length; o += CHUNK) {
      crc = crc32(p.subarray(o, Math.min(p.length, o + CHUNK)), crc);
      if (p.length > CHUNK) await new Promise((r) => setImmediate(r));
    }
  return crc;
}

/** Parses and verifies a whole checkpoint file. Fields are views into `buf` when aligned, else copies. */
export async function decodeCheckpoint<M extends StoredMeta = CheckpointMeta>(
  buf: Uint8Array,
): Promise<{ meta: M; fields: Float64Array[] }> {
  const b = frame(buf);
  const got = await crcOf([b.subarray(0, b.length - TRAILER_BYTES)]);
  return parseVerified<M>(b, got);
}

/** decodeCheckpoint in one go, for small payloads (Kafka partials) where yielding while checksumming is not
 * worth a promise per message. */
export function decodeCheckpointSync<M extends StoredMeta>(
  buf: Uint8Array,
): { meta: M; fields: Float64Array[] } {
  const b = frame(buf);
  return parseVerified<M>(b, crc32(b.subarray(0, b.length - TRAILER_BYTES)));
}

/** The encoded checkpoint as one buffer (for payloads that fit in memory twice, such as Kafka partials). */
export function encodeCheckpointSync(meta: StoredMeta, fields: Float64Array[]): Buffer {
  const parts = checkpointParts(meta, fields);
  let crc = 0;
  for (const p of parts) crc = crc32(p, crc);
  parts.push(trailer(crc));
  return Buffer.concat(parts);
}

/** Checks the framing (magic, version, lengths, trailer tag); returns the exact bytes of the checkpoint. */
function frame(buf: Uint8Array): Buffer {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < HEADER_BYTES + TRAILER_BYTES) throw new CorruptCheckpoint("too short");
  if (b.toString("latin1", 0, 8) !== CHECKPOINT_MAGIC) throw new CorruptCheckpoint("bad magic");
  const version = b.readUInt32LE(8);
  if (version !== CHECKPOINT_VERSION) throw new CorruptCheckpoint(`unsupported version ${version}`);
  const metaBytes = b.readUInt32LE(12);
  const dataBytes = b.readDoubleLE(16);
  const total = HEADER_BYTES + metaBytes + dataBytes + TRAILER_BYTES;
  if (b.length !== total) throw new CorruptCheckpoint(`length ${b.length}, header says ${total} (torn?)`);
  if (b.toString("latin1", total - 4, total) !== TRAILER_TAG) throw new CorruptCheckpoint("no trailer");
  return b;
}

function parseVerified<M extends StoredMeta>(b: Buffer, crc: number): { meta: M; fields: Float64Array[] } {
  const total = b.length;
  if (crc >>> 0 !== b.readUInt32LE(total - 8)) throw new CorruptCheckpoint("checksum mismatch");
  const metaBytes = b.readUInt32LE(12);
  const dataBytes = b.readDoubleLE(16);
  let meta: M;
  try {
    meta = JSON.parse(b.toString("utf8", HEADER_BYTES, HEADER_BYTES + metaBytes).replace(/\0+$/, ""));
  } catch (e) {
    throw new CorruptCheckpoint(`bad metadata: ${(e as Error).message}`);
  }
  const lengths = arrayLengths(meta);
  if (!lengths.every((n) => Number.isSafeInteger(n) && n >= 0))
    throw new CorruptCheckpoint("bad array lengths in the metadata");
  if (lengths.reduce((s, n) => s + n * 8, 0) !== dataBytes)
    throw new CorruptCheckpoint("field sizes do not add up");
  const fields: Float64Array[] = [];
  let o = HEADER_BYTES + metaBytes;
  for (const n of lengths) {
    const at = b.byteOffset + o;
    if (at % 8 === 0) fields.push(new Float64Array(b.buffer, at, n));
    else {
      const f = new Float64Array(n);
      new Uint8Array(f.buffer).set(b.subarray(o, o + n * 8));
      fields.push(f);
    }
    o += n * 8;
  }
  return { meta, fields };
}
