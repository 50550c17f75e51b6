// A checked fill, ready to run: the axes, one column per axis, and the optional weight and sample columns.
import type { Axis } from "./axes/axis.ts";
import type { Column } from "./columns.ts";

/** Values are processed 2^14 at a time, as boost's fill_n does: the chunk's buffers stay in L1/L2. */
export const CHUNK = 1 << 14;

export interface FillPlan {
  axes: Axis[];
  columns: Column[];
  weight: Column | undefined;
  sample: Column | undefined;
  length: number;
  /** The caller's values, one per axis then the weight: kernels read typed arrays directly from them. */
  raw: readonly unknown[];
}

/** C-order strides (last axis fastest) for per-axis extents. */
export function cStrides(ext: readonly number[]): number[] {
  const s = new Array<number>(ext.length);
  let acc = 1;
  for (let k = ext.length - 1; k >= 0; k--) {
    s[k] = acc;
    acc *= ext[k];
  }
  return s;
}
