// The contract every axis implements. Positions are flow-inclusive: position 0 is the underflow cell when the
// axis has one, and the overflow (or category "other") cell is last. DROP marks an entry with no cell.
import { InvalidArgumentError } from "../errors.ts";
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
  // hist: name=... if set, then label=... if set and not the same as the name.
  let s = "";
  const name = metadata.name;
  const label = metadata.label;
  if (typeof name === "string" && name !== "") s += `, name=${pyStr(name)}`;
  if (typeof label === "string" && label !== "" && label !== name) s += `, label=${pyStr(label)}`;
  return s;
}

/** Python's repr of a str (single quotes unless the text has one). */
export function pyStr(s: string): string {
  return s.includes("'") && !s.includes('"')
    ? `"${s}"`
    : `'${s.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

/** Python's format(x, "g"), which boost-histogram's axis reprs use for bounds, edges and int categories: 6
 * significant digits, rounded half-even on the exact binary value, trailing zeros dropped, exponent form when the
 * decimal exponent is < -4 or >= 6 ("1e+06", "1.234e-05"). */
export function pyNum(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const sign = x < 0 ? "-" : "";
  // The exact decimal digits of |x| and its decimal exponent: |x| = 0.d1d2d3... * 10^point.
  let digits: string;
  let point: number;
  const f = new Float64Array([Math.abs(x)]);
  const bits = new BigUint64Array(f.buffer)[0];
  const be = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & 0xfffffffffffffn;
  let e2 = be - 1075;
  if (be === 0) e2 = -1074;
  else mant |= 1n << 52n;
  if (e2 >= 0) {
    digits = (mant << BigInt(e2)).toString();
    point = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-e2)).toString();
    point = digits.length + e2;
  }
  const lead = digits.search(/[1-9]/);
  point -= lead;
  digits = digits.slice(lead).replace(/0+$/, "");
  // Round half-even to 6 significant digits.
  const P = 6;
  if (digits.length > P) {
    let head = BigInt(digits.slice(0, P));
    const rest = digits.slice(P);
    const half = rest[0] > "5" || (rest[0] === "5" && (/[1-9]/.test(rest.slice(1)) || head % 2n === 1n));
    if (half) head += 1n;
    digits = head.toString();
    if (digits.length > P) {
      point += 1;
      digits = digits.slice(0, P);
    }
  }
  digits = digits.replace(/0+$/, "") || "0";
  const exp = point - 1;
  if (exp < -4 || exp >= P) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
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

/** Options shared by regular, variable and integer axes. */
export interface AxisOptions {
  underflow?: boolean;
  overflow?: boolean;
  growth?: boolean;
  circular?: boolean;
  metadata?: Metadata;
}

export interface AxisTraits {
  underflow: boolean;
  overflow: boolean;
  growth: boolean;
  circular: boolean;
}

/** boost-histogram's Python axis types for continuous axes: a growing axis always has both flow bins, a circular
 * one always an overflow bin (and no underflow unless asked). */
export function continuousTraits(what: string, o: AxisOptions): AxisTraits {
  const growth = o.growth ?? false;
  const circular = o.circular ?? false;
  if (growth && circular) throw new InvalidArgumentError(`${what} axis: cannot be both growing and circular`);
  return {
    growth,
    circular,
    underflow: growth || (circular ? (o.underflow ?? false) : (o.underflow ?? true)),
    overflow: growth || circular || (o.overflow ?? true),
  };
}

/** The options part of an axis repr, as boost-histogram prints it. */
export function traitsRepr(a: AxisTraits): string {
  if (a.growth) return ", growth=True";
  if (a.circular) return ", circular=True";
  return (a.underflow ? "" : ", underflow=False") + (a.overflow ? "" : ", overflow=False");
}

/** Edges 0..size through value(i), which is how boost reports them. */
export function edgesByValue(a: { readonly size: number; value(i: number): number }): Float64Array {
  const e = new Float64Array(a.size + 1);
  for (let i = 0; i <= a.size; i++) e[i] = a.value(i);
  return e;
}

/** A copy of an axis (same class, own metadata), with `fields` replacing mutable state such as edge arrays. */
export function cloneAxis<T extends Axis>(a: T, fields: Record<string, unknown> = {}): T {
  const c = Object.create(Object.getPrototypeOf(a)) as T;
  return Object.assign(c, a, { metadata: { ...a.metadata } }, fields);
}

/** positionsGrow for regular and variable axes: `update` is boost's axis::update ([index, shift]); a positive shift
 * (bins prepended) moves the positions already written in this chunk. Growing continuous axes always have an
 * underflow cell, hence index + 1. */
export function growContinuous(
  x: Float64Array,
  n: number,
  out: Int32Array,
  update: (v: number) => [number, number],
): number {
  let shift = 0;
  for (let i = 0; i < n; i++) {
    const [idx, s] = update(x[i]);
    if (s > 0) {
      for (let j = 0; j < i; j++) out[j] += s;
      shift += s;
    }
    out[i] = idx + 1;
  }
  return shift;
}
