// A histogram: axes + storage + metadata, with boost-histogram's fill, add, reset and views.
import type { Axis } from "./axes/axis.ts";
import { axisColumn, type Column, type FillValue, numberColumn } from "./columns.ts";
import { InvalidArgumentError, ResourceExhaustedError } from "./errors.ts";
import { fillChunks } from "./fill.ts";
import { CHUNK, type FillPlan } from "./fill-plan.ts";
import { bytesPerCell, Storage } from "./storage.ts";
import type { Metadata, StorageType } from "./uhi-types.ts";

export interface Limits {
  /** Most cells (flow included) a histogram may have, also after growth. */
  maxCells: number;
}

/** 2^31 cells: 16 GiB of double storage, the most a 24 GiB machine holds with room to snapshot. */
export const DEFAULT_LIMITS: Limits = { maxCells: 2 ** 31 };

export interface HistogramOptions {
  storage?: StorageType;
  metadata?: Metadata;
  limits?: Limits;
}

export interface FillOptions {
  weight?: FillValue;
  sample?: FillValue;
}

/** Fill keywords that are not axis names, as in hist's fill(**kwargs). */
export const RESERVED_FILL_KEYS = new Set(["weight", "sample", "threads"]);

export class Histogram {
  axes: Axis[];
  storage: Storage;
  metadata: Metadata;
  limits: Limits;
  /** False once a weighted fill has gone into an int/double storage: its variances are then unknown. */
  varianceKnown: boolean;

  constructor(axes: Axis[], opts: HistogramOptions = {}) {
    this.axes = axes;
    this.limits = opts.limits ?? DEFAULT_LIMITS;
    this.metadata = { ...(opts.metadata ?? {}) };
    this.varianceKnown = this.metadata._variance_known !== false;
    delete this.metadata._variance_known;
    const names = axes.map((a) => a.metadata.name).filter((n) => typeof n === "string" && n !== "");
    if (new Set(names).size !== names.length) throw new InvalidArgumentError("axis names must be unique");
    const type = opts.storage ?? "double";
    const cells = this.extents.reduce((a, b) => a * b, 1);
    checkCells(cells, type, this.limits);
    this.storage = new Storage(type, cells);
  }

  get rank(): number {
    return this.axes.length;
  }

  get extents(): number[] {
    return this.axes.map((a) => a.extent);
  }

  get cells(): number {
    return this.storage.cells;
  }

  get storageType(): StorageType {
    return this.storage.type;
  }

  /** Bytes held by the storage. */
  get nbytes(): number {
    return this.cells * bytesPerCell(this.storage.type);
  }

  axisIndex(name: string): number {
    const i = this.axes.findIndex((a) => a.metadata.name === name);
    if (i < 0) {
      const known = this.axes.map((a) => a.metadata.name).filter(Boolean);
      throw new InvalidArgumentError(`unknown axis name '${name}' (axes: ${known.join(", ") || "unnamed"})`);
    }
    return i;
  }

  /** Fills one value (array or broadcast scalar) per axis, in axis order. Atomic: on error nothing changes. */
  fill(args: readonly FillValue[], opts: FillOptions = {}): void {
    this.fillPlanned(this.plan(args, opts));
  }

  /** Runs a fill checked by plan(). */
  fillPlanned(plan: FillPlan): void {
    fillChunks(plan, this.storage);
    this.markFilled(plan);
  }

  /** Bookkeeping after a fill's cells were added (by fillPlanned, or by a FillPool merging partials). */
  markFilled(plan: FillPlan): void {
    if (plan.weight && (this.storage.type === "int" || this.storage.type === "double"))
      this.varianceKnown = false;
  }

  /** Checks a fill without changing anything; throws the error the fill would throw. */
  plan(args: readonly FillValue[], opts: FillOptions = {}): FillPlan {
    if (args.length !== this.rank)
      throw new InvalidArgumentError(`fill needs ${this.rank} argument(s), one per axis; got ${args.length}`);
    const columns = args.map((v, k) => axisColumn(v, this.axes[k].valueKind, axisLabel(this.axes[k], k)));
    const weight = opts.weight === undefined ? undefined : numberColumn(opts.weight, "weight");
    let sample: Column | undefined;
    if (this.storage.needsSample) {
      if (opts.sample === undefined)
        throw new InvalidArgumentError(`a ${this.storage.type} storage needs sample=`);
      sample = numberColumn(opts.sample, "sample");
    } else if (opts.sample !== undefined)
      throw new InvalidArgumentError(`sample= is only for mean storages, not ${this.storage.type}`);
    const length = commonLength(columns, weight, sample);
    this.checkGrowth(columns, length);
    return { axes: this.axes, columns, weight, sample, length, raw: [...args, opts.weight] };
  }

