// just-bin-it's command line (bin/just-bin-it.py via configargparse, just-bin-it.md §1.1) plus the older
// `--topic` and `-o/--one-shot-plot`: flags, `-b` taking several values, and `-c` files of `key = value` lines.
import { readFileSync } from "node:fs";
import type { SecurityFlags } from "./security.ts";

export interface ServiceOptions extends SecurityFlags {
  brokers: string[];
  configTopic: string;
  hbTopic?: string | undefined;
  responseTopic?: string | undefined;
  graphiteConfigFile?: string | undefined;
  simulationMode: boolean;
  logLevel: number;
  oneShotPlot: boolean;
  /** histd's limits: most bins per histogram, most storage bytes over a config's histograms. */
  maxCells?: number | undefined;
  maxBytes?: number | undefined;
  /** Durable state: checkpoint directory and interval (seconds). */
  stateDir?: string | undefined;
  checkpointIntervalS?: number | undefined;
  /** Scale-out: the consumer group shared with other instances, and the topic of their partial histograms. */
  group?: string | undefined;
  partialsTopic?: string | undefined;
}

export interface FlagSpec {
  /** Destination key. */
  key: string;
  names: string[];
  kind: "list" | "string" | "int" | "number" | "flag";
  help: string;
  metavar?: string;
}

export class UsageError extends Error {}

/** Parses `argv` against `specs`; values from a `-c` file come first, the command line overrides them. */
export function parseFlags(argv: string[], specs: FlagSpec[]): Record<string, unknown> {
  const byName = new Map<string, FlagSpec>();
  for (const s of specs) for (const n of s.names) byName.set(n, s);
  const out: Record<string, unknown> = {};
  const cfgSpec = specs.find((s) => s.key === "configFile");
  const set = (s: FlagSpec, v: string[], src: Record<string, unknown>) => {
    if (s.kind === "flag") src[s.key] = true;
    else if (s.kind === "list") src[s.key] = v;
    else if (s.kind === "int") {
      const n = Number(v[0]);
      if (!Number.isInteger(n))
        throw new UsageError(`argument ${s.names.join("/")}: invalid int value: '${v[0]}'`);
      src[s.key] = n;
    } else if (s.kind === "number") {
      const n = Number(v[0]);
      if (v[0].trim() === "" || !Number.isFinite(n) || n <= 0)
        throw new UsageError(`argument ${s.names.join("/")}: invalid positive number: '${v[0]}'`);
      src[s.key] = n;
    } else src[s.key] = v[0];
  };
  const cli: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let inline: string | undefined;
    const eq = a.startsWith("--") ? a.indexOf("=") : -1;
    if (eq > 0) {
      inline = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const s = byName.get(a);
    if (!s) throw new UsageError(`unrecognized arguments: ${argv[i]}`);
    if (s.kind === "flag") {
      set(s, [], cli);
      continue;
    }
    const vals: string[] = inline !== undefined ? [inline] : [];
    if (inline === undefined) {
      while (
        i + 1 < argv.length &&
        !(argv[i + 1].startsWith("-") && argv[i + 1].length > 1 && Number.isNaN(Number(argv[i + 1])))
      ) {
        vals.push(argv[++i]);
        if (s.kind !== "list") break;
      }
    }
    if (vals.length === 0)
      throw new UsageError(
        `argument ${s.names.join("/")}: expected ${s.kind === "list" ? "at least one argument" : "one argument"}`,
      );
    set(s, vals, cli);
  }
  const file = cli[cfgSpec?.key ?? ""] as string | undefined;
  if (file) Object.assign(out, parseConfigFile(readFileSync(file, "utf8"), specs));
  Object.assign(out, cli);
  return out;
}

