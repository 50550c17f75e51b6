// Histograms by id, each with its owner (the bearer token that created it, "" when anonymous), a version that
// counts changes, recent fill ids (a retried fill is applied once), and a queue that serializes its fills.
import { randomUUID } from "node:crypto";
import type { Catalog, CatalogEntry } from "../catalog/index.ts";
import type { Histogram } from "../engine/index.ts";
import { RequestError } from "./arrays.ts";

/** How many fill ids each histogram remembers; older ones are forgotten first. */
export const FILL_ID_MEMORY = 100_000;

export class Entry {
  readonly id: string;
  readonly owner: string;
  hist: Histogram;
  version = 0;
  fills = 0;
  readonly created = Date.now();
  lastChange = Date.now();
  private readonly fillIds = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly watchers = new Set<() => void>();
  /** This histogram in the process's catalog (the dashboard), when the registry publishes into one. */
  catalogEntry: CatalogEntry | undefined;

  constructor(id: string, owner: string, hist: Histogram) {
    this.id = id;
    this.owner = owner;
    this.hist = hist;
  }

  /** Runs `fn` after every earlier queued operation on this histogram has finished. */
  run<T>(fn: () => T | Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  seen(fillId: string): boolean {
    return fillId !== "" && this.fillIds.has(fillId);
  }

  remember(fillId: string): void {
    if (fillId === "") return;
    this.fillIds.add(fillId);
    if (this.fillIds.size > FILL_ID_MEMORY) this.fillIds.delete(this.fillIds.values().next().value as string);
  }

  /** Remembered fill ids, oldest first (for checkpoints). */
  fillIdList(): string[] {
    return [...this.fillIds];
  }

  changed(): void {
    this.version++;
    this.lastChange = Date.now();
    this.catalogEntry?.touch();
    for (const w of this.watchers) w();
  }

  watch(fn: () => void): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  close(): void {
    for (const w of this.watchers) w();
    this.watchers.clear();
  }
}

const ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

export class Registry {
  private readonly entries = new Map<string, Entry>();
  /** Most histograms the server holds, and most storage bytes over all of them. */
  readonly maxHistograms: number;
  readonly maxBytes: number;
  /** Where every histogram is also published (door "grpc"), if anywhere. */
  readonly catalog: Catalog | undefined;
  constructor(maxHistograms = 10_000, maxBytes = Number.POSITIVE_INFINITY, catalog?: Catalog) {
    this.maxHistograms = maxHistograms;
    this.maxBytes = maxBytes;
    this.catalog = catalog;
  }

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    let b = 0;
    for (const e of this.entries.values()) b += e.hist.nbytes;
    return b;
  }

  all(owner?: string): Entry[] {
    return [...this.entries.values()].filter((e) => owner === undefined || e.owner === owner);
  }

  add(hist: Histogram, owner: string, id?: string): Entry {
    const key = id === undefined || id === "" ? randomUUID().replaceAll("-", "") : id;
    if (!ID_RE.test(key))
      throw new RequestError("INVALID_ARGUMENT", `bad histogram id '${key}': use 1-128 of [A-Za-z0-9._:-]`);
    if (this.entries.has(key)) throw new RequestError("ALREADY_EXISTS", `histogram '${key}' already exists`);
    if (this.entries.size >= this.maxHistograms)
      throw new RequestError(
        "RESOURCE_EXHAUSTED",
        `the server holds its limit of ${this.maxHistograms} histograms`,
      );
    if (this.bytes + hist.nbytes > this.maxBytes)
      throw new RequestError(
        "RESOURCE_EXHAUSTED",
        `a histogram of ${hist.nbytes} bytes would exceed the server's limit of ${this.maxBytes} bytes`,
      );
    const e = new Entry(key, owner, hist);
    this.entries.set(key, e);
    if (this.catalog) e.catalogEntry = this.publish(e);
    return e;
  }

  /** The histogram `id` if `owner` may see it; NOT_FOUND otherwise (another owner's histogram is not found). */
  get(id: string, owner: string): Entry {
    const e = this.entries.get(id);
    if (e === undefined || e.owner !== owner)
      throw new RequestError("NOT_FOUND", `no histogram with id '${id}'`);
    return e;
  }

  has(id: string, owner: string): boolean {
    const e = this.entries.get(id);
    return e !== undefined && e.owner === owner;
  }

  delete(id: string, owner: string): Entry {
    const e = this.get(id, owner);
    this.entries.delete(id);
    if (e.catalogEntry) this.catalog?.remove(e.catalogEntry);
    e.close();
    return e;
  }

  private publish(e: Entry): CatalogEntry {
    return (this.catalog as Catalog).add({
      door: "grpc",
      id: e.id,
      owner: e.owner,
      histogram: () => e.hist,
      info: () => ({ state: "LIVE", start: e.created, fills: e.fills }),
      reset: () =>
        e.run(() => {
          e.hist.reset();
          e.changed();
        }),
      remove: () =>
        e.run(() => {
          if (this.entries.get(e.id) === e) this.delete(e.id, e.owner);
        }),
    });
  }
}
