// The Kafka door's generated fill kernels (src/kafka/fill-kernels.ts) against the engine's generic fill, which
// binning.test.ts checks against numpy: random hist1d / hist1d+det_range / hist2d / dethist configs (negative,
// fractional, equal, huge and tiny ranges, bins narrower than one integer) filled with int32 and uint32 columns
// holding every edge's floor, ceil and neighbours, int32 and uint32 extremes and random values; mismatched column
// lengths, missing ids, and the batch path (a large image's ids sorted by bucket) against message-by-message fills.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Histogram, IntegerAxis } from "../../src/engine/index.ts";
import { decodeEvents, encodeEv42, encodeEv44 } from "../../src/formats/flatbuffers/index.ts";
import type { HistogramSpec } from "../../src/kafka/config-commands.ts";
import { fillBatch } from "../../src/kafka/fill-batch.ts";
import { fusedKernel, numpyAxis, variableAxis } from "../../src/kafka/fill-kernels.ts";
import {
  createHistogram,
  DetHist,
  Hist1d,
  Hist2d,
  type Ids,
  type JbiHistogram,
} from "../../src/kafka/histograms.ts";
import { spec } from "./jbi-support.ts";

let seed = 12345;
function rnd(): number {
  seed = (seed * 48271) % 2147483647;
  return seed / 2147483647;
}
const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];

const I32 = [-(2 ** 31), -(2 ** 31) + 1, -1, 0, 1, 2 ** 31 - 2, 2 ** 31 - 1];
const U32 = [0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 31 + 1, 2 ** 32 - 2, 2 ** 32 - 1];

/** A random range: integer, fractional, negative, equal ends, huge, beyond 32 bits. */
function range(): [number, number] {
  const kind = Math.floor(rnd() * 8);
  const a = Math.round((rnd() - 0.3) * 1e6);
  switch (kind) {
    case 0:
      return [a, a + Math.round(rnd() * 1e6) + 1];
    case 1:
      return [a + rnd(), a + 1 + rnd() * 1e5];
    case 2:
      return [a, a];
    case 3:
      return [-(2 ** 31), 2 ** 31 - 1];
    case 4:
      return [-1e12, 1e12 * rnd()];
    case 5:
      return [a, a + 3 + Math.floor(rnd() * 20)];
    case 6:
      return [0, 71_000_000];
    default:
      return [-rnd() * 10, rnd() * 10];
  }
}

function bins(): number {
  return pick([1, 2, 3, 7, 10, 50, 97, 100, 333, 1000, 1 + Math.floor(rnd() * 3000)]);
}

/** Values on and around every edge, the range ends, the input type's extremes, and random values near the range. */
function values(edges: readonly Float64Array[], unsigned: boolean, extra: number): number[] {
  const lim: [number, number] = unsigned ? [0, 2 ** 32 - 1] : [-(2 ** 31), 2 ** 31 - 1];
  const out: number[] = [...(unsigned ? U32 : I32)];
  for (const e of edges) {
    for (const x of e) for (const d of [-2, -1, 0, 1, 2]) out.push(Math.floor(x) + d, Math.ceil(x) + d);
    const lo = e[0];
    const hi = e[e.length - 1];
    for (let i = 0; i < extra; i++) out.push(Math.round(lo - 5 + (hi - lo + 10) * rnd()));
  }
  return out.filter((v) => Number.isFinite(v) && v >= lim[0] && v <= lim[1]);
}

/** The fill before the kernels: the engine's generic fill, as JbiHistogram.add() called it. */
function engineAdd(h: JbiHistogram, tof: Ids, det: Ids | undefined, into: Histogram): void {
  if (h instanceof Hist1d && !h.filtered) into.fill([tof]);
  else if (h instanceof Hist1d || h instanceof Hist2d) {
    const d = det ?? new Int32Array(0);
    if (d.length === tof.length) into.fill([tof, d]);
    return;
  }
  if (h instanceof DetHist && det) {
    // The old asInt32: uint32 ids wrapped to int32; with a negative first pixel, ids from 2^31 removed first.
    const first = (into.axes[0] as IntegerAxis).min;
    let ids: Int32Array;
    if (det instanceof Int32Array) ids = det;
    else if (first >= 0) ids = new Int32Array(det.buffer, det.byteOffset, det.length);
    else ids = Int32Array.from(Array.from(det).filter((v) => v <= 0x7fffffff));
    into.fill([ids]);
  }
}

