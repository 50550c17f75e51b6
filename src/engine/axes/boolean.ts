// Boolean axis: two cells (False, True), no flow; any non-zero integer is True, as in boost-histogram.
import type { Metadata, UhiAxis } from "../uhi-types.ts";
import { type Axis, type ChunkValues, metadataRepr, withAxisInfo } from "./axis.ts";

export class BooleanAxis implements Axis {
  readonly type = "boolean" as const;
  readonly valueKind = "int" as const;
  readonly size = 2;
  readonly extent = 2;
  readonly underflow = false;
  readonly overflow = false;
  readonly growth = false;
  readonly circular = false;
  metadata: Metadata;

  constructor(opts: { metadata?: Metadata } = {}) {
    this.metadata = { ...(opts.metadata ?? {}) };
  }

  positions(values: ChunkValues, n: number, out: Int32Array): void {
    const x = values as Float64Array;
    for (let i = 0; i < n; i++) out[i] = x[i] === 0 ? 0 : 1;
  }

  positionsGrow(values: ChunkValues, n: number, out: Int32Array): number {
    this.positions(values, n, out);
    return 0;
  }

  value(i: number): number {
    return i;
  }

  edges(): Float64Array {
    return Float64Array.of(0, 1, 2);
  }

  clone(): BooleanAxis {
    return new BooleanAxis({ metadata: this.metadata });
  }

  sameBinning(o: Axis): boolean {
    return o instanceof BooleanAxis;
  }

  toUhi(): UhiAxis {
    return withAxisInfo({ type: "boolean" }, this.metadata, {});
  }

  repr(): string {
    return `Boolean(${metadataRepr(this.metadata).slice(2)})`;
  }
}
