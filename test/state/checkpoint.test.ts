// Checkpoint files: round trip of every storage type through DurableState (definition, fields bit for bit, fill
// ids, version, varianceKnown, grown axes), torn and corrupt files detected, the previous generation kept, and a
// failed write counted and logged with the last good checkpoint kept.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  Histogram,
  histogramToUhi,
  IntegerAxis,
  RegularAxis,
  StrCategoryAxis,
  uhiToJson,
  VariableAxis,
} from "../../src/engine/index.ts";
import { Registry } from "../../src/grpc/registry.ts";
import { readCheckpoint, writeCheckpoint } from "../../src/state/checkpoint.ts";
import { DurableState } from "../../src/state/durable.ts";
import type { CheckpointMeta } from "../../src/state/format.ts";

const tmp = () => mkdtempSync(join(tmpdir(), "histd-state-"));

function collecting() {
  const lines: string[] = [];
  return {
    lines,
    log: {
      info: (m: string) => lines.push(`I ${m}`),
      warn: (m: string) => lines.push(`W ${m}`),
      error: (m: string) => lines.push(`E ${m}`),
    },
  };
}

function filled(storage: "int" | "double" | "weighted" | "mean" | "weighted_mean"): Histogram {
  const h = new Histogram(
    [
      new RegularAxis(7, -1, 1, { metadata: { name: "x" } }),
      new StrCategoryAxis(["a"], { growth: true, metadata: { name: "c" } }),
      new VariableAxis([0, 1, 2.5, 10], { metadata: { name: "v" } }),
      new IntegerAxis(0, 3, { growth: true, metadata: { name: "i" } }),
    ],
    { storage },
  );
  const n = 500;
  const x = Float64Array.from({ length: n }, (_, k) => Math.sin(k * 1.3) * 1.2);
  const v = Float64Array.from({ length: n }, (_, k) => (k * 0.37) % 11);
  const i = Int32Array.from({ length: n }, (_, k) => k % 6);
  const c = Array.from({ length: n }, (_, k) => ["a", "b", "c"][k % 3]);
  const weight = Float64Array.from({ length: n }, (_, k) => 0.1 + (k % 5) * 0.3);
  const sample = Float64Array.from({ length: n }, (_, k) => Math.cos(k));
  const needsSample = storage === "mean" || storage === "weighted_mean";
  h.fill([x, c, v, i], {
    weight: storage === "int" ? undefined : weight,
    sample: needsSample ? sample : undefined,
  });
  if (storage === "double") h.fill([0.5, "a", 1, 1], { weight: 2 }); // a weighted fill: variance unknown
  return h;
}

const full = (h: Histogram) => uhiToJson(histogramToUhi(h));

test("every storage type round-trips through a checkpoint, bit for bit, with fill ids and versions", async () => {
  const dir = tmp();
  const reg = new Registry();
  const types = ["int", "double", "weighted", "mean", "weighted_mean"] as const;
  for (const t of types) {
    const e = reg.add(filled(t), t === "mean" ? "tok" : "", `h.${t}`);
    e.version = 7;
    e.fills = 3;
    e.remember(`${t}-1`);
    e.remember(`${t}-2`);
  }
  const { log } = collecting();
  const s = new DurableState({ dir, wal: false, log });
  await s.restore(reg);
  s.start(reg);
  await s.checkpoint();
  await s.close();
  assert.equal(s.counters.checkpointFailures, 0);
  assert.deepEqual(readdirSync(dir).sort(), types.map((t) => `h-h.${t}.ckpt`).sort());

  const back = new Registry();
  await new DurableState({ dir, wal: false, log }).restore(back);
  assert.equal(back.size, types.length);
  for (const t of types) {
    const a = reg.all().find((e) => e.id === `h.${t}`)!;
    const b = back.all().find((e) => e.id === `h.${t}`)!;
    assert.equal(full(b.hist), full(a.hist), t);
    assert.equal(b.hist.storageType, t);
    a.hist.storage.fields.forEach((f, k) => {
      assert.deepEqual(
        new Uint8Array(b.hist.storage.fields[k].buffer, b.hist.storage.fields[k].byteOffset, f.byteLength),
        new Uint8Array(f.buffer),
      );
    });
    assert.equal(b.hist.varianceKnown, a.hist.varianceKnown);
    assert.equal(b.owner, a.owner);
    assert.equal(b.version, 7);
    assert.equal(b.fills, 3);
    assert.deepEqual(b.fillIdList(), [`${t}-1`, `${t}-2`]);
    assert.ok(b.seen(`${t}-2`));
    // The restored histogram keeps filling (grown axes included).
    b.hist.fill([0.1, "zz", 1, 9], {
      weight: t === "int" ? undefined : 1,
      sample: t.includes("mean") ? 1 : undefined,
    });
  }
  assert.equal(back.all().find((e) => e.id === "h.double")!.hist.varianceKnown, false);
});

