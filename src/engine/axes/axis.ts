// The contract every axis implements. Positions are flow-inclusive: position 0 is the underflow cell when the
// axis has one, and the overflow (or category "other") cell is last. DROP marks an entry with no cell.
import type { Metadata, UhiAxis } from "../uhi-types.ts";

export const DROP = -1;

/** What kind of fill values an axis takes: float axes convert every numeric input to float64, int axes reject
 * non-integers (as boost-histogram does), string axes take only strings. */
export type ValueKind = "float" | "int" | "str";

/** Index buffers for one chunk of a fill: numeric values already converted to float64, or strings. */
export type ChunkValues = Float64Array | readonly string[];

export interface Axis {
  readonly type: UhiAxis["type"];
  readonly valueKind: ValueKind;
  /** Normal bins, without flow. */
  readonly size: number;
  readonly underflow: boolean;
  readonly overflow: boolean;
  readonly growth: boolean;
  readonly circular: boolean;
  metadata: Metadata;
  /** size + flow cells. */
  readonly extent: number;

  /** Writes the position of values[0..n) into out (DROP for none). Must not grow the axis. */
  positions(values: ChunkValues, n: number, out: Int32Array): void;
  /** Growing axes only: as positions, but grows the axis for out-of-range values, in input order, as Boost does.
   * Returns the total shift of the axis' existing cells (new cells prepended). */
  positionsGrow(values: ChunkValues, n: number, out: Int32Array): number;

  /** Bin edges (or categories for category axes), normal bins only. */
  edges(): Float64Array;
  /** Lower edge of normal bin i (i may be fractional or -1 / size for flow), as boost's axis::value. */
  value(i: number): number;

  /** An independent copy (growth mutates axes). */
  clone(): Axis;
  /** Same binning and options (metadata is compared separately, as boost does). */
  sameBinning(other: Axis): boolean;
  toUhi(): UhiAxis;
  /** boost-histogram-style repr, e.g. Regular(10, -2, 2, name='x', label='X Axis'). */
  repr(): string;
}

export function metadataRepr(metadata: Metadata): string {
  let s = "";
  for (const key of ["name", "label"]) {
    const v = metadata[key];
    if (typeof v === "string" && v !== "") s += `, ${key}=${pyStr(v)}`;
  }
  return s;
}

/** Python's repr of a str (single quotes unless the text has one). */
export function pyStr(s: string): string {
  return s.includes("'") && !s.includes('"')
    ? `"${s}"`
    : `'${s.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

/** Python's %g-ish repr for axis bounds: integers print without a decimal point, as hist does. */
export function pyNum(x: number): string {
  if (Number.isInteger(x)) return String(x);
  return String(x);
}

export function withAxisInfo(
  a: UhiAxis,
  metadata: Metadata,
  info: Record<string, string | number | boolean>,
): UhiAxis {
  if (Object.keys(metadata).length > 0) a.metadata = { ...metadata };
  if (Object.keys(info).length > 0) a.writer_info = { "boost-histogram": info };
  return a;
}
