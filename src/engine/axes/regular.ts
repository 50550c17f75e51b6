// Regular axis with boost-histogram's exact index arithmetic: z = (f(x) - f(lower)) / (f(upper) - f(lower)),
// then trunc(z * bins), in that operation order. Reordering it (e.g. (x - lo) * bins / (hi - lo)) changes
// which bin values near an edge land in, so do not "simplify" it.
import { InvalidArgumentError } from "../errors.ts";
import type { Metadata, UhiAxis } from "../uhi-types.ts";
import {
  type Axis,
  type AxisOptions,
  type ChunkValues,
  cloneAxis,
  continuousTraits,
  DROP,
  edgesByValue,
  growContinuous,
  metadataRepr,
  pyNum,
  traitsRepr,
  withAxisInfo,
} from "./axis.ts";

export type Transform = { kind: "log" } | { kind: "sqrt" } | { kind: "pow"; power: number };

export interface RegularOptions extends AxisOptions {
  transform?: Transform;
}

/** std::pow(x, p). glibc's pow is correctly rounded; V8's Math.pow is not, so the powers that have a correctly
 * rounded JS equivalent use it (x*x, sqrt). Other powers, like log/exp, may differ from C++ in the last ulp. */
function powOf(p: number): (x: number) => number {
  if (p === 1) return (x) => x;
  if (p === 2) return (x) => x * x;
  if (p === 0.5) return Math.sqrt;
  return (x) => x ** p;
}

function forwardOf(t: Transform | undefined): (x: number) => number {
  if (!t) return (x) => x;
  if (t.kind === "log") return Math.log;
  if (t.kind === "sqrt") return Math.sqrt;
  return powOf(t.power);
}

function inverseOf(t: Transform | undefined): (x: number) => number {
  if (!t) return (x) => x;
  if (t.kind === "log") return Math.exp;
  if (t.kind === "sqrt") return (x) => x * x;
  return powOf(1 / t.power);
}

export class RegularAxis implements Axis {
  readonly type = "regular" as const;
  readonly valueKind = "float" as const;
  readonly underflow: boolean;
  readonly overflow: boolean;
  readonly growth: boolean;
  readonly circular: boolean;
  readonly transform: Transform | undefined;
  metadata: Metadata;
  size: number;
  /** f(lower) and f(upper) - f(lower), in the transformed space. */
  min: number;
  delta: number;
  private readonly forward: (x: number) => number;
  private readonly inverse: (x: number) => number;

  constructor(bins: number, lower: number, upper: number, opts: RegularOptions = {}) {
    if (!Number.isInteger(bins) || bins <= 0)
      throw new InvalidArgumentError(`regular axis: bins must be > 0, got ${bins}`);
    ({
      growth: this.growth,
      circular: this.circular,
      underflow: this.underflow,
      overflow: this.overflow,
    } = continuousTraits("regular", opts));
    this.transform = opts.transform;
    this.forward = forwardOf(opts.transform);
    this.inverse = inverseOf(opts.transform);
    this.metadata = { ...(opts.metadata ?? {}) };
    this.size = bins;
    this.min = this.forward(lower);
    this.delta = this.forward(upper) - this.min;
    if (!Number.isFinite(this.min) || !Number.isFinite(this.forward(upper)))
      throw new InvalidArgumentError(
        `regular axis: forward transform of lower/upper must be finite (${lower}, ${upper})`,
      );
    if (!Number.isFinite(this.delta) || this.delta === 0)
      throw new InvalidArgumentError(
        `regular axis: upper - lower must be finite and non-zero (${lower}, ${upper})`,
      );
  }

  get extent(): number {
    return this.size + (this.underflow ? 1 : 0) + (this.overflow ? 1 : 0);
  }

  /** boost's regular::index: -1 underflow, size overflow (also NaN). */
  index(x: number): number {
    const z = (this.forward(x) - this.min) / this.delta;
    const n = this.size;
    if (this.circular) {
      if (Number.isFinite(z)) return Math.trunc((z - Math.floor(z)) * n);
      return n;
    }
    if (z < 1) return z >= 0 ? Math.trunc(z * n) : -1;
    if (!this.overflow && z === 1) return n - 1;
    return n;
  }

