// FillPool: a fill split over worker threads gives the single-threaded result, and a failing one adds nothing.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import {
  FillPool,
  Histogram,
  IntegerAxis,
  InvalidArgumentError,
  RegularAxis,
  StrCategoryAxis,
  VariableAxis,
} from "../../src/engine/index.ts";
import { Rng } from "../support/random.ts";

const pool = new FillPool(2);
after(() => pool.close());

function shared<T extends Float64Array | Int32Array>(
  make: (b: SharedArrayBuffer) => T,
  n: number,
  fill: (i: number) => number,
): T {
  const a = make(new SharedArrayBuffer(n * make(new SharedArrayBuffer(8)).BYTES_PER_ELEMENT));
  for (let i = 0; i < n; i++) a[i] = fill(i);
  return a;
}

test("pool fills equal single-threaded fills, flow included", async () => {
  assert.ok(pool.threads >= 2);
  const rng = new Rng(3);
  const n = 1_000_003;
  const x = shared(
    (b) => new Float64Array(b),
    n,
    () => rng.normal() * 2,
  );
  const tof = new Int32Array(n).map(() => rng.int(-10, 1100)); // not shared: sent by copy
  const w = shared(
    (b) => new Float64Array(b),
    n,
    () => rng.int(0, 4),
  );
  const make = () => [
    new Histogram([new RegularAxis(100, -3, 3), new IntegerAxis(0, 1000)], { storage: "int" }),
    new Histogram([new VariableAxis([-3, -1, 0, 0.5, 3]), new IntegerAxis(0, 1000)], { storage: "weighted" }),
  ];
  const single = make();
  const pooled = make();
  single[0].fill([x, tof]);
  await pool.fill(pooled[0], [x, tof]);
  single[1].fill([x, tof], { weight: w });
  await pool.fill(pooled[1], [x, tof], { weight: w });
  for (let h = 0; h < 2; h++)
    for (const [i, f] of single[h].storage.fields.entries())
      assert.deepEqual(pooled[h].storage.fields[i], f, `hist ${h} field ${i}`);
});

test("a pool fill that fails adds nothing and the pool keeps working", async () => {
  const h = new Histogram([new RegularAxis(10, 0, 1), new StrCategoryAxis(["a", "b"])], {
    storage: "double",
  });
  const n = 600_000;
  const x = new Float64Array(n).fill(0.5);
  await assert.rejects(pool.fill(h, [x, 7 as unknown as string]), InvalidArgumentError);
  await assert.rejects(pool.fill(h, [x.subarray(1), new Array<string>(n).fill("a")]), /compatible lengths/);
  assert.ok(h.storage.fields[0].every((v) => v === 0));
  await pool.fill(h, [x, "b"]);
  assert.equal(h.storage.fields[0][6 * 3 + 1], n);
});

test("concurrent pool fills of big storages (split by cells and by events) each equal the sequential fill", async () => {
  const w = shared(
    (b) => new Float64Array(b),
    400_000,
    (i) => (i % 7) * 0.25,
  );
  const rng = new Rng(11);
  const n = 400_000;
  const pix = shared(
    (b) => new Int32Array(b),
    n,
    () => rng.int(-5, 300_005),
  );
  const x = shared(
    (b) => new Float64Array(b),
    n,
    () => rng.normal(),
  );
  const y = shared(
    (b) => new Float64Array(b),
    n,
    () => rng.normal(),
  );
  const make = () => [
    new Histogram([new IntegerAxis(0, 300_000)], { storage: "int" }),
    new Histogram([new RegularAxis(600, -3, 3), new RegularAxis(600, -3, 3)], { storage: "double" }),
  ];
  const single = make();
  single[0].fill([pix], { weight: w });
  single[0].fill([pix], { weight: w });
  single[1].fill([x, y]);
  single[1].fill([y, x]);
  const pooled = make();
  // Started together: the second of each pair waits for the first (same histogram), and the 2D fills (split by
  // events) run while the weighted pixel fills (split by cells) hold the pool's kept buffers.
  await Promise.all([
    pool.fill(pooled[0], [pix], { weight: w }),
    pool.fill(pooled[1], [x, y]),
    pool.fill(pooled[0], [pix], { weight: w }),
    pool.fill(pooled[1], [y, x]),
  ]);
  for (let h = 0; h < 2; h++)
    assert.deepEqual(pooled[h].storage.fields[0], single[h].storage.fields[0], `hist ${h}`);
});
