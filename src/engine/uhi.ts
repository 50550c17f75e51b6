// Histogram <-> UHI IR (uhi_schema 1), reading and writing what boost-histogram and hist do, including their
// writer_info hints (Integer axes, growth, transforms) so that a round trip through Python keeps the semantics.
import type { Axis } from "./axes/axis.ts";
import { BooleanAxis } from "./axes/boolean.ts";
import { IntCategoryAxis, StrCategoryAxis } from "./axes/category.ts";
import { IntegerAxis } from "./axes/integer.ts";
import { NumpyRegularAxis } from "./axes/numpy-regular.ts";
import { RegularAxis, type Transform } from "./axes/regular.ts";
import { VariableAxis } from "./axes/variable.ts";
import { InvalidArgumentError, ResourceExhaustedError } from "./errors.ts";
import { Histogram, type Limits } from "./histogram.ts";
import { bytesPerCell } from "./storage.ts";
import {
  type Metadata,
  STORAGE_KEYS,
  type StorageType,
  type UhiAxis,
  type UhiHistogram,
} from "./uhi-types.ts";

export const HISTD_VERSION = "0.1.0";

function bhInfo(a: UhiAxis): Record<string, string | number | boolean> {
  return a.writer_info?.["boost-histogram"] ?? {};
}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined || v === null) throw new InvalidArgumentError(`UHI: missing ${what}`);
  return v;
}

export function axisFromUhi(a: UhiAxis): Axis {
  const metadata: Metadata = { ...(a.metadata ?? {}) };
  const info = bhInfo(a);
  const growth = info.growth === true;
  switch (a.type) {
    case "regular": {
      const opts = {
        underflow: need(a.underflow, "regular.underflow"),
        overflow: need(a.overflow, "regular.overflow"),
        circular: a.circular ?? false,
        growth,
        metadata,
      };
      if (a.writer_info?.histd?.binning === "numpy")
        return new NumpyRegularAxis(a.bins, a.lower, a.upper, { metadata });
      if (info.orig_type === "Integer") {
        if (a.upper - a.lower !== a.bins)
          throw new InvalidArgumentError(
            `UHI: Integer axis needs upper - lower == bins (${a.lower}, ${a.upper}, ${a.bins})`,
          );
        return new IntegerAxis(a.lower, a.upper, opts);
      }
      return new RegularAxis(
        need(a.bins, "regular.bins"),
        need(a.lower, "regular.lower"),
        need(a.upper, "regular.upper"),
        opts,
      );
    }
    case "variable": {
      const opts = {
        underflow: need(a.underflow, "variable.underflow"),
        overflow: need(a.overflow, "variable.overflow"),
        circular: a.circular ?? false,
        growth,
        metadata,
      };
      if (!Array.isArray(a.edges))
        throw new InvalidArgumentError("UHI: variable.edges must be an inline array");
      const t = info.transform;
      if (t === "log" || t === "sqrt" || t === "pow") {
        if (Number(info.bins) !== a.edges.length - 1)
          throw new InvalidArgumentError(
            `UHI: transformed axis has ${a.edges.length} edges but writer_info bins ${String(info.bins)}`,
          );
        const transform: Transform = t === "pow" ? { kind: "pow", power: Number(info.power) } : { kind: t };
        return new RegularAxis(Number(info.bins), Number(info.lower), Number(info.upper), {
          ...opts,
          transform,
        });
      }
      return new VariableAxis(a.edges, opts);
    }
    case "category_int":
      return new IntCategoryAxis(need(a.categories, "categories"), {
        flow: a.flow ?? false,
        growth,
        metadata,
      });
    case "category_str":
      return new StrCategoryAxis(need(a.categories, "categories"), {
        flow: a.flow ?? false,
        growth,
        metadata,
      });
    case "boolean":
      return new BooleanAxis({ metadata });
    default:
      throw new InvalidArgumentError(`UHI: unknown axis type '${(a as { type: unknown }).type}'`);
  }
}

const STORAGE_TYPES = new Set<string>(Object.keys(STORAGE_KEYS));

/** Cell and byte limits for a histogram read from UHI; both are checked before its storage is allocated. */
export interface UhiLimits extends Limits {
  /** Most storage bytes the histogram may take (RESOURCE_EXHAUSTED beyond). */
  maxBytes?: number;
}

export function histogramFromUhi(ir: UhiHistogram, limits?: UhiLimits): Histogram {
  if (ir === null || typeof ir !== "object") throw new InvalidArgumentError("UHI: expected an object");
  if (ir.uhi_schema !== 1)
    throw new InvalidArgumentError(`UHI: unsupported uhi_schema ${String(ir.uhi_schema)}, need 1`);
  if (!Array.isArray(ir.axes)) throw new InvalidArgumentError("UHI: 'axes' must be an array");
  const type = ir.storage?.type;
  if (!STORAGE_TYPES.has(type)) throw new InvalidArgumentError(`UHI: unknown storage type '${String(type)}'`);
  const axes = ir.axes.map(axisFromUhi);
  const bytes = axes.reduce((c, a) => c * a.extent, 1) * bytesPerCell(type as StorageType);
  if (limits?.maxBytes !== undefined && bytes > limits.maxBytes)
    throw new ResourceExhaustedError(
      `histogram of ${bytes} bytes of ${type} storage exceeds the limit of ${limits.maxBytes} bytes`,
    );
  const engineLimits = limits === undefined ? undefined : { maxCells: limits.maxCells };
  const h = new Histogram(axes, {
    storage: type as StorageType,
    metadata: ir.metadata,
    limits: engineLimits,
  });
  const data = ir.storage.data;
  if (data && Object.keys(data).length > 0) {
    // The histogram's own cells: a transformed axis takes its bins from writer_info, not from the edges.
    const cells = h.cells;
    for (const k of STORAGE_KEYS[type as StorageType]) {
      const arr = data[k];
      if (!arr) throw new InvalidArgumentError(`UHI: ${type} storage needs '${k}'`);
      if (arr.length !== cells)
        throw new InvalidArgumentError(`UHI: storage '${k}' has ${arr.length} values, need ${cells}`);
    }
    h.storage.loadUhiData(data);
  }
  return h;
}

export function histogramToUhi(h: Histogram, opts: { withData?: boolean } = {}): UhiHistogram {
  const ir: UhiHistogram = {
    uhi_schema: 1,
    writer_info: { histd: { version: HISTD_VERSION } },
    axes: h.axes.map((a) => a.toUhi()),
    storage: { type: h.storage.type },
  };
  if (opts.withData !== false) ir.storage.data = h.storage.toUhiData();
  // boost-histogram always records whether variances are meaningful; hist restores it from metadata.
  ir.metadata = { ...h.metadata, _variance_known: h.varianceKnown };
  return ir;
}
