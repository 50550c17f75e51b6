// Fused fill kernels for the common cases (no growth; 1 or 2 regular/integer/variable axes; int, double or
// weighted storage): index and increment in one pass, over float64 chunks, with the same arithmetic as the
// axes' positions() so that the results are identical to the general path (the interop tests run both).
// Kept monomorphic on Float64Array: other dtypes are converted chunk by chunk into a scratch buffer first.
import { DROP } from "./axes/axis.ts";
import { IntegerAxis } from "./axes/integer.ts";
import { RegularAxis } from "./axes/regular.ts";
import { VariableAxis } from "./axes/variable.ts";
import { CHUNK, cStrides, type FillPlan } from "./fill-plan.ts";
import type { Storage } from "./storage.ts";

/** Maps a float64 value to a flow-inclusive position or DROP, per axis kind. */
interface Binner {
  kind: 0 | 1 | 2; // regular, integer, variable
  min: number;
  delta: number;
  bins: number;
  uf: number;
  under: number;
  over: number;
  top: number;
  edges: Float64Array;
}

function binner(a: unknown): Binner | undefined {
  if (a instanceof RegularAxis && !a.transform && !a.circular && !a.growth) {
    const uf = a.underflow ? 1 : 0;
    const over = a.overflow ? a.size + uf : DROP;
    return {
      kind: 0,
      min: a.min,
      delta: a.delta,
      bins: a.size,
      uf,
      under: a.underflow ? 0 : DROP,
      over,
      top: a.overflow ? over : a.size - 1 + uf,
      edges: new Float64Array(0),
    };
  }
  if (a instanceof IntegerAxis && !a.circular && !a.growth) {
    const uf = a.underflow ? 1 : 0;
    return {
      kind: 1,
      min: a.min,
      delta: 0,
      bins: a.size,
      uf,
      under: a.underflow ? 0 : DROP,
      over: a.overflow ? a.size + uf : DROP,
      top: 0,
      edges: new Float64Array(0),
    };
  }
  if (a instanceof VariableAxis && !a.circular && !a.growth) {
    const uf = a.underflow ? 1 : 0;
    return {
      kind: 2,
      min: 0,
      delta: 0,
      bins: a.size,
      uf,
      under: a.underflow ? 0 : DROP,
      over: a.overflow ? a.size + uf : DROP,
      top: a.overflow ? a.size + uf : a.size - 1 + uf,
      edges: a.edges(),
    };
  }
  return undefined;
}

/** Positions of x[0..n) into out. One loop per axis kind, so each stays tight. */
function positions(b: Binner, x: Float64Array, n: number, out: Int32Array): void {
  const { min, delta, bins, uf, under, over, top } = b;
  if (b.kind === 0) {
    for (let i = 0; i < n; i++) {
      const z = (x[i] - min) / delta;
      let p: number;
      if (z < 1) {
        if (z >= 0) {
          const k = (z * bins) | 0;
          p = k < bins ? k + uf : over;
        } else p = under;
      } else p = z === 1 ? top : over;
      out[i] = p;
    }
  } else if (b.kind === 1) {
    for (let i = 0; i < n; i++) {
      const z = x[i] - min;
      out[i] = z < bins ? (z >= 0 ? z + uf : under) : over;
    }
  } else {
    const e = b.edges;
    const last = e[bins];
    const e0 = e[0];
    for (let i = 0; i < n; i++) {
      const v = x[i];
      let p: number;
      if (v >= e0) {
        if (v < last) {
          let lo = 0;
          let hi = bins;
          while (hi - lo > 1) {
            const mid = (lo + hi) >>> 1;
            if (e[mid] <= v) lo = mid;
            else hi = mid;
          }
          p = lo + uf;
        } else p = v === last ? top : over;
      } else p = v < e0 ? under : over; // NaN: overflow
      out[i] = p;
    }
  }
}

const scratch = {
  pos0: new Int32Array(CHUNK),
  pos1: new Int32Array(CHUNK),
  x0: new Float64Array(CHUNK),
  w: new Float64Array(CHUNK),
};