/** An int32 (ev44) or uint32 (ev42) column. */
function column(unsigned: boolean, n: number, f: (i: number) => number): Ids {
  const c = unsigned ? new Uint32Array(n) : new Int32Array(n);
  for (let i = 0; i < n; i++) c[i] = f(i);
  return c;
}

function randomSpec(): HistogramSpec {
  const t = Math.floor(rnd() * 4);
  if (t === 0) return spec({ type: "hist1d", tofRange: range(), numBins: bins() });
  if (t === 1)
    return spec({ type: "hist1d", tofRange: range(), detRange: range(), numBins: [bins(), bins()] });
  if (t === 2)
    return spec({ type: "hist2d", tofRange: range(), detRange: range(), numBins: [bins(), bins()] });
  const first = pick([
    0,
    1,
    -7,
    -2.5,
    3.7,
    1000,
    -(2 ** 31),
    2 ** 31 - 5000,
    Math.round((rnd() - 0.5) * 1e6),
  ]);
  const [w, h] = pick([
    [1, 1],
    [3, 5],
    [64, 64],
    [1000, 1000],
  ]);
  return spec({ type: "dethist", detRange: [first, first + 1], width: w, height: h });
}

function edgesOf(h: JbiHistogram): Float64Array[] {
  return h.hist.axes.map((a) =>
    a instanceof IntegerAxis ? Float64Array.of(a.min, a.min + a.size) : a.edges(),
  );
}

function same(a: Float64Array, b: Float64Array, what: string): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++)
    if (a[i] !== b[i]) assert.fail(`${what}: cell ${i}: ${a[i]} !== ${b[i]}`);
}

