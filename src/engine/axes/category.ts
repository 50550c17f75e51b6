// Category axes: a bin per listed value in insertion order (never sorted), an optional trailing "other" bin,
// and growth that appends unseen values in the order they are first met.
import { InvalidArgumentError } from "../errors.ts";
import type { Metadata, UhiAxis } from "../uhi-types.ts";
import {
  type Axis,
  type ChunkValues,
  cloneAxis,
  DROP,
  metadataRepr,
  pyNum,
  pyStr,
  withAxisInfo,
} from "./axis.ts";

export interface CategoryOptions {
  /** The "other" bin for values not in the list (boost's overflow). Ignored when growing. */
  flow?: boolean;
  growth?: boolean;
  metadata?: Metadata;
}

abstract class CategoryAxis<T extends number | string> implements Axis {
  abstract readonly type: "category_int" | "category_str";
  abstract readonly valueKind: "int" | "str";
  readonly underflow = false;
  readonly overflow: boolean;
  readonly growth: boolean;
  readonly circular = false;
  metadata: Metadata;
  protected cats: T[];
  protected lookup: Map<T, number>;

  constructor(categories: readonly T[], opts: CategoryOptions = {}) {
    this.growth = opts.growth ?? false;
    this.overflow = !this.growth && (opts.flow ?? true);
    this.metadata = { ...(opts.metadata ?? {}) };
    this.cats = [...categories];
    this.lookup = new Map();
    this.cats.forEach((c, i) => {
      if (this.lookup.has(c))
        throw new InvalidArgumentError(`category axis: duplicate category ${String(c)}`);
      this.lookup.set(c, i);
    });
    if (this.cats.length === 0 && !this.growth)
      throw new InvalidArgumentError("category axis: needs at least one category unless it grows");
  }

  get size(): number {
    return this.cats.length;
  }

  get extent(): number {
    return this.cats.length + (this.overflow ? 1 : 0);
  }

  get categories(): readonly T[] {
    return this.cats;
  }

  positions(values: ChunkValues, n: number, out: Int32Array): void {
    const v = values as unknown as ArrayLike<T>;
    const other = this.overflow ? this.cats.length : DROP;
    for (let i = 0; i < n; i++) out[i] = this.lookup.get(v[i]) ?? other;
  }

  positionsGrow(values: ChunkValues, n: number, out: Int32Array): number {
    const v = values as unknown as ArrayLike<T>;
    for (let i = 0; i < n; i++) {
      let p = this.lookup.get(v[i]);
      if (p === undefined) {
        p = this.cats.length;
        this.cats.push(v[i]);
        this.lookup.set(v[i], p);
      }
      out[i] = p;
    }
    return 0;
  }

  value(i: number): number {
    return i;
  }

  edges(): Float64Array {
    return Float64Array.from({ length: this.cats.length + 1 }, (_, i) => i);
  }

  clone(): this {
    return cloneAxis(this, { cats: [...this.cats], lookup: new Map(this.lookup) });
  }

  sameBinning(o: Axis): boolean {
    if (!(o instanceof CategoryAxis) || o.type !== this.type) return false;
    if (o.overflow !== this.overflow || o.growth !== this.growth || o.cats.length !== this.cats.length)
      return false;
    return this.cats.every((c, i) => c === o.cats[i]);
  }

  protected optsRepr(): string {
    if (this.growth) return ", growth=True";
    return this.overflow ? "" : ", overflow=False";
  }

  abstract toUhi(): UhiAxis;
  abstract repr(): string;
}

export class IntCategoryAxis extends CategoryAxis<number> {
  readonly type = "category_int" as const;
  readonly valueKind = "int" as const;

  constructor(categories: readonly number[], opts: CategoryOptions = {}) {
    for (const c of categories)
      if (!Number.isInteger(c))
        throw new InvalidArgumentError(`category_int axis: categories must be integers, got ${c}`);
    super(categories, opts);
  }

  toUhi(): UhiAxis {
    const a: UhiAxis = { type: "category_int", categories: [...this.cats], flow: this.overflow };
    return withAxisInfo(a, this.metadata, this.growth ? { growth: true } : {});
  }

  repr(): string {
    return `IntCategory([${this.cats.map(pyNum).join(", ")}]${this.optsRepr()}${metadataRepr(this.metadata)})`;
  }
}

export class StrCategoryAxis extends CategoryAxis<string> {
  readonly type = "category_str" as const;
  readonly valueKind = "str" as const;

  toUhi(): UhiAxis {
    const a: UhiAxis = { type: "category_str", categories: [...this.cats], flow: this.overflow };
    return withAxisInfo(a, this.metadata, this.growth ? { growth: true } : {});
  }

  repr(): string {
    return `StrCategory([${this.cats.map(pyStr).join(", ")}]${this.optsRepr()}${metadataRepr(this.metadata)})`;
  }
}
