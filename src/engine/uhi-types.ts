// The UHI serialization IR (uhi_schema 1), as plain data. Storage arrays are flat, C order (last axis fastest),
// flow bins included; their shape is the axes' extents. The JSON form nests them (see uhi-json.ts).

export type MetadataValue = string | number | boolean;
export type Metadata = Record<string, MetadataValue>;
export type WriterInfo = Record<string, Record<string, MetadataValue>>;

interface UhiAxisCommon {
  metadata?: Metadata;
  writer_info?: WriterInfo;
}

export interface UhiRegularAxis extends UhiAxisCommon {
  type: "regular";
  lower: number;
  upper: number;
  bins: number;
  underflow: boolean;
  overflow: boolean;
  circular: boolean;
}

export interface UhiVariableAxis extends UhiAxisCommon {
  type: "variable";
  edges: number[];
  underflow: boolean;
  overflow: boolean;
  circular: boolean;
}

export interface UhiIntCategoryAxis extends UhiAxisCommon {
  type: "category_int";
  categories: number[];
  flow: boolean;
}

export interface UhiStrCategoryAxis extends UhiAxisCommon {
  type: "category_str";
  categories: string[];
  flow: boolean;
}

export interface UhiBooleanAxis extends UhiAxisCommon {
  type: "boolean";
}

export type UhiAxis =
  | UhiRegularAxis
  | UhiVariableAxis
  | UhiIntCategoryAxis
  | UhiStrCategoryAxis
  | UhiBooleanAxis;

export type StorageType = "int" | "double" | "weighted" | "mean" | "weighted_mean";

/** Data keys of each storage type, in the order boost-histogram stacks them. */
export const STORAGE_KEYS = {
  int: ["values"],
  double: ["values"],
  weighted: ["values", "variances"],
  mean: ["counts", "values", "variances"],
  weighted_mean: ["sum_of_weights", "sum_of_weights_squared", "values", "variances"],
} as const satisfies Record<StorageType, readonly string[]>;

export type StorageKey = (typeof STORAGE_KEYS)[StorageType][number];

export interface UhiStorage {
  type: StorageType;
  /** Absent for an empty (metadata-only) storage. */
  data?: Partial<Record<StorageKey, Float64Array>>;
}

export interface UhiHistogram {
  uhi_schema: 1;
  axes: UhiAxis[];
  storage: UhiStorage;
  metadata?: Metadata;
  writer_info?: WriterInfo;
}

/** Cells along one axis, flow bins included. */
export function uhiAxisExtent(a: UhiAxis): number {
  switch (a.type) {
    case "regular":
      return a.bins + (a.underflow ? 1 : 0) + (a.overflow ? 1 : 0);
    case "variable":
      return a.edges.length - 1 + (a.underflow ? 1 : 0) + (a.overflow ? 1 : 0);
    case "category_int":
    case "category_str":
      return a.categories.length + (a.flow ? 1 : 0);
    case "boolean":
      return 2;
  }
}
