// Commands on the config topic (just-bin-it.md §2): JSON decoding as Python's json.loads sees it (an int is
// not a float: `2.0` is rejected where an int is required), the validators, their order and their exact
// error texts, and the older format (no `cmd`, top-level data_brokers/data_topics, `num_dims`).

/** A JSON number written with a fraction or exponent: a Python float. */
export class PyFloat {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}

export type PyJson = null | boolean | number | PyFloat | string | PyJson[] | { [k: string]: PyJson };

/** json.loads: numbers with '.', 'e' or 'E' become PyFloat. Throws SyntaxError on invalid JSON. */
export function parseCommandJson(bytes: Uint8Array | string): PyJson {
  const text = typeof bytes === "string" ? bytes : new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  return JSON.parse(text, function (this: unknown, _k: string, v: unknown, ctx?: { source?: string }) {
    if (typeof v === "number" && ctx?.source !== undefined && /[.eE]/.test(ctx.source)) return new PyFloat(v);
    return v;
  } as (k: string, v: unknown) => unknown) as PyJson;
}

export const inputSchemas = ["ev42", "ev44"] as const;
export const outputSchemas = ["hs00", "hs01"] as const;
export type InputSchema = (typeof inputSchemas)[number];
export type OutputSchema = (typeof outputSchemas)[number];
export type HistogramType = "hist1d" | "hist2d" | "dethist" | "roihist";

export interface HistogramSpec {
  type: HistogramType;
  tofRange: [number, number];
  detRange?: [number, number];
  numBins: number | [number, number];
  width: number;
  height: number;
  leftEdges: number[];
  topic: string;
  dataTopics: string[];
  dataBrokers: string[];
  source: string;
  id: string;
}

export interface ConfigCommand {
  cmd: "config";
  /** ms since the epoch, or undefined (0 counts as unset). */
  start: number | undefined;
  stop: number | undefined;
  /**
   * A truthy start or stop that is not a number: just-bin-it does not check their types, so its histogram
   * processes fail on them (the start seek's TopicPartition(..., offset=start), the idle stop check's
   * `stop + 5000`): `error` is that Python TypeError's text, `text` the value as json.dumps writes it in info.
   */
  badStart?: { text: string; error: string };
  badStop?: { text: string; error: string };
  inputSchema: InputSchema;
  outputSchema: OutputSchema;
  histograms: HistogramSpec[];
}

export type Command = ConfigCommand | { cmd: "stop" } | { cmd: "reset_counts" };

/** A command refused with the text just-bin-it puts in the ERR `message`. */
export class CommandError extends Error {}

/** Python truthiness of a JSON value. */
export function truthy(v: PyJson | undefined): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === "") return false;
  if (v instanceof PyFloat) return v.value !== 0;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object") return Object.keys(v).length > 0;
  return true;
}

/** Plain number of a JSON number, PyFloat or bool; undefined for anything else. */
export function num(v: PyJson | undefined): number | undefined {
  if (typeof v === "number") return v;
  if (v instanceof PyFloat) return v.value;
  if (typeof v === "boolean") return v ? 1 : 0;
  return undefined;
}

/** Converts PyFloat back to numbers (for echoing values such as msg_id). */
export function plain(v: PyJson | undefined): unknown {
  if (v instanceof PyFloat) return v.value;
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

function isObject(v: PyJson | undefined): v is { [k: string]: PyJson } {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof PyFloat);
}

function pyTypeName(v: PyJson | undefined): string {
  if (v === null || v === undefined) return "NoneType";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return "int";
  if (v instanceof PyFloat) return "float";
  if (typeof v === "string") return "str";
  if (Array.isArray(v)) return "list";
  return "dict";
}