  /** Fills by axis name, as hist's fill(**kwargs): `weight` and `sample` are the reserved keys. */
  fillNamed(kwargs: Readonly<Record<string, FillValue>>): void {
    const args = new Array<FillValue | undefined>(this.rank);
    const opts: FillOptions = {};
    for (const [key, v] of Object.entries(kwargs)) {
      if (key === "weight") opts.weight = v;
      else if (key === "sample") opts.sample = v;
      else if (key === "threads") continue;
      else args[this.axisIndex(key)] = v;
    }
    const missing = this.axes.map((a, k) => (args[k] === undefined ? axisLabel(a, k) : "")).filter(Boolean);
    if (missing.length > 0)
      throw new InvalidArgumentError(`missing fill value for axis ${missing.join(", ")}`);
    this.fill(args as FillValue[], opts);
  }

  /** Growing axes: grow copies over every value first, so the final size is checked before anything is filled. */
  private checkGrowth(columns: Column[], length: number): void {
    if (!this.axes.some((a) => a.growth)) return;
    const trial = this.axes.map((a) => (a.growth ? a.clone() : a));
    const pos = new Int32Array(CHUNK);
    const vals = new Float64Array(CHUNK);
    for (let k = 0; k < trial.length; k++) {
      const a = trial[k];
      if (!a.growth) continue;
      for (let start = 0; start < length; start += CHUNK) {
        const n = Math.min(CHUNK, length - start);
        a.positionsGrow(
          a.valueKind === "str" ? columns[k].strings(start, n) : columns[k].floats(start, n, vals),
          n,
          pos,
        );
      }
    }
    checkCells(
      trial.reduce((c, a) => c * a.extent, 1),
      this.storage.type,
      this.limits,
    );
  }

  reset(): void {
    this.storage.reset();
  }

  clone(): Histogram {
    const h = Object.create(Histogram.prototype) as Histogram;
    Object.assign(h, {
      axes: this.axes.map((a) => a.clone()),
      storage: this.storage.clone(),
      metadata: { ...this.metadata },
      limits: this.limits,
      varianceKnown: this.varianceKnown,
    });
    return h;
  }

  repr(): string {
    const axes = this.axes.map((a) => `  ${a.repr()},`).join("\n");
    return `Hist(\n${axes}\n  storage=${storageRepr(this.storage.type)})`;
  }
}

export function storageRepr(t: StorageType): string {
  return {
    int: "Int64()",
    double: "Double()",
    weighted: "Weight()",
    mean: "Mean()",
    weighted_mean: "WeightedMean()",
  }[t];
}

export function axisLabel(a: Axis, k: number): string {
  return typeof a.metadata.name === "string" && a.metadata.name !== "" ? `'${a.metadata.name}'` : `#${k}`;
}

export function checkCells(cells: number, type: StorageType, limits: Limits): void {
  if (cells > limits.maxCells)
    throw new ResourceExhaustedError(
      `histogram of ${cells} cells (${((cells * bytesPerCell(type)) / 2 ** 30).toFixed(1)} GiB of ${type} storage) ` +
        `exceeds the limit of ${limits.maxCells} cells`,
    );
}

function commonLength(columns: Column[], weight: Column | undefined, sample: Column | undefined): number {
  let n: number | undefined;
  for (const c of columns) {
    if (c.length === undefined) continue;
    if (n !== undefined && c.length !== n)
      throw new InvalidArgumentError(
        `spans must have compatible lengths: got arrays of ${n} and ${c.length} values`,
      );
    n = c.length;
  }
  if (sample?.length !== undefined) {
    if (n !== undefined && sample.length !== n)
      throw new InvalidArgumentError(`sample has ${sample.length} values but the axis arrays have ${n}`);
    n = sample.length;
  }
  if (weight?.length !== undefined) {
    if (n === undefined) {
      if (weight.length > 1)
        throw new InvalidArgumentError(
          "weight is an array but every axis value is a scalar: broadcast the values",
        );
      n = weight.length;
    } else if (weight.length !== n)
      throw new InvalidArgumentError(`weight has ${weight.length} values but the axis arrays have ${n}`);
  }
  return n ?? 1;
}