describe("Kafka fill kernels equal the engine's fill", () => {
  it("random configs, int32 and uint32 columns over every edge, the extremes and mismatched lengths", () => {
    let configs = 0;
    while (configs < 400) {
      const s = randomSpec();
      let h: JbiHistogram;
      try {
        h = createHistogram(s);
      } catch {
        continue;
      }
      configs++;
      for (const unsigned of [false, true]) {
        const edges = edgesOf(h);
        const tv = values([edges[0]], unsigned, 500);
        const dv = values([edges[edges.length - 1]], unsigned, 500);
        const n = Math.max(tv.length, dv.length);
        const tof = column(unsigned, n, (i) => tv[i % tv.length]);
        // Shuffled so that every ToF value meets many ids.
        const det = column(unsigned, n, () => dv[Math.floor(rnd() * dv.length)]);
        const ref = h.emptyCopy();
        const got = h.emptyCopy();
        const msgs: [Ids, Ids | undefined][] = [
          [tof, det],
          [tof, det.subarray(1)],
          [tof.subarray(0, 0), det.subarray(0, 0)],
          [tof, undefined],
        ];
        for (const [x, y] of msgs) {
          engineAdd(h, x, y, ref);
          h.add(x, y, got);
        }
        same(got.storage.fields[0], ref.storage.fields[0], `${JSON.stringify(s)} unsigned=${unsigned}`);
        // The batch path (for a large image: sorted by bucket).
        const many = h.emptyCopy();
        h.addMany(
          msgs.map((m) => m[0]),
          msgs.map((m) => m[1]),
          many,
        );
        same(
          many.storage.fields[0],
          ref.storage.fields[0],
          `addMany ${JSON.stringify(s)} unsigned=${unsigned}`,
        );
      }
    }
  });

  it("fused kernels over random sets of histograms equal each histogram's own fill", () => {
    for (let round = 0; round < 150; round++) {
      const hs: JbiHistogram[] = [];
      const want = 2 + Math.floor(rnd() * 4);
      while (hs.length < want) {
        try {
          const h = createHistogram(randomSpec());
          if (h.part) hs.push(h);
        } catch {}
      }
      const kernel = fusedKernel(hs.map((h) => h.part!));
      for (const unsigned of [false, true]) {
        const edges = hs.flatMap(edgesOf);
        const tv = values(edges, unsigned, 100);
        const dv = values(edges, unsigned, 100);
        const n = Math.max(tv.length, dv.length);
        const tof = column(unsigned, n, (i) => tv[i % tv.length]);
        const det = column(unsigned, n, () => dv[Math.floor(rnd() * dv.length)]);
        const refs = hs.map((h) => h.emptyCopy());
        const gots = hs.map((h) => h.emptyCopy());
        hs.forEach((h, k) => {
          engineAdd(h, tof, det, refs[k]);
          engineAdd(h, tof, det, refs[k]);
        });
        const cs = gots.map((g) => g.storage.fields[0]);
        assert.ok(kernel(tof, det, cs));
        assert.ok(kernel(tof, det, cs));
        const readsBoth =
          hs.some((h) => h.part!.inputs !== "det") && hs.some((h) => h.part!.inputs !== "tof");
        assert.equal(kernel(tof, det.subarray(1), cs), !readsBoth);
        if (!readsBoth)
          hs.forEach((h, k) => {
            engineAdd(h, tof, det.subarray(1), refs[k]);
          });
        hs.forEach((h, k) => {
          same(
            gots[k].storage.fields[0],
            refs[k].storage.fields[0],
            `fused ${h.type} ${k} unsigned=${unsigned}`,
          );
        });
      }
    }
  });

  it("every binning path is exercised and exact: plain formula, walk over the bounds, numpy's formula", () => {
    // Bins narrower than one integer defeat the plain formulas.
    const cases: [number, number, number][] = [
      [0, 71_000_000, 1000],
      [0, 10, 100],
      [3, 1003, 7],
      [-2.5, 7.25, 33],
      [0.1, 0.2, 3],
      [-(2 ** 31), 2 ** 31 - 1, 999],
      // Found by search: no plain formula is exact for these (bins narrower than one integer).
      [-2.5, 10, 265],
      [-9.333333333333334, 15.166666666666666, 42],
    ];
    const kinds = new Set<string>();
    for (const [lo, hi, n] of cases) {
      const v = createHistogram(
        spec({ type: "hist2d", tofRange: [lo, hi], detRange: [0, 1], numBins: [n, 1] }),
      );
      const e = v.hist.axes[0].edges();
      kinds.add(`variable:${variableAxis(e).kind}`);
      const p = createHistogram(spec({ type: "hist1d", tofRange: [lo, hi], numBins: n }));
      kinds.add(`numpy:${numpyAxis(n, lo, hi, p.hist.axes[0].edges()).kind}`);
      const vals = values([e], false, 3000);
      const x = Int32Array.from(vals);
      const y = new Int32Array(x.length);
      for (const h of [v, p]) {
        const ref = h.emptyCopy();
        const got = h.emptyCopy();
        engineAdd(h, x, y, ref);
        h.add(x, y, got);
        same(got.storage.fields[0], ref.storage.fields[0], `${h.type} ${lo} ${hi} ${n}`);
      }
    }
    for (const k of ["variable:formula", "variable:walk", "numpy:formula", "numpy:numpy", "variable:empty"])
      assert.ok(kinds.has(k), `${k} not exercised: ${[...kinds]}`);
  });

  it("a batch (large images sorted by bucket, several rounds) counts as its messages one by one", () => {
    const specs = [
      spec({ type: "hist1d", tofRange: [0, 71_000_000], numBins: 1000 }),
      spec({ type: "hist2d", tofRange: [0, 71_000_000], detRange: [0, 1_000_000], numBins: [100, 100] }),
      spec({ type: "dethist", detRange: [-3, 0], width: 1000, height: 1000 }),
      spec({ type: "dethist", detRange: [17, 0], width: 40, height: 30 }),
      spec({ type: "hist1d", tofRange: [5, 5], detRange: [0, 1000], numBins: [3, 2] }),
    ];
    for (const ev42 of [false, true]) {
      const batched = specs.map(createHistogram);
      const single = specs.map(createHistogram);
      const msgs: Uint8Array[] = [];
      const lengths = [0, 1, 12_400, 300_000, 700_000, 5];
      for (const [m, n] of lengths.entries()) {
        const tof = column(ev42, n, () => Math.floor(rnd() * 72_000_000) - (ev42 ? 0 : 500_000));
        const det = column(ev42, n, () =>
          rnd() < 0.01 ? pick(ev42 ? U32 : I32) : Math.floor(rnd() * 1_002_000) - (ev42 ? 0 : 1000),
        );
        msgs.push(
          ev42
            ? encodeEv42({
                sourceName: "s",
                messageId: BigInt(m),
                pulseTime: 1n,
                timeOfFlight: tof as Uint32Array,
                detectorId: det as Uint32Array,
              })
            : encodeEv44({
                sourceName: "s",
                messageId: BigInt(m),
                referenceTime: BigInt64Array.of(1n),
                referenceTimeIndex: Int32Array.of(0),
                timeOfFlight: tof as Int32Array,
                pixelId: det as Int32Array,
              }),
        );
        for (const h of single) h.add(tof, det);
      }
      // Columns of different lengths: ids without ToF (ev42 detector-only data), ToF without ids (ev44).
      const ids = column(ev42, 777, () => Math.floor(rnd() * 1_000_000));
      const tofOnly = column(ev42, 555, () => Math.floor(rnd() * 71_000_000));
      msgs.push(
        ev42
          ? encodeEv42({
              sourceName: "s",
              messageId: 9n,
              pulseTime: 1n,
              timeOfFlight: new Uint32Array(0),
              detectorId: ids as Uint32Array,
            })
          : encodeEv44({
              sourceName: "s",
              messageId: 9n,
              referenceTime: BigInt64Array.of(1n),
              referenceTimeIndex: Int32Array.of(0),
              timeOfFlight: tofOnly as Int32Array,
              pixelId: undefined,
            }),
      );
      for (const h of single) {
        const ev = decodeEvents(msgs[msgs.length - 1]);
        h.add(ev.timeOfFlight, ev.schema === "ev42" ? ev.detectorId : ev.pixelId);
      }
      // One batch: aligned copies, one undecodable message, every flag set except one histogram of one message.
      msgs.splice(2, 0, new Uint8Array(16));
      let used = 0;
      const spans: number[] = [];
      for (const m of msgs) {
        const at = (used + 7) & ~7;
        spans.push(at, m.length);
        used = at + m.length;
      }
      const bytes = new Uint8Array(used);
      msgs.forEach((m, k) => {
        bytes.set(m, spans[2 * k]);
      });
      const fill = new Uint8Array(msgs.length * specs.length).fill(1);
      fill[3 * specs.length + 2] = 0; // message 3 (12,400 events) not for the large image
      const errors = fillBatch(batched, bytes, Int32Array.from(spans), fill);
      assert.equal(errors, 1);
      const skipped = createHistogram(specs[2]);
      skipped.add(new Int32Array(0), decodeIds(msgs[3]));
      for (let k = 0; k < specs.length; k++) {
        const want = single[k].counts.slice();
        if (k === 2) for (let i = 0; i < want.length; i++) want[i] -= skipped.counts[i];
        same(batched[k].counts, want, `${specs[k].type} ${k} ev42=${ev42}`);
      }
      assert.ok(single[2].sum() > 0 && single[3].sum() > 0);
    }
  });
});

function decodeIds(b: Uint8Array): Ids {
  const ev = decodeEvents(b);
  return (ev.schema === "ev42" ? ev.detectorId : ev.pixelId) as Ids;
}
