// Integer axis (boost's integer<int>): one bin per integer in [lower, upper). Integer inputs only, never the
// floating-point regular formula, which would misplace values such as 15 on (22, 0, 22).
import { InvalidArgumentError } from "../errors.ts";
import type { Metadata, UhiAxis } from "../uhi-types.ts";
import {
  type Axis,
  type AxisOptions,
  type ChunkValues,
  cloneAxis,
  DROP,
  edgesByValue,
  metadataRepr,
  pyNum,
  traitsRepr,
  withAxisInfo,
} from "./axis.ts";

export type IntegerOptions = AxisOptions;

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

export class IntegerAxis implements Axis {
  readonly type = "regular" as const;
  readonly valueKind = "int" as const;
  readonly underflow: boolean;
  readonly overflow: boolean;
  readonly growth: boolean;
  readonly circular: boolean;
  metadata: Metadata;
  min: number;
  size: number;

  constructor(lower: number, upper: number, opts: IntegerOptions = {}) {
    if (!Number.isInteger(lower) || !Number.isInteger(upper) || lower < INT32_MIN || upper > INT32_MAX)
      throw new InvalidArgumentError(`integer axis: bounds must be 32-bit integers, got ${lower}, ${upper}`);
    if (upper <= lower)
      throw new InvalidArgumentError(`integer axis: upper must exceed lower, got ${lower}, ${upper}`);
    this.min = lower;
    this.size = upper - lower;
    this.growth = opts.growth ?? false;
    this.circular = opts.circular ?? false;
    if (this.growth && this.circular)
      throw new InvalidArgumentError("integer axis: cannot be both growing and circular");
    // Growing and circular integer axes have no flow bins in boost-histogram.
    const flowable = !this.growth && !this.circular;
    this.underflow = flowable && (opts.underflow ?? true);
    this.overflow = flowable && (opts.overflow ?? true);
    this.metadata = { ...(opts.metadata ?? {}) };
  }

  get extent(): number {
    return this.size + (this.underflow ? 1 : 0) + (this.overflow ? 1 : 0);
  }

  index(x: number): number {
    const z = x - this.min;
    if (this.circular) return z - Math.floor(z / this.size) * this.size;
    return z < this.size ? (z >= 0 ? z : -1) : this.size;
  }

  positions(values: ChunkValues, n: number, out: Int32Array): void {
    const x = values as Float64Array;
    const uf = this.underflow ? 1 : 0;
    const under = this.underflow ? 0 : DROP;
    const size = this.size;
    const over = this.overflow ? size + uf : DROP;
    const min = this.min;
    if (this.circular) {
      for (let i = 0; i < n; i++) out[i] = this.index(x[i]);
      return;
    }
    for (let i = 0; i < n; i++) {
      const z = x[i] - min;
      out[i] = z < size ? (z >= 0 ? z + uf : under) : over;
    }
  }

  positionsGrow(values: ChunkValues, n: number, out: Int32Array): number {
    const x = values as Float64Array;
    let shift = 0;
    for (let i = 0; i < n; i++) {
      const z = x[i] - this.min;
      if (z >= 0) {
        if (z >= this.size) this.size = z + 1;
        out[i] = z;
      } else {
        this.min += z;
        this.size -= z;
        for (let j = 0; j < i; j++) out[j] -= z;
        shift -= z;
        out[i] = 0;
      }
    }
    return shift;
  }

  value(i: number): number {
    return this.min + i;
  }

  edges(): Float64Array {
    return edgesByValue(this);
  }

  clone(): IntegerAxis {
    return cloneAxis(this);
  }

  sameBinning(o: Axis): boolean {
    return (
      o instanceof IntegerAxis &&
      o.min === this.min &&
      o.size === this.size &&
      o.underflow === this.underflow &&
      o.overflow === this.overflow &&
      o.growth === this.growth &&
      o.circular === this.circular
    );
  }

  toUhi(): UhiAxis {
    const a: UhiAxis = {
      type: "regular",
      lower: this.min,
      upper: this.min + this.size,
      bins: this.size,
      underflow: this.underflow,
      overflow: this.overflow,
      circular: this.circular,
    };
    const info: Record<string, string | boolean> = { orig_type: "Integer" };
    if (this.growth) info.growth = true;
    return withAxisInfo(a, this.metadata, info);
  }

  repr(): string {
    const opts = traitsRepr(this);
    return `Integer(${pyNum(this.min)}, ${pyNum(this.min + this.size)}${opts}${metadataRepr(this.metadata)})`;
  }
}
