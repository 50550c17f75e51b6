// The per-histogram state just-bin-it's Histogrammer keeps (just-bin-it.md §2.4, §3.6): the start/stop filter on
// Kafka timestamps, the INITIALISED / COUNTING / FINISHED / ERROR states, the sum/diff/rate statistics, and the
// info JSON written exactly as Python's json.dumps writes that dict.
import type { Ids, JbiHistogram } from "./histograms.ts";

export type State = "INITIALISED" | "COUNTING" | "FINISHED" | "ERROR";

/** Python's repr(float): shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mant, expStr] = x.toExponential().split("e");
  const exp = Number(expStr);
  const neg = mant.startsWith("-");
  const digits = mant.replace("-", "").replace(".", "");
  let out: string;
  if (exp >= -4 && exp < 16) {
    if (exp < 0) out = `0.${"0".repeat(-exp - 1)}${digits}`;
    else if (digits.length <= exp + 1) out = `${digits}${"0".repeat(exp + 1 - digits.length)}.0`;
    else out = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  } else {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    out = `${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  return neg ? `-${out}` : out;
}

/** A value of the info dict: an int (number or bigint), a float, or a string. */
type InfoValue = number | bigint | string | { float: number } | { json: string };

function dumpValue(v: InfoValue): string {
  if (typeof v === "string")
    return JSON.stringify(v).replace(
      /[\u007f-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : pyFloatRepr(v);
  if ("json" in v) return v.json;
  return pyFloatRepr(v.float);
}

/** json.dumps(dict) with the default separators. */
export function pyDumps(entries: [string, InfoValue][]): string {
  return `{${entries.map(([k, v]) => `${dumpValue(k)}: ${dumpValue(v)}`).join(", ")}}`;
}

export interface Stats {
  lastPulseTime: bigint;
  sum: number;
  diff: number;
  rate: number;
  rateIsFloat: boolean;
}

/** Everything of a HistogramState but its counts, as a checkpoint keeps it (bigints as decimal strings). */
export interface StateSnapshot {
  started: boolean;
  stopExceeded: boolean;
  finished: boolean;
  lastPulseTime: string;
  prevSum: number;
  prevPulse: string;
  diff: number;
  rate: number;
  rateIsFloat: boolean;
}

export class HistogramState {
  readonly hist: JbiHistogram;
  readonly start: number | undefined;
  readonly stop: number | undefined;
  started = false;
  stopExceeded = false;
  finished = false;
  lastPulseTime = 0n;
  private prevSum = 0;
  private prevPulse = 0n;
  private diff = 0;
  private rate = 0;
  private rateIsFloat = false;
  /** The stats of the latest publish (Graphite sends these). */
  lastStats: Stats | undefined;

  /** Non-numeric start/stop as info shows them (raw JSON text); see ConfigCommand.badStart. */
  startText: string | undefined;
  stopText: string | undefined;

  constructor(hist: JbiHistogram, start: number | undefined, stop: number | undefined) {
    this.hist = hist;
    this.start = start;
    this.stop = stop;
  }

  /** Histogrammer.add_data for one message: Kafka timestamp filter (both ends inclusive), then the source filter. */
  add(timestampMs: number, source: string, pulseTime: bigint, tof: Ids, det: Ids | undefined): void {
    if (this.accept(timestampMs, source, pulseTime)) this.hist.add(tof, det);
  }

  /** The rules of add() without the fill: whether the message's events are to be histogrammed (elsewhere). */
  accept(timestampMs: number, source: string, pulseTime: bigint): boolean {
    if (this.start !== undefined && timestampMs < this.start) return false;
    if (this.stop !== undefined && timestampMs > this.stop) {
      this.stopExceeded = true;
      return false;
    }
    this.started = true;
    if (!this.hist.accepts(source)) return false;
    this.lastPulseTime = pulseTime;
    return true;
  }

  get state(): State {
    if (this.stopExceeded || this.finished) return "FINISHED";
    return this.started ? "COUNTING" : "INITIALISED";
  }

  snapshot(): StateSnapshot {
    return {
      started: this.started,
      stopExceeded: this.stopExceeded,
      finished: this.finished,
      lastPulseTime: String(this.lastPulseTime),
      prevSum: this.prevSum,
      prevPulse: String(this.prevPulse),
      diff: this.diff,
      rate: this.rate,
      rateIsFloat: this.rateIsFloat,
    };
  }

  restore(s: StateSnapshot): void {
    this.started = s.started;
    this.stopExceeded = s.stopExceeded;
    this.finished = s.finished;
    this.lastPulseTime = BigInt(s.lastPulseTime);
    this.prevSum = s.prevSum;
    this.prevPulse = BigInt(s.prevPulse);
    this.diff = s.diff;
    this.rate = s.rate;
    this.rateIsFloat = s.rateIsFloat;
  }

  /** reset_counts: counts and statistics to zero; state, edges and start/stop kept. */
  clear(): void {
    this.hist.clear();
    this.prevSum = 0;
    this.prevPulse = 0n;
    this.diff = 0;
    this.rate = 0;
    this.rateIsFloat = false;
  }

  /** Recomputes the statistics, as every publish does. */
  private stats(): Stats {
    const sum = Math.trunc(this.hist.sum());
    const diff = sum - this.prevSum;
    if (!(this.lastPulseTime === this.prevPulse && diff === 0)) {
      this.diff = diff;
      const dt = this.lastPulseTime - this.prevPulse;
      if (dt > 0n) {
        this.rate = diff / (Number(dt) / 1e9);
        this.rateIsFloat = true;
      } else {
        this.rate = 0;
        this.rateIsFloat = false;
      }
    }
    this.prevSum = sum;
    this.prevPulse = this.lastPulseTime;
    const s = {
      lastPulseTime: this.lastPulseTime,
      sum,
      diff: this.diff,
      rate: this.rate,
      rateIsFloat: this.rateIsFloat,
    };
    this.lastStats = s;
    return s;
  }

  /** The info string of the next publish; `error` turns it into the ERROR message. */
  info(error?: string): string {
    const s = this.stats();
    const e: [string, InfoValue][] = [["id", this.hist.id]];
    if (this.startText !== undefined) e.push(["start", { json: this.startText }]);
    else if (this.start) e.push(["start", this.start]);
    if (this.stopText !== undefined) e.push(["stop", { json: this.stopText }]);
    else if (this.stop) e.push(["stop", this.stop]);
    e.push(["state", error === undefined ? this.state : "ERROR"]);
    e.push(["last_pulse_time", s.lastPulseTime]);
    e.push(["sum", s.sum]);
    e.push(["diff", s.diff]);
    e.push(["rate", s.rateIsFloat ? { float: s.rate } : s.rate]);
    if (error !== undefined) e.push(["error_message", error]);
    return pyDumps(e);
  }
}
