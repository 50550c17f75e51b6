// The fill loop, after boost::histogram::detail::fill_n: values are processed in chunks of 2^14; for each chunk
// every axis writes its positions, growing axes grow (shifting positions already written), the storage is
// re-laid out if an axis grew, and then the cells are incremented in input order.
import { type Axis, DROP } from "./axes/axis.ts";
import { fastFill } from "./fast-fill.ts";
import { CHUNK, cStrides, type FillPlan } from "./fill-plan.ts";
import type { Storage } from "./storage.ts";

/** Scratch buffers reused across fills (single-threaded: one fill runs at a time per isolate). */
const scratch = {
  pos: [] as Int32Array[],
  vals: [] as Float64Array[],
  lin: new Float64Array(CHUNK),
  w: new Float64Array(CHUNK),
  s: new Float64Array(CHUNK),
};

function posBuffer(k: number): Int32Array {
  scratch.pos[k] ??= new Int32Array(CHUNK);
  return scratch.pos[k];
}

function valBuffer(k: number): Float64Array {
  scratch.vals[k] ??= new Float64Array(CHUNK);
  return scratch.vals[k];
}

/** Fills `storage` (laid out over `axes`); returns the storage, which is replaced when axes grow. */
export function fillChunks(plan: FillPlan, storage: Storage): void {
  if (fastFill(plan, storage)) return;
  const { axes, columns, length } = plan;
  const d = axes.length;
  let ext = axes.map((a) => a.extent);
  let strides = cStrides(ext);
  const anyGrowth = axes.some((a) => a.growth);
  for (let start = 0; start < length; start += CHUNK) {
    const n = Math.min(CHUNK, length - start);
    const shifts = new Array<number>(d).fill(0);
    for (let k = 0; k < d; k++) {
      const a = axes[k];
      const vals =
        a.valueKind === "str" ? columns[k].strings(start, n) : columns[k].floats(start, n, valBuffer(k));
      if (a.growth) shifts[k] = a.positionsGrow(vals, n, posBuffer(k));
      else a.positions(vals, n, posBuffer(k));
    }
    if (anyGrowth) {
      const next = axes.map((a) => a.extent);
      if (next.some((e, k) => e !== ext[k])) {
        storage.relayout(
          ext,
          next,
          axes.map((a, k) => growthMoves(a, ext[k], next[k], shifts[k])),
        );
        ext = next;
        strides = cStrides(ext);
      }
    }
    const lin = scratch.lin;
    if (d === 1) {
      const p = scratch.pos[0];
      for (let i = 0; i < n; i++) lin[i] = p[i];
    } else {
      lin.fill(0, 0, n);
      for (let k = 0; k < d; k++) {
        const p = scratch.pos[k];
        const st = strides[k];
        for (let i = 0; i < n; i++) {
          const pk = p[i];
          if (pk === DROP) lin[i] = DROP;
          else if (lin[i] !== DROP) lin[i] += pk * st;
        }
      }
    }
    const w = plan.weight?.floats(start, n, scratch.w);
    const s = plan.sample?.floats(start, n, scratch.s);
    storage.fill(lin, n, w, s);
  }
}

/** Where each old position of a grown axis goes: flow cells stay at the ends, bins move by the prepended count. */
function growthMoves(a: Axis, oldExt: number, newExt: number, shift: number): Int32Array {
  const m = new Int32Array(oldExt);
  for (let p = 0; p < oldExt; p++) {
    if (a.underflow && p === 0) m[p] = 0;
    else if (a.overflow && p === oldExt - 1) m[p] = newExt - 1;
    else m[p] = p + shift;
  }
  return m;
}
