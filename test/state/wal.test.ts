// The write-ahead log: group commit (concurrent appends share fsyncs; each resolves only once durable), reading
// back in order, a torn tail ignored, rotation and dropping of covered segments.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, statSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { listSegments, readSegment, Wal, type WalRecord } from "../../src/state/wal.ts";

const rec = (lsn: number): WalRecord => ({
  lsn,
  kind: "fill",
  id: "hist",
  fillId: `f${lsn}`,
  payload: Buffer.alloc(100 + (lsn % 7), lsn & 255),
});

test("group commit: 500 concurrent appends share a handful of fsyncs and all read back in order", async () => {
  const dir = mkdtempSync(join(tmpdir(), "histd-wal-"));
  const wal = await Wal.open(dir);
  let durable = 0;
  const ps: Promise<void>[] = [];
  for (let i = 1; i <= 500; i++) ps.push(wal.append(rec(i)).then(() => void durable++));
  assert.equal(durable, 0, "nothing is acknowledged before its fsync");
  await Promise.all(ps);
  assert.equal(durable, 500);
  assert.ok(wal.syncs >= 1 && wal.syncs <= 5, `${wal.syncs} fsyncs for 500 appends`);
  // Appends arriving while an fsync runs wait for the next one.
  const first = wal.append(rec(501));
  await new Promise((r) => setImmediate(r));
  const late = [502, 503, 504].map((n) => wal.append(rec(n)));
  await Promise.all([first, ...late]);
  assert.ok(wal.syncs <= 7);
  await wal.close();
  const got: WalRecord[] = [];
  const r = await readSegment(dir, 1, (x) => got.push(x));
  assert.equal(r.problem, undefined);
  assert.deepEqual(
    got.map((x) => x.lsn),
    Array.from({ length: 504 }, (_, i) => i + 1),
  );
  assert.equal(got[41].fillId, "f42");
  assert.deepEqual(Buffer.from(got[41].payload), Buffer.from(rec(42).payload));

  // A torn tail (crash mid-write): the records before it are read, the rest is reported.
  const path = join(dir, readdirSync(dir)[0]);
  truncateSync(path, statSync(path).size - 3);
  const again: WalRecord[] = [];
  const r2 = await readSegment(dir, 1, (x) => again.push(x));
  assert.equal(again.length, 503);
  assert.match(r2.problem ?? "", /torn/);
});

test("rotation: new appends go to a new segment; dropBefore deletes the covered ones", async () => {
  const dir = mkdtempSync(join(tmpdir(), "histd-wal-"));
  const wal = await Wal.open(dir);
  await wal.append(rec(1));
  const n = wal.rotate();
  assert.equal(n, 2);
  await wal.append(rec(2));
  assert.deepEqual(await listSegments(dir), [1, 2]);
  await wal.dropBefore(n);
  assert.deepEqual(await listSegments(dir), [2]);
  await wal.close();
  const reopened = await Wal.open(dir);
  assert.equal(reopened.segment, 3, "a new process appends to a fresh segment");
  await reopened.close();
});
