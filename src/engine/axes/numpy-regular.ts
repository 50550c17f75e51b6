// numpy.histogram's binning for a fixed range, reproduced step for step (numpy/lib/_histograms_impl.py):
// edges from linspace, values outside [lower, upper] dropped, index from (x - lower) / (upper - lower) * bins,
// then corrected by one against the edges, and the last bin closed. just-bin-it bins this way, so the Kafka
// door must too to match it to the count. Exact for float64 and integer inputs (numpy computes float32 input
// in float32, which this axis does not model).
import { InvalidArgumentError } from "../errors.ts";
import type { Metadata, UhiAxis } from "../uhi-types.ts";
import { type Axis, type ChunkValues, DROP, metadataRepr, pyNum, withAxisInfo } from "./axis.ts";

/** np.linspace(start, stop, num) in float64, as numpy computes it. */
export function linspace(start: number, stop: number, num: number): Float64Array {
  const y = new Float64Array(num);
  const div = num - 1;
  const delta = stop - start;
  if (div > 0) {
    const step = delta / div;
    for (let i = 0; i < num; i++) y[i] = step === 0 ? (i / div) * delta + start : i * step + start;
    y[num - 1] = stop;
  } else if (num === 1) y[0] = start;
  return y;
}

export class NumpyRegularAxis implements Axis {
  readonly type = "regular" as const;
  readonly valueKind = "float" as const;
  readonly underflow = false;
  readonly overflow = false;
  readonly growth = false;
  readonly circular = false;
  readonly size: number;
  readonly lower: number;
  readonly upper: number;
  metadata: Metadata;
  private readonly e: Float64Array;

  constructor(bins: number, lower: number, upper: number, opts: { metadata?: Metadata } = {}) {
    if (!Number.isInteger(bins) || bins <= 0)
      throw new InvalidArgumentError(`numpy axis: bins must be > 0, got ${bins}`);
    if (!(lower <= upper)) throw new InvalidArgumentError("max must be larger than min in range parameter.");
    if (!Number.isFinite(lower) || !Number.isFinite(upper))
      throw new InvalidArgumentError(`supplied range of [${lower}, ${upper}] is not finite`);
    // numpy widens an empty range to avoid dividing by zero.
    if (lower === upper) {
      lower -= 0.5;
      upper += 0.5;
    }
    this.size = bins;
    this.lower = lower;
    this.upper = upper;
    this.e = linspace(lower, upper, bins + 1);
    for (let i = 0; i < bins; i++)
      if (!(this.e[i] < this.e[i + 1]))
        throw new InvalidArgumentError(
          `Too many bins for data range. Cannot create ${bins} finite-sized bins.`,
        );
    this.metadata = { ...(opts.metadata ?? {}) };
  }

  get extent(): number {
    return this.size;
  }

  index(x: number): number {
    if (!(x >= this.lower && x <= this.upper)) return DROP;
    const n = this.size;
    const e = this.e;
    let i = Math.trunc(((x - this.lower) / (this.upper - this.lower)) * n);
    if (i === n) i--;
    if (x < e[i]) i--;
    if (x >= e[i + 1] && i !== n - 1) i++;
    return i;
  }

  positions(values: ChunkValues, n: number, out: Int32Array): void {
    const x = values as Float64Array;
    for (let i = 0; i < n; i++) out[i] = this.index(x[i]);
  }

  positionsGrow(values: ChunkValues, n: number, out: Int32Array): number {
    this.positions(values, n, out);
    return 0;
  }

  value(i: number): number {
    return i < 0 ? Number.NEGATIVE_INFINITY : i > this.size ? Number.POSITIVE_INFINITY : this.e[i];
  }

  edges(): Float64Array {
    return this.e.slice();
  }

  clone(): NumpyRegularAxis {
    return new NumpyRegularAxis(this.size, this.lower, this.upper, { metadata: this.metadata });
  }

  sameBinning(o: Axis): boolean {
    return (
      o instanceof NumpyRegularAxis &&
      o.size === this.size &&
      o.lower === this.lower &&
      o.upper === this.upper
    );
  }

  toUhi(): UhiAxis {
    const a: UhiAxis = {
      type: "regular",
      lower: this.lower,
      upper: this.upper,
      bins: this.size,
      underflow: false,
      overflow: false,
      circular: false,
    };
    const out = withAxisInfo(a, this.metadata, {});
    out.writer_info = { ...(out.writer_info ?? {}), histd: { binning: "numpy" } };
    return out;
  }

  repr(): string {
    return `Regular(${this.size}, ${pyNum(this.lower)}, ${pyNum(this.upper)}, underflow=False, overflow=False${metadataRepr(this.metadata)})`;
  }
}
