// Atomic checkpoint files with one previous generation kept:
//   write NAME.ckpt.tmp, fsync it; rename NAME.ckpt -> NAME.ckpt.prev; rename NAME.ckpt.tmp -> NAME.ckpt;
//   fsync the directory.
// A crash at any point leaves at least one complete, checksummed generation; reading picks the newest valid one
// (by the round number in its metadata) among NAME.ckpt, NAME.ckpt.tmp and NAME.ckpt.prev.
import { open, readdir, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import {
  type CheckpointMeta,
  checkpointParts,
  crcOf,
  decodeCheckpoint,
  type StoredMeta,
  trailer,
} from "./format.ts";

export const SUFFIX = ".ckpt";

/** Fsyncs a directory, so renames and unlinks in it are durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function writeAll(fh: import("node:fs/promises").FileHandle, parts: Uint8Array[]): Promise<void> {
  const MAX = 256 * 1024 * 1024; // one write per <= 256 MiB slice (Linux writes at most ~2 GiB per call)
  for (const p of parts)
    for (let o = 0; o < p.length; ) {
      const { bytesWritten } = await fh.write(p, o, Math.min(MAX, p.length - o));
      if (bytesWritten <= 0) throw new Error("write made no progress");
      o += bytesWritten;
    }
}

/** Writes one checkpoint durably; returns its size in bytes. On failure the existing generations are untouched
 * (the temp file is removed if possible) and the error is thrown. */
export async function writeCheckpoint(
  dir: string,
  name: string,
  meta: StoredMeta,
  fields: Float64Array[],
): Promise<number> {
  const path = join(dir, name + SUFFIX);
  const tmp = `${path}.tmp`;
  const parts = checkpointParts(meta, fields);
  parts.push(trailer(await crcOf(parts)));
  const size = parts.reduce((s, p) => s + p.length, 0);
  try {
    const fh = await open(tmp, "w", 0o644);
    try {
      await writeAll(fh, parts);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await rename(path, `${path}.prev`).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== "ENOENT") throw e;
  });
  await rename(tmp, path);
  await fsyncDir(dir);
  return size;
}

/** Reads a whole file in 256 MiB reads (readFile stops at 2 GiB). */
async function readWhole(path: string): Promise<Buffer> {
  const fh = await open(path, "r");
  try {
    const { size } = await fh.stat();
    const buf = Buffer.allocUnsafeSlow(size);
    for (let o = 0; o < size; ) {
      const { bytesRead } = await fh.read(buf, o, Math.min(256 * 1024 * 1024, size - o), o);
      if (bytesRead <= 0) return buf.subarray(0, o);
      o += bytesRead;
    }
    return buf;
  } finally {
    await fh.close();
  }
}

export interface LoadedCheckpoint<M extends StoredMeta = CheckpointMeta> {
  meta: M;
  fields: Float64Array[];
  file: string;
}

/** The newest valid generation of checkpoint `name`, or undefined if there is none; `bad` collects
 * "file: reason" for every generation that was present but torn or corrupt. */
export async function readCheckpoint<M extends StoredMeta = CheckpointMeta>(
  dir: string,
  name: string,
  bad: string[] = [],
): Promise<LoadedCheckpoint<M> | undefined> {
  let best: LoadedCheckpoint<M> | undefined;
  for (const file of [name + SUFFIX, `${name}${SUFFIX}.tmp`, `${name}${SUFFIX}.prev`]) {
    let buf: Buffer;
    try {
      buf = await readWhole(join(dir, file));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") continue;
      bad.push(`${file}: ${(e as Error).message}`);
      continue;
    }
    try {
      const c = await decodeCheckpoint<M>(buf);
      if (best === undefined || c.meta.seq > best.meta.seq) best = { ...c, file };
    } catch (e) {
      // A torn temp file is the normal leftover of a crash mid-write: not worth a warning.
      if (!file.endsWith(".tmp")) bad.push(`${file}: ${(e as Error).message}`);
    }
  }
  return best;
}

/** Names (without suffix) of every checkpoint with any generation in `dir`. */
export async function listCheckpoints(dir: string): Promise<string[]> {
  const names = new Set<string>();
  for (const f of await readdir(dir)) {
    const m = /^(.*)\.ckpt(\.tmp|\.prev)?$/.exec(f);
    if (m) names.add(m[1]);
  }
  return [...names].sort();
}

/** Removes every generation of checkpoint `name` (not the directory fsync: the caller does that once). */
export async function removeCheckpoint(dir: string, name: string): Promise<void> {
  for (const f of [name + SUFFIX, `${name}${SUFFIX}.tmp`, `${name}${SUFFIX}.prev`])
    await unlink(join(dir, f)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== "ENOENT") throw e;
    });
}