  positions(values: ChunkValues, n: number, out: Int32Array): void {
    const x = values as Float64Array;
    const uf = this.underflow ? 1 : 0;
    const under = this.underflow ? 0 : DROP;
    const over = this.overflow ? this.size + uf : DROP;
    if (this.transform || this.circular) {
      for (let i = 0; i < n; i++) {
        const b = this.index(x[i]);
        out[i] = b < 0 ? under : b >= this.size ? over : b + uf;
      }
      return;
    }
    // Identity transform: the hot loop, inlined.
    const min = this.min;
    const delta = this.delta;
    const bins = this.size;
    const inclusiveTop = this.overflow ? over : bins - 1 + uf;
    for (let i = 0; i < n; i++) {
      const z = (x[i] - min) / delta;
      if (z < 1) {
        if (z >= 0) {
          // z * bins can round up to bins for z just below 1: boost then reports overflow too.
          const b = Math.trunc(z * bins);
          out[i] = b < bins ? b + uf : over;
        } else out[i] = under;
      } else out[i] = z === 1 ? inclusiveTop : over;
    }
  }

  positionsGrow(values: ChunkValues, n: number, out: Int32Array): number {
    return growContinuous(values as Float64Array, n, out, (v) => this.update(v));
  }

  /** boost's regular::update: returns [index, shift]; a positive shift means bins were prepended. */
  private update(xv: number): [number, number] {
    const z = (this.forward(xv) - this.min) / this.delta;
    const n = this.size;
    if (z < 1) {
      if (z >= 0) return [Math.trunc(z * n), 0];
      if (z !== Number.NEGATIVE_INFINITY) {
        const stop = this.min + this.delta;
        const i = Math.floor(z * n);
        this.min += i * (this.delta / n);
        this.delta = stop - this.min;
        this.size -= i;
        return [0, -i];
      }
      return [-1, 0];
    }
    if (z < Number.POSITIVE_INFINITY) {
      const i = Math.trunc(z * n);
      const m = i - n + 1;
      this.delta /= n;
      this.delta *= n + m;
      this.size += m;
      return [i, -m];
    }
    return [n, 0];
  }

  value(i: number): number {
    const n = this.size;
    let z = i / n;
    if (!this.circular && z < 0) z = Number.NEGATIVE_INFINITY * this.delta;
    else if (this.circular || z <= 1) z = (1 - z) * this.min + z * (this.min + this.delta);
    else z = Number.POSITIVE_INFINITY * this.delta;
    return this.inverse(z);
  }

  edges(): Float64Array {
    return edgesByValue(this);
  }

  clone(): RegularAxis {
    return cloneAxis(this);
  }

  sameBinning(o: Axis): boolean {
    return (
      o instanceof RegularAxis &&
      o.size === this.size &&
      o.min === this.min &&
      o.delta === this.delta &&
      o.underflow === this.underflow &&
      o.overflow === this.overflow &&
      o.growth === this.growth &&
      o.circular === this.circular &&
      JSON.stringify(o.transform) === JSON.stringify(this.transform)
    );
  }

  toUhi(): UhiAxis {
    // Only the end edges, except for transformed axes: computing all of them costs ~1 s at 1e8 bins.
    const lower = this.value(0);
    const upper = this.value(this.size);
    const info: Record<string, string | number | boolean> = {};
    if (this.growth) info.growth = true;
    if (this.transform) {
      // boost-histogram writes transformed regular axes as variable axes plus the recipe to rebuild them.
      info.transform = this.transform.kind;
      if (this.transform.kind === "pow") info.power = this.transform.power;
      info.bins = this.size;
      info.lower = lower;
      info.upper = upper;
      const a: UhiAxis = {
        type: "variable",
        edges: Array.from(this.edges()),
        underflow: this.underflow,
        overflow: this.overflow,
        circular: this.circular,
      };
      return withAxisInfo(a, this.metadata, info);
    }
    const a: UhiAxis = {
      type: "regular",
      lower,
      upper,
      bins: this.size,
      underflow: this.underflow,
      overflow: this.overflow,
      circular: this.circular,
    };
    return withAxisInfo(a, this.metadata, info);
  }

  repr(): string {
    let opts = traitsRepr(this);
    if (this.transform)
      opts += `, transform=${this.transform.kind === "pow" ? `pow(${pyNum(this.transform.power)})` : this.transform.kind}`;
    return `Regular(${this.size}, ${pyNum(this.value(0))}, ${pyNum(this.value(this.size))}${opts}${metadataRepr(this.metadata)})`;
  }
}