// The kernels take every array as a parameter: V8 keeps locals in registers, but reloads module-level
// bindings on each iteration, which costs half the speed of a scatter loop.
function count(pos: Int32Array, n: number, c: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const p = pos[i];
    if (p >= 0) c[p]++;
  }
}

function count2(pos: Int32Array, n: number, c: Float64Array, c2: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const p = pos[i];
    if (p >= 0) {
      c[p]++;
      c2[p]++;
    }
  }
}

function sumW(pos: Int32Array, n: number, w: Float64Array, c: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const p = pos[i];
    if (p >= 0) c[p] += w[i];
  }
}

function sumW2(pos: Int32Array, n: number, w: Float64Array, c: Float64Array, c2: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const p = pos[i];
    if (p >= 0) {
      const wi = w[i];
      c[p] += wi;
      c2[p] += wi * wi;
    }
  }
}

function sumWTrunc(pos: Int32Array, n: number, w: Float64Array, c: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const p = pos[i];
    // C++ int64 += double: the sum is formed in double, then truncated.
    if (p >= 0) c[p] = Math.trunc(c[p] + w[i]);
  }
}

function addStrided(acc: Int32Array, p: Int32Array, n: number, stride: number): void {
  for (let i = 0; i < n; i++) {
    const a = acc[i];
    const q = p[i];
    acc[i] = a < 0 || q < 0 ? DROP : a + q * stride;
  }
}

/** Fills histograms without growing axes into int, double or weighted storage: positions per axis and chunk
 * (a broadcast scalar is binned once for the whole fill, as boost does), then one scatter loop. Returns false
 * for the cases the general loop handles (growth, mean storages). */
export function fastFill(plan: FillPlan, storage: Storage): boolean {
  const { axes, columns, length } = plan;
  if (plan.sample || storage.type === "mean" || storage.type === "weighted_mean") return false;
  if (axes.length === 0 || axes.some((a) => a.growth)) return false;
  const strides = cStrides(axes.map((a) => a.extent));
  // Scalars: one position for every entry; if it has no cell, no entry has one.
  let offset = 0;
  const one = new Int32Array(1);
  const arrays: number[] = [];
  for (let k = 0; k < axes.length; k++) {
    if (columns[k].length !== undefined) {
      arrays.push(k);
      continue;
    }
    const a = axes[k];
    a.positions(
      a.valueKind === "str" ? columns[k].strings(0, 1) : columns[k].floats(0, 1, new Float64Array(1)),
      1,
      one,
    );
    if (one[0] === DROP) return true;
    offset += one[0] * strides[k];
  }
  const binners = axes.map(binner);
  const [c, c2] = storage.fields;
  const { pos0, pos1, x0 } = scratch;
  for (let start = 0; start < length; start += CHUNK) {
    const n = Math.min(CHUNK, length - start);
    if (arrays.length === 0) pos0.fill(offset, 0, n);
    arrays.forEach((k, j) => {
      const a = axes[k];
      const out = j === 0 ? pos0 : pos1;
      const b = binners[k];
      if (a.valueKind === "str") a.positions(columns[k].strings(start, n), n, out);
      else if (b) positions(b, columns[k].floats(start, n, x0), n, out);
      else a.positions(columns[k].floats(start, n, x0), n, out);
      if (j === 0) {
        if (strides[k] !== 1 || offset !== 0) scale(pos0, n, strides[k], offset);
      } else addStrided(pos0, pos1, n, strides[k]);
    });
    const w = plan.weight?.floats(start, n, scratch.w);
    if (!w) {
      if (c2) count2(pos0, n, c, c2);
      else count(pos0, n, c);
    } else if (c2) sumW2(pos0, n, w, c, c2);
    else if (storage.type === "int") sumWTrunc(pos0, n, w, c);
    else sumW(pos0, n, w, c);
  }
  return true;
}

function scale(p: Int32Array, n: number, stride: number, offset: number): void {
  for (let i = 0; i < n; i++) {
    const q = p[i];
    p[i] = q < 0 ? DROP : q * stride + offset;
  }
}
