// The catalog: every live histogram of the process, whichever door it came through (gRPC, Kafka, the demo),
// with an info record and a version that counts changes. Doors publish into it; the HTTP side reads it and
// pushes only what changed. It depends on the engine only, and nothing in the engine depends on it.
import { type Histogram, histogramFromUhi, sum, type UhiAxis, type UhiHistogram } from "../engine/index.ts";

export type Door = "grpc" | "kafka" | "demo";

/** How the dashboard lays a histogram out: "hist" (any engine histogram), just-bin-it's four types. */
export type Kind = "hist" | "hist1d" | "hist2d" | "dethist" | "roihist";

/** What the info panel shows. Every field is optional: a door fills in what it knows. */
export interface Info {
  state?: string;
  sum?: number;
  /** Counts per second. */
  rate?: number;
  /** Nanoseconds since the epoch, as a decimal string (it does not fit a double). */
  lastPulseTime?: string;
  /** Milliseconds since the epoch. */
  start?: number;
  stop?: number;
  sourceTopic?: string;
  outputTopic?: string;
  fills?: number;
  error?: string;
}

/** A dense snapshot, for doors that keep their counts outside the engine (the Kafka door). */
export interface DenseView {
  /** Bin edges per axis (size + 1 each); C order, last axis fastest. */
  edges: ArrayLike<number>[];
  names?: string[];
  data: Float64Array;
}

export interface CatalogSource {
  door: Door;
  /** The door's own id; the catalog key is `${door}:${id}`. */
  id: string;
  name?: string;
  kind?: Kind;
  /** The bearer token that owns it ("" or absent: everyone who may use the server sees it). */
  owner?: string;
  /** The engine histogram, read in place (the door's fills are synchronous, so a read sees whole fills). */
  histogram?: () => Histogram;
  /** Otherwise a dense snapshot. */
  view?: () => DenseView;
  info?: () => Info;
  reset?: () => void | Promise<void>;
  remove?: () => void | Promise<void>;
}

export type ChangeKind = "add" | "change" | "remove";

/** Largest histogram whose sum the catalog computes for the info record on each change. */
const SUM_CELL_LIMIT = 50_000_000;

export class CatalogEntry {
  readonly key: string;
  readonly source: CatalogSource;
  readonly created = Date.now();
  version = 0;
  lastChange = Date.now();
  private readonly catalog: Catalog;
  private infoCache: { version: number; info: Info } | undefined;
  private rateBase: { t: number; sum: number } | undefined;
  private lastRate = 0;

  constructor(catalog: Catalog, source: CatalogSource) {
    this.catalog = catalog;
    this.source = source;
    this.key = `${source.door}:${source.id}`;
  }

  get door(): Door {
    return this.source.door;
  }
  get id(): string {
    return this.source.id;
  }
  get name(): string {
    return this.source.name ?? this.source.id;
  }
  get kind(): Kind {
    return this.source.kind ?? "hist";
  }
  get owner(): string {
    return this.source.owner ?? "";
  }

  /** Marks a change: the HTTP side pushes this entry's new contents at its next tick. */
  touch(): void {
    this.version++;
    this.lastChange = Date.now();
    this.catalog.emit(this, "change");
  }

  /** The histogram as an engine histogram (a new one built from the dense view for view-only sources). */
  histogram(): Histogram {
    if (this.source.histogram) return this.source.histogram();
    if (this.source.view) return denseToHistogram(this.source.view());
    throw new Error(`catalog entry ${this.key} has neither a histogram nor a view`);
  }

  /** The info record: the door's, with sum and rate filled in from the counts when the door gives none. */
  info(): Info {
    if (this.infoCache?.version === this.version) return this.infoCache.info;
    const own = this.source.info?.() ?? {};
    const info: Info = { ...own };
    if (info.sum === undefined) {
      const s = this.countSum();
      if (s !== undefined) info.sum = s;
    }
    if (own.rate === undefined && info.sum !== undefined) {
      const now = Date.now();
      if (this.rateBase === undefined || info.sum < this.rateBase.sum)
        this.rateBase = { t: now, sum: info.sum };
      else if (now - this.rateBase.t >= 1000) {
        this.lastRate = ((info.sum - this.rateBase.sum) * 1000) / (now - this.rateBase.t);
        this.rateBase = { t: now, sum: info.sum };
      }
      info.rate = this.lastRate;
    }
    this.infoCache = { version: this.version, info };
    return info;
  }

  private countSum(): number | undefined {
    if (this.source.histogram) {
      const h = this.source.histogram();
      if (h.storage.fields[0].length > SUM_CELL_LIMIT) return undefined;
      return sum(h, true);
    }
    if (this.source.view) {
      const d = this.source.view().data;
      let s = 0;
      for (let i = 0; i < d.length; i++) s += d[i];
      return s;
    }
    return undefined;
  }
}

/** One sample of a metric, for /metrics. */
export interface MetricSample {
  name: string;
  help: string;
  type: "counter" | "gauge";
  labels?: Record<string, string>;
  value: number;
}

export type ChangeListener = (entry: CatalogEntry, change: ChangeKind) => void;

export class Catalog {
  private readonly entries = new Map<string, CatalogEntry>();
  private readonly listeners = new Set<ChangeListener>();
  /** Metric collectors, one per door (called at each scrape). */
  readonly collectors = new Set<() => MetricSample[]>();
  /** Readiness checks by name, one per door (/readyz is ready when all are). */
  readonly readiness = new Map<string, () => boolean>();

  /** Adds a histogram (replacing one with the same door and id). */
  add(source: CatalogSource): CatalogEntry {
    const e = new CatalogEntry(this, source);
    const old = this.entries.get(e.key);
    if (old) this.remove(old);
    this.entries.set(e.key, e);
    this.emit(e, "add");
    return e;
  }

  remove(entry: CatalogEntry | string): void {
    const key = typeof entry === "string" ? entry : entry.key;
    const e = this.entries.get(key);
    if (!e || (typeof entry !== "string" && e !== entry)) return;
    this.entries.delete(key);
    this.emit(e, "remove");
  }

  get(key: string): CatalogEntry | undefined {
    return this.entries.get(key);
  }

  list(): CatalogEntry[] {
    return [...this.entries.values()];
  }

  get size(): number {
    return this.entries.size;
  }

  onChange(fn: ChangeListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(entry: CatalogEntry, change: ChangeKind): void {
    for (const fn of this.listeners) fn(entry, change);
  }
}

/** The process's catalog, for doors started without one passed in (the Kafka door). */
export const defaultCatalog = new Catalog();

/** A double-storage engine histogram holding a dense view (variable axes over its edges, no flow bins). */
export function denseToHistogram(v: DenseView): Histogram {
  const axes: UhiAxis[] = v.edges.map((e, k) => ({
    type: "variable",
    edges: Array.from(e, Number),
    underflow: false,
    overflow: false,
    circular: false,
    ...(v.names?.[k] ? { metadata: { name: v.names[k] } } : {}),
  }));
  const uhi: UhiHistogram = { uhi_schema: 1, axes, storage: { type: "double", data: { values: v.data } } };
  return histogramFromUhi(uhi);
}