/** configargparse's default format: `key = value`, `key: value` or `key value`; `[a, b]` lists; # and ; comments. */
export function parseConfigFile(text: string, specs: FlagSpec[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";") || (line.startsWith("[") && line.endsWith("]")))
      continue;
    const m = /^([^=:\s]+)\s*(?:[=:]\s*|\s+)?(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1];
    let value = m[2].trim();
    const s = specs.find((x) => x.names.includes(`--${key}`));
    if (!s) throw new UsageError(`unrecognized arguments in config file: ${key}`);
    if (s.kind === "flag") {
      if (value === "" || value.toLowerCase() === "true") out[s.key] = true;
      continue;
    }
    if (s.kind === "list") {
      if (value.startsWith("[") && value.endsWith("]")) value = value.slice(1, -1);
      out[s.key] = value
        .split(",")
        .map((x) => x.trim().replace(/^['"]|['"]$/g, ""))
        .filter(Boolean);
    } else if (s.kind === "int") out[s.key] = Number(value);
    else out[s.key] = value;
  }
  return out;
}

export function helpText(prog: string, specs: FlagSpec[]): string {
  const lines = [`usage: ${prog} [options]`, ""];
  for (const s of specs) {
    const names = s.names.join(", ") + (s.kind === "flag" ? "" : ` ${s.metavar ?? s.key.toUpperCase()}`);
    lines.push(`  ${names}`, `      ${s.help}`);
  }
  return lines.join("\n");
}

export const securitySpecs: FlagSpec[] = [
  {
    key: "securityProtocol",
    names: ["--security-protocol"],
    kind: "string",
    help: "Kafka security protocol",
  },
  { key: "saslMechanism", names: ["--sasl-mechanism"], kind: "string", help: "Kafka SASL mechanism" },
  { key: "saslUsername", names: ["--sasl-username"], kind: "string", help: "Kafka SASL username" },
  { key: "saslPassword", names: ["--sasl-password"], kind: "string", help: "Kafka SASL password" },
  { key: "sslCafile", names: ["--ssl-cafile"], kind: "string", help: "Kafka SSL CA certificate path" },
];

export const serviceSpecs: FlagSpec[] = [
  {
    key: "brokers",
    names: ["-b", "--brokers"],
    kind: "list",
    help: "the broker addresses (required)",
    metavar: "BROKERS [BROKERS ...]",
  },
  {
    key: "configTopic",
    names: ["-t", "--config-topic", "--topic"],
    kind: "string",
    help: "the configuration topic (required)",
  },
  {
    key: "hbTopic",
    names: ["-hb", "--hb-topic"],
    kind: "string",
    help: "the topic where the heartbeat is published",
  },
  {
    key: "responseTopic",
    names: ["-rt", "--response-topic"],
    kind: "string",
    help: "the topic where the response messages to commands are published",
  },
  {
    key: "graphiteConfigFile",
    names: ["-g", "--graphite-config-file"],
    kind: "string",
    help: "configuration file for publishing to Graphite",
  },
  {
    key: "simulationMode",
    names: ["-s", "--simulation-mode"],
    kind: "flag",
    help: "runs the program in simulation mode",
  },
  {
    key: "logLevel",
    names: ["-l", "--log-level"],
    kind: "int",
    help: "sets the logging level: debug=1, info=2, warning=3, error=4, critical=5.",
  },
  { key: "configFile", names: ["-c", "--config-file"], kind: "string", help: "configuration file" },
  {
    key: "oneShotPlot",
    names: ["-o", "--one-shot-plot"],
    kind: "flag",
    help: "runs until some data is histogrammed, plots it (PNG + terminal) and exits; publishes nothing",
  },
  {
    key: "maxCells",
    names: ["--max-cells"],
    kind: "int",
    help: "histd: most bins one histogram may have; a config asking for more gets ERR (default 2147483648)",
  },
  {
    key: "maxBytes",
    names: ["--max-bytes"],
    kind: "int",
    help: "histd: most storage bytes (8 per bin) the histograms of one config may take; beyond, ERR (default: no limit)",
  },
  {
    key: "stateDir",
    names: ["--state-dir"],
    kind: "string",
    help: "histd: checkpoint the histograms with the data topics' offsets into this directory and resume from it on start (exactly-once counting across crashes)",
    metavar: "DIR",
  },
  {
    key: "checkpointIntervalS",
    names: ["--checkpoint-interval"],
    kind: "number",
    help: "histd: seconds between checkpoints with --state-dir (default 5), or between partials with --group (default 1); spaced further for very large histograms, to keep them under ~5% of the time",
    metavar: "S",
  },
  {
    key: "group",
    names: ["--group"],
    kind: "string",
    help: "histd: share the data topics' partitions with every instance of this group (Kafka consumer groups); partial histograms are merged through a Kafka topic and one instance publishes the result",
    metavar: "NAME",
  },
  {
    key: "partialsTopic",
    names: ["--partials-topic"],
    kind: "string",
    help: "histd: with --group, the compacted topic of partial histograms (default histd-partials.NAME)",
    metavar: "TOPIC",
  },
  ...securitySpecs,
];

export function parseServiceOptions(argv: string[]): ServiceOptions {
  const v = parseFlags(argv, serviceSpecs);
  const missing = [];
  if (!v.brokers) missing.push("-b/--brokers");
  if (!v.configTopic) missing.push("-t/--config-topic");
  if (missing.length) throw new UsageError(`the following arguments are required: ${missing.join(", ")}`);
  if (v.group !== undefined && v.stateDir !== undefined)
    throw new UsageError(
      "--group keeps its state in Kafka (the partials topic); --state-dir is for one instance",
    );
  return {
    brokers: v.brokers as string[],
    configTopic: v.configTopic as string,
    hbTopic: v.hbTopic as string | undefined,
    responseTopic: v.responseTopic as string | undefined,
    graphiteConfigFile: v.graphiteConfigFile as string | undefined,
    simulationMode: v.simulationMode === true,
    logLevel: (v.logLevel as number | undefined) ?? 3,
    oneShotPlot: v.oneShotPlot === true,
    maxCells: v.maxCells as number | undefined,
    maxBytes: v.maxBytes as number | undefined,
    stateDir: v.stateDir as string | undefined,
    checkpointIntervalS: v.checkpointIntervalS as number | undefined,
    group: v.group as string | undefined,
    partialsTopic: v.partialsTopic as string | undefined,
    securityProtocol: v.securityProtocol as string | undefined,
    saslMechanism: v.saslMechanism as string | undefined,
    saslUsername: v.saslUsername as string | undefined,
    saslPassword: v.saslPassword as string | undefined,
    sslCafile: v.sslCafile as string | undefined,
  };
}
