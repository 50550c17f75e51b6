// Graphite statistics over the plaintext protocol (just-bin-it.md §5.3, graphyte.Sender): every second
// `{prefix}.{metric}{p}-{i}-sum` and `-diff`, timestamped with last_pulse_time in seconds.
import { readFileSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import type { Logger } from "./log.ts";

export interface GraphiteConfig {
  address: string;
  port: number;
  prefix: string;
  metric: string;
}

export function loadGraphiteConfig(file: string): GraphiteConfig {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch {
    throw new Error(`Could not load configuration file ${file}`);
  }
  for (const k of ["address", "port", "prefix", "metric"]) if (!(k in j)) throw new Error(`'${k}'`);
  return {
    address: String(j.address),
    port: Number(j.port),
    prefix: String(j.prefix),
    metric: String(j.metric),
  };
}

export interface StatsEntry {
  sum: number;
  diff: number;
  lastPulseTime: bigint;
}

export class GraphiteSender {
  private socket: Socket | undefined;
  sent = 0;
  private readonly cfg: GraphiteConfig;
  private readonly log: Logger;
  constructor(cfg: GraphiteConfig, log: Logger) {
    this.cfg = cfg;
    this.log = log;
  }

  private conn(): Socket {
    if (this.socket && !this.socket.destroyed) return this.socket;
    const s = createConnection({ host: this.cfg.address, port: this.cfg.port });
    s.on("error", (e) => {
      this.log.error(`Graphite: ${e.message}`);
      s.destroy();
    });
    this.socket = s;
    return s;
  }

  /** Lines for one round: one stats entry (or undefined) per histogram process index. */
  lines(stats: (StatsEntry | undefined)[]): string {
    let out = "";
    stats.forEach((s, p) => {
      if (!s) {
        this.log.error(`Could not publish statistics for process ${p}`);
        return;
      }
      const ts = Math.round(Number(s.lastPulseTime) / 1e9);
      const base = `${this.cfg.prefix}.${this.cfg.metric}${p}-0`;
      out += `${base}-sum ${s.sum} ${ts}\n${base}-diff ${s.diff} ${ts}\n`;
    });
    return out;
  }

  send(stats: (StatsEntry | undefined)[]): void {
    const text = this.lines(stats);
    if (!text) return;
    this.conn().write(text);
    this.sent++;
  }

  close(): void {
    this.socket?.end();
  }
}