function meta(seq: number, cells: number): CheckpointMeta {
  const h = new Histogram([new RegularAxis(cells - 2, 0, 1)]);
  return {
    id: "x",
    owner: "",
    uhi: histogramToUhi(h, { withData: false }),
    varianceKnown: true,
    version: seq,
    fills: seq,
    created: 0,
    fillIds: [],
    lsn: 0,
    seq,
    cells,
    fields: 1,
  };
}

test("torn and corrupt files are detected; the previous generation is kept and used", async () => {
  const dir = tmp();
  const cells = 1000;
  await writeCheckpoint(dir, "x", meta(1, cells), [new Float64Array(cells).fill(1)]);
  await writeCheckpoint(dir, "x", meta(2, cells), [new Float64Array(cells).fill(2)]);
  assert.deepEqual(readdirSync(dir).sort(), ["x.ckpt", "x.ckpt.prev"]);
  let c = await readCheckpoint(dir, "x");
  assert.equal(c?.meta.seq, 2);
  assert.equal(c?.fields[0][999], 2);

  // One flipped bit in the data: checksum mismatch, the previous generation is read.
  const good = readFileSync(join(dir, "x.ckpt"));
  const flipped = Buffer.from(good);
  flipped[flipped.length - 100] ^= 4;
  writeFileSync(join(dir, "x.ckpt"), flipped);
  const bad: string[] = [];
  c = await readCheckpoint(dir, "x", bad);
  assert.equal(c?.meta.seq, 1);
  assert.equal(c?.fields[0][0], 1);
  assert.match(bad.join(), /x\.ckpt: checksum mismatch/);

  // Torn (cut short): detected by length.
  writeFileSync(join(dir, "x.ckpt"), good);
  truncateSync(join(dir, "x.ckpt"), good.length - 5);
  bad.length = 0;
  c = await readCheckpoint(dir, "x", bad);
  assert.equal(c?.meta.seq, 1);
  assert.match(bad.join(), /torn/);

  // A crash between the two renames leaves .prev and a complete .tmp: the newer .tmp wins.
  writeFileSync(join(dir, "x.ckpt.tmp"), good);
  truncateSync(join(dir, "x.ckpt"), 0);
  c = await readCheckpoint(dir, "x");
  assert.equal(c?.meta.seq, 2);

  // Wrong magic / version.
  const v2 = Buffer.from(good);
  v2.writeUInt32LE(99, 8);
  writeFileSync(join(dir, "y.ckpt"), v2);
  bad.length = 0;
  assert.equal(await readCheckpoint(dir, "y", bad), undefined);
  assert.match(bad.join(), /unsupported version 99/);
});

test("a failed checkpoint write is logged and counted, serving state stays, the last good file is kept", async () => {
  const dir = tmp();
  const reg = new Registry();
  const e = reg.add(filled("weighted"), "", "w");
  const { lines, log } = collecting();
  const s = new DurableState({ dir, wal: false, log });
  await s.restore(reg);
  s.start(reg);
  await s.checkpoint();
  const before = readFileSync(join(dir, "h-w.ckpt"));
  // Make the temp file's path unwritable (a directory), then change the histogram and checkpoint again.
  mkdirSync(join(dir, "h-w.ckpt.tmp"));
  e.hist.fill([0.2, "a", 1, 1], { weight: 5 });
  e.changed();
  await s.checkpoint();
  assert.equal(s.counters.checkpointFailures, 1);
  assert.match(
    lines.join("\n"),
    /E state: checkpoint of histogram 'w' failed: .*EISDIR.*last good checkpoint is kept/,
  );
  assert.deepEqual(readFileSync(join(dir, "h-w.ckpt")), before);
  // Once writable again, the next round writes it.
  await import("node:fs").then((fs) => fs.rmdirSync(join(dir, "h-w.ckpt.tmp")));
  await s.checkpoint();
  await s.close();
  const back = new Registry();
  await new DurableState({ dir, wal: false, log }).restore(back);
  assert.equal(full(back.get("w", "").hist), full(e.hist));

  // A state directory that cannot be created: an error in the log, nothing thrown.
  const file = join(dir, "plain-file");
  writeFileSync(file, "x");
  const { lines: l2, log: log2 } = collecting();
  const s2 = new DurableState({ dir: join(file, "sub"), wal: false, log: log2 });
  await s2.restore(reg);
  s2.start(reg);
  await s2.checkpoint();
  await s2.close();
  assert.match(l2.join("\n"), /cannot create state directory/);
  assert.ok(s2.counters.checkpointFailures >= 1);
});