/** Python repr of a str (for error texts such as Unknown command type 'x'). */
export function pyRepr(v: PyJson | undefined): string {
  if (typeof v === "string") {
    const q = v.includes("'") && !v.includes('"') ? '"' : "'";
    const body = v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t");
    return q + (q === "'" ? body.replace(/'/g, "\\'") : body) + q;
  }
  if (v === null || v === undefined) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (v instanceof PyFloat) return Number.isInteger(v.value) ? `${v.value}.0` : String(v.value);
  if (typeof v === "number") return String(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(", ")}]`;
  return `{${Object.entries(v)
    .map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`)
    .join(", ")}}`;
}

// ---- validators (just_bin_it/histograms/input_validators.py) ----

const isNumber = (v: PyJson | undefined) =>
  typeof v === "number" || typeof v === "boolean" || v instanceof PyFloat;
const isInt = (v: PyJson | undefined) => typeof v === "number" || typeof v === "boolean";

function validRange(v: PyJson | undefined): boolean {
  if (!Array.isArray(v) || v.length !== 2 || !v.every(isNumber)) return false;
  return (num(v[0]) as number) <= (num(v[1]) as number);
}

function validBins(v: PyJson | undefined): boolean {
  const one = (x: PyJson) => isInt(x) && (num(x) as number) > 0;
  if (Array.isArray(v)) return v.length === 2 && v.every(one);
  return v !== undefined && one(v);
}

const topicRe = /^[a-zA-Z0-9._-]+$/;
const validTopic = (v: PyJson | undefined) => typeof v === "string" && topicRe.test(v);
const validTopics = (v: PyJson | undefined) => Array.isArray(v) && v.every(validTopic);
const validBrokers = (v: PyJson | undefined) => Array.isArray(v) && v.every((b) => typeof b === "string");
const optionalString = (h: Record<string, PyJson>, k: string) => !(k in h) || typeof h[k] === "string";
const validSize = (v: PyJson | undefined) => isNumber(v) && (num(v) as number) >= 1;

const required: Record<HistogramType, string[]> = {
  hist1d: ["type", "tof_range", "num_bins", "topic", "data_topics", "data_brokers"],
  hist2d: ["type", "tof_range", "num_bins", "topic", "data_topics", "data_brokers", "det_range"],
  dethist: ["type", "topic", "data_topics", "data_brokers", "det_range", "width", "height"],
  roihist: ["type", "topic", "data_topics", "data_brokers", "width", "left_edges"],
};

function validHistogram(type: HistogramType, h: Record<string, PyJson>): boolean {
  if (!required[type].every((k) => k in h)) return false;
  if (!validTopic(h.topic) || !validTopics(h.data_topics) || !validBrokers(h.data_brokers)) return false;
  if (!optionalString(h, "id") || !optionalString(h, "source")) return false;
  switch (type) {
    case "hist1d":
      return (
        validRange(h.tof_range) && validBins(h.num_bins) && (!("det_range" in h) || validRange(h.det_range))
      );
    case "hist2d":
      return validRange(h.tof_range) && validBins(h.num_bins) && validRange(h.det_range);
    case "dethist":
      return validRange(h.det_range) && validSize(h.width) && validSize(h.height);
    case "roihist":
      return (
        validSize(h.width) &&
        Array.isArray(h.left_edges) &&
        h.left_edges.length > 0 &&
        h.left_edges.every(isNumber)
      );
  }
}

const parseErrors: Record<HistogramType, string> = {
  hist1d: "Could not parse 1d histogram config",
  hist2d: "Could not parse 2d histogram config",
  dethist: "Could not parse 2d map config",
  roihist: "Could not parse 2d ROI config",
};

const pair = (v: PyJson | undefined): [number, number] | undefined =>
  Array.isArray(v) ? [num(v[0]) as number, num(v[1]) as number] : undefined;

function toSpec(type: HistogramType, h: Record<string, PyJson>): HistogramSpec {
  const bins = Array.isArray(h.num_bins) ? (pair(h.num_bins) as [number, number]) : (num(h.num_bins) ?? 0);
  const spec: HistogramSpec = {
    type,
    tofRange: pair(h.tof_range) ?? [0, 0],
    numBins: bins,
    width: num(h.width) ?? 0,
    height: num(h.height) ?? 0,
    leftEdges: Array.isArray(h.left_edges) ? h.left_edges.map((x) => num(x) as number) : [],
    topic: h.topic as string,
    dataTopics: h.data_topics as string[],
    dataBrokers: h.data_brokers as string[],
    source: typeof h.source === "string" ? h.source : "",
    id: typeof h.id === "string" ? h.id : "",
  };
  const det = pair(h.det_range);
  if (det) spec.detRange = det;
  return spec;
}

/** The older format's histograms: `num_dims` 1 (a ToF spectrum over det_range/tof_range) or 2. */
function fromLegacy(h: Record<string, PyJson>): Record<string, PyJson> {
  if ("type" in h || !("num_dims" in h)) return h;
  const dims = num(h.num_dims);
  if (dims === 1) {
    const { det_range, ...rest } = h;
    return { ...rest, type: "hist1d", tof_range: h.tof_range ?? det_range ?? null };
  }
  if (dims === 2) return { ...h, type: "hist2d" };
  return { ...h, type: `num_dims ${pyRepr(h.num_dims)}` };
}

/** Parses and validates a decoded command. Throws CommandError with just-bin-it's texts. */
export function parseCommand(msg: PyJson, nowMs: () => number = Date.now): Command {
  if (!isObject(msg))
    throw new CommandError(`${pyTypeName(msg)} indices must be integers or slices, not str`);
  let m = msg;
  const legacy = !("cmd" in m) && ("data_topics" in m || "data_brokers" in m) && Array.isArray(m.histograms);
  if (legacy) m = { ...m, cmd: "config" };
  if (!("cmd" in m)) throw new CommandError("'cmd'");
  const cmd = m.cmd;
  if (cmd === "stop") return { cmd: "stop" };
  if (cmd === "reset_counts") return { cmd: "reset_counts" };
  if (cmd !== "config") throw new CommandError(`Unknown command type ${pyRepr(cmd)}`);
  return parseConfig(m, nowMs, legacy);
}

function parseConfig(m: Record<string, PyJson>, nowMs: () => number, legacy: boolean): ConfigCommand {
  const input = "input_schema" in m ? m.input_schema : "ev42";
  if (!inputSchemas.includes(input as InputSchema))
    throw new CommandError(`Unknown input schema ${pyStr(input)}, must be one of ['ev42', 'ev44']`);
  const output = "output_schema" in m ? m.output_schema : "hs00";
  if (!outputSchemas.includes(output as OutputSchema))
    throw new CommandError(`Unknown output schema ${pyStr(output)}, must be one of ['hs00', 'hs01']`);
  let start = truthy(m.start) ? num(m.start) : undefined;
  let stop = truthy(m.stop) ? num(m.stop) : undefined;
  const badStart =
    truthy(m.start) && start === undefined
      ? {
          text: jsonText(m.start),
          error: `'${pyTypeName(m.start)}' object cannot be interpreted as an integer`,
        }
      : undefined;
  const badStop =
    truthy(m.stop) && stop === undefined
      ? {
          text: jsonText(m.stop),
          error:
            typeof m.stop === "string" || Array.isArray(m.stop)
              ? `can only concatenate ${pyTypeName(m.stop)} (not "int") to ${pyTypeName(m.stop)}`
              : `unsupported operand type(s) for +: '${pyTypeName(m.stop)}' and 'int'`,
        }
      : undefined;
  if ("interval" in m && m.interval !== null) {
    if (truthy(m.start) || truthy(m.stop))
      throw new CommandError("Cannot define 'interval' in combination with start and/or stop");
    const iv = m.interval;
    if (typeof iv === "string" || Array.isArray(iv))
      throw new CommandError(`'<' not supported between instances of '${pyTypeName(iv)}' and 'int'`);
    const ms = num(iv);
    if (ms === undefined)
      throw new CommandError(`unsupported operand type(s) for *: '${pyTypeName(iv)}' and 'int'`);
    if (ms < 0) throw new CommandError("Interval cannot be negative");
    if (ms !== 0) {
      start = nowMs();
      stop = start + ms * 1000;
    }
  }
  const raw = Array.isArray(m.histograms) ? m.histograms : [];
  const histograms: HistogramSpec[] = [];
  for (const item of raw) {
    let h = isObject(item) ? item : {};
    if (legacy) h = fromLegacy(h);
    // The older format names brokers and topics once for all histograms.
    if (!("data_brokers" in h) && "data_brokers" in m) h = { ...h, data_brokers: m.data_brokers };
    if (!("data_topics" in h) && "data_topics" in m) h = { ...h, data_topics: m.data_topics };
    if (!("type" in h)) throw new CommandError("'type'");
    const type = h.type;
    if (type !== "hist1d" && type !== "hist2d" && type !== "dethist" && type !== "roihist")
      throw new CommandError("Unexpected histogram type");
    if (!validHistogram(type, h)) throw new CommandError(parseErrors[type]);
    histograms.push(toSpec(type, h));
  }
  return {
    cmd: "config",
    start,
    stop,
    ...(badStart ? { badStart } : {}),
    ...(badStop ? { badStop } : {}),
    inputSchema: input as InputSchema,
    outputSchema: output as OutputSchema,
    histograms,
  };
}

/** json.dumps(x) of a decoded value (non-ASCII escaped, Python's separators). */
function jsonText(v: PyJson | undefined): string {
  const p = plain(v);
  if (typeof p === "string")
    return JSON.stringify(p).replace(
      /[\u007f-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
  return JSON.stringify(p).replaceAll(",", ", ").replaceAll(":", ": ");
}

/** str(x) in Python for schema names in error texts. */
function pyStr(v: PyJson | undefined): string {
  return typeof v === "string" ? v : pyRepr(v);
}

// ---- limits (histd's own, not just-bin-it's): checked before a config stops anything ----

export interface ConfigLimits {
  /** Most bins one histogram may have (`--max-cells`). */
  maxCells: number;
  /** Most storage bytes all histograms of one config may take together (`--max-bytes`), 8 per bin. */
  maxBytes: number;
}

export const DEFAULT_CONFIG_LIMITS: ConfigLimits = { maxCells: 2 ** 31, maxBytes: Number.POSITIVE_INFINITY };

/** Bins of a validated spec's histogram (an upper bound for roihist, whose gaps between rows are bins too). */
export function specCells(spec: HistogramSpec): number {
  const nb = spec.numBins;
  const [nx, ny] = Array.isArray(nb) ? nb : [nb, nb];
  switch (spec.type) {
    case "hist1d":
      if (spec.detRange) return nx * ny;
      return Array.isArray(nb) ? 1 : nb;
    case "hist2d":
      return nx * ny;
    case "dethist":
      return spec.width * spec.height;
    case "roihist":
      return (spec.width + 1) * spec.leftEdges.length + 1;
  }
}

/**
 * Throws CommandError (the ERR response's text) when a histogram has more bins than `maxCells` or the config's
 * histograms together more storage bytes than `maxBytes`; computed from the spec, before anything is allocated.
 */
export function checkConfigLimits(cfg: ConfigCommand, limits: ConfigLimits): void {
  let bytes = 0;
  cfg.histograms.forEach((spec, i) => {
    const cells = specCells(spec);
    const name = spec.id ? `'${spec.id}'` : `#${i}`;
    if (!(cells <= limits.maxCells))
      throw new CommandError(
        `Histogram ${name} (${spec.type}) has ${cells} bins, more than this service's limit of ${limits.maxCells} (--max-cells)`,
      );
    bytes += 8 * cells;
  });
  if (bytes > limits.maxBytes)
    throw new CommandError(
      `The histograms of this config need ${bytes} bytes, more than this service's limit of ${limits.maxBytes} bytes (--max-bytes)`,
    );
}
