// The histogram engine: boost-histogram semantics, used by every door (gRPC, Kafka, HTTP).
export { type Axis, DROP } from "./axes/axis.ts";
export { BooleanAxis } from "./axes/boolean.ts";
export { IntCategoryAxis, StrCategoryAxis } from "./axes/category.ts";
export { IntegerAxis } from "./axes/integer.ts";
export { linspace, NumpyRegularAxis } from "./axes/numpy-regular.ts";
export { RegularAxis, type Transform } from "./axes/regular.ts";
export { nextDown, nextUp, VariableAxis } from "./axes/variable.ts";
export type { FillValue, NumericArray } from "./columns.ts";
export { HistError, InvalidArgumentError, ResourceExhaustedError } from "./errors.ts";
export { DEFAULT_LIMITS, type FillOptions, Histogram, type Limits } from "./histogram.ts";
export {
  type AxisAction,
  addInto,
  axesEqual,
  counts,
  project,
  reduce,
  sum,
  transpose,
  type View,
  values,
  variances,
} from "./ops.ts";
export { FillPool } from "./parallel.ts";
export { histogramFromUhi, histogramToUhi } from "./uhi.ts";
export { parsePyJson, pyFloat, stringifyPyJson, uhiFromJson, uhiToJson } from "./uhi-json.ts";
export * from "./uhi-types.ts";
