// Variable axis: bins are [e_k, e_k+1), found by binary search (upper_bound), as boost's variable::index.
import { InvalidArgumentError } from "../errors.ts";
import type { Metadata, UhiAxis } from "../uhi-types.ts";
import {
  type Axis,
  type AxisOptions,
  type ChunkValues,
  cloneAxis,
  continuousTraits,
  DROP,
  growContinuous,
  metadataRepr,
  pyNum,
  traitsRepr,
  withAxisInfo,
} from "./axis.ts";

export type VariableOptions = AxisOptions;

/** Number of edges <= x (std::upper_bound); NaN compares false everywhere, giving the edge count. */
function upperBound(e: Float64Array, x: number): number {
  let lo = 0;
  let hi = e.length;
  if (!(x >= e[0])) return x < e[0] ? 0 : e.length; // below range, or NaN
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (e[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class VariableAxis implements Axis {
  readonly type = "variable" as const;
  readonly valueKind = "float" as const;
  readonly underflow: boolean;
  readonly overflow: boolean;
  readonly growth: boolean;
  readonly circular: boolean;
  metadata: Metadata;
  private e: Float64Array;

  constructor(edges: ArrayLike<number>, opts: VariableOptions = {}) {
    if (edges.length < 2) throw new InvalidArgumentError("variable axis: needs at least 2 edges");
    const e = Float64Array.from(edges);
    for (let i = 0; i < e.length; i++) {
      if (Number.isNaN(e[i])) throw new InvalidArgumentError("variable axis: edges must not be NaN");
      if (i > 0 && !(e[i] > e[i - 1]))
        throw new InvalidArgumentError("variable axis: edges must be strictly increasing");
    }
    this.e = e;
    ({
      growth: this.growth,
      circular: this.circular,
      underflow: this.underflow,
      overflow: this.overflow,
    } = continuousTraits("variable", opts));
    this.metadata = { ...(opts.metadata ?? {}) };
  }

  get size(): number {
    return this.e.length - 1;
  }

  get extent(): number {
    return this.size + (this.underflow ? 1 : 0) + (this.overflow ? 1 : 0);
  }

  index(xv: number): number {
    const e = this.e;
    const n = this.size;
    let x = xv;
    if (this.circular) {
      const a = e[0];
      const b = e[n];
      x -= Math.floor((x - a) / (b - a)) * (b - a);
    }
    if (!this.overflow && x === e[n]) return n - 1;
    return upperBound(e, x) - 1;
  }

  positions(values: ChunkValues, n: number, out: Int32Array): void {
    const x = values as Float64Array;
    const uf = this.underflow ? 1 : 0;
    const under = this.underflow ? 0 : DROP;
    const size = this.size;
    const over = this.overflow ? size + uf : DROP;
    for (let i = 0; i < n; i++) {
      const b = this.index(x[i]);
      out[i] = b < 0 ? under : b >= size ? over : b + uf;
    }
  }

  positionsGrow(values: ChunkValues, n: number, out: Int32Array): number {
    return growContinuous(values as Float64Array, n, out, (v) => this.update(v));
  }

  /** boost's variable::update. */
  private update(xv: number): [number, number] {
    const i = this.index(xv);
    const n = this.size;
    if (Number.isFinite(xv)) {
      if (i >= 0) {
        if (i < n) return [i, 0];
        const d = this.value(n) - this.value(n - 0.5);
        let x = nextUp(xv);
        x = stdMax(x, this.e[n] + d);
        const e = new Float64Array(n + 2);
        e.set(this.e);
        e[n + 1] = x;
        this.e = e;
        return [i, -1];
      }
      const d = this.value(0.5) - this.value(0);
      const x = stdMin(xv, this.value(0) - d);
      const e = new Float64Array(n + 2);
      e.set(this.e, 1);
      e[0] = x;
      this.e = e;
      return [0, -i];
    }
    return [xv < 0 ? -1 : n, 0];
  }

  value(i: number): number {
    const e = this.e;
    const n = this.size;
    if (this.circular) {
      const perimeter = e[n] - e[0];
      const k = Math.floor(i / n);
      const j = i - k * n;
      return this.value(j) + k * perimeter;
    }
    if (i < 0) return Number.NEGATIVE_INFINITY;
    if (i === n) return e[n];
    if (i > n) return Number.POSITIVE_INFINITY;
    const k = Math.trunc(i);
    const z = i - k;
    // z == 0 check avoids NaN when the next edge is infinite.
    return (1 - z) * e[k] + (z === 0 ? 0 : z * e[k + 1]);
  }

  edges(): Float64Array {
    return this.e.slice();
  }

  clone(): VariableAxis {
    return cloneAxis(this, { e: this.e.slice() });
  }

  sameBinning(o: Axis): boolean {
    if (!(o instanceof VariableAxis)) return false;
    if (o.underflow !== this.underflow || o.overflow !== this.overflow) return false;
    if (o.growth !== this.growth || o.circular !== this.circular || o.e.length !== this.e.length)
      return false;
    for (let i = 0; i < this.e.length; i++) if (!Object.is(o.e[i], this.e[i])) return false;
    return true;
  }

  toUhi(): UhiAxis {
    // Edges as boost-histogram reports them, through value(i), which also turns a -0.0 edge into 0.0. Circular
    // axes keep their stored edges: boost's circular value() extrapolates the first bin (a bug in std::modf use).
    const edges = this.circular ? Array.from(this.e) : Array.from(this.e, (_, i) => this.value(i));
    const a: UhiAxis = {
      type: "variable",
      edges,
      underflow: this.underflow,
      overflow: this.overflow,
      circular: this.circular,
    };
    return withAxisInfo(a, this.metadata, this.growth ? { growth: true } : {});
  }

  repr(): string {
    // boost-histogram lists every edge with format(x, "g") up to 20 bins (beyond, numpy's array repr: not
    // reproduced, so elided here).
    const shown =
      this.size > 20
        ? [...Array.from(this.e.slice(0, 3), pyNum), "...", ...Array.from(this.e.slice(-3), pyNum)]
        : Array.from(this.e, pyNum);
    const opts = traitsRepr(this);
    return `Variable([${shown.join(", ")}]${opts}${metadataRepr(this.metadata)})`;
  }
}

// std::min / std::max return their first argument on ties, which decides the sign of a zero edge; Math.min
// prefers -0, so it is not the same.
// biome-ignore lint/complexity/useMathMinMax: see above
const stdMin = (a: number, b: number): number => (b < a ? b : a);
// biome-ignore lint/complexity/useMathMinMax: see above
const stdMax = (a: number, b: number): number => (a < b ? b : a);

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
/** std::nextafter(x, +DBL_MAX) for finite x. */
export function nextUp(x: number): number {
  if (x === Number.MAX_VALUE) return x;
  if (x === 0) return Number.MIN_VALUE;
  f64[0] = x;
  u64[0] += x > 0 ? 1n : -1n;
  return f64[0];
}

/** std::nextafter(x, -inf) for finite x. */
export function nextDown(x: number): number {
  return -nextUp(-x);
}
