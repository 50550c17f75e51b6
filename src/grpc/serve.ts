// `histd serve` (also installed as `haas-server`): the seed's flags and log lines, plus histd's own options.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { Catalog } from "../catalog/index.ts";
import { type Histogram, histogramFromUhi, uhiFromJson } from "../engine/index.ts";
import { DurableState } from "../state/durable.ts";
import { pythonLogger } from "./log.ts";
import { histRepr } from "./repr.ts";
import { startServer } from "./server.ts";

const HELP = `Usage: histd serve [options]        (also installed as haas-server)

  -p, --port N            port to listen on (default 0: any free port)
  -w, --max-workers N     accepted for the seed's command line; fills of one histogram run one at a time
      --hist-ir JSON|@FILE  the seed's one histogram, UHI JSON text or @path (served at /Histogrammer/*
                          and as histd.v1 id "default"); without it, the demo: example/hist_ir.json is
                          loaded and a simulated event stream fills three live histograms (see --no-demo)
      --no-demo           without --hist-ir, serve only the multi-histogram APIs (no example, no stream)
      --http-port N       the dashboard, REST API and /metrics (default 8080; 0: any free port);
                          if the default port is taken, histd serves without HTTP and says so
      --http-host HOST    address for HTTP (default: --host)
      --no-http           no HTTP at all
      --host HOST         address to bind (default [::])
      --output-dir DIR    where flush/export write; destinations must stay inside (default: cwd)
      --tokens FILE       require 'authorization: Bearer <token>' with a token listed in FILE (one a line)
      --tls-cert FILE --tls-key FILE   serve TLS
      --max-histograms N  (default 10000)    --max-bytes N  storage bytes over all histograms (default: no limit)
      --max-message-mib N largest request or response (default 512)
      --max-cells N       most cells (bins with flow) one histogram may have (default 2147483648)
      --max-histograms-per-token N  most histograms one bearer token (or anonymous) may hold (default: no limit)
      --state-dir DIR     checkpoint every histogram into DIR and restore them on start
      --checkpoint-interval S   seconds between checkpoints (default 5)
      --wal               with --state-dir: a write-ahead log, so every acknowledged histd.v1 change
                          survives a crash (fills are acknowledged once fsync'd, in groups)`;

function loadIr(arg: string, maxCells: number | undefined): Histogram {
  const text = arg.startsWith("@") ? readFileSync(arg.slice(1), "utf8") : arg;
  const limits = maxCells === undefined ? undefined : { maxCells };
  return histogramFromUhi(uhiFromJson(text, undefined, limits), limits);
}

export async function runServe(argv: string[]): Promise<number> {
  const { values: o } = parseArgs({
    args: argv,
    options: {
      port: { type: "string", short: "p", default: "0" },
      "max-workers": { type: "string", short: "w", default: "1" },
      "hist-ir": { type: "string" },
      host: { type: "string", default: "[::]" },
      "output-dir": { type: "string" },
      tokens: { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "max-histograms": { type: "string" },
      "max-bytes": { type: "string" },
      "max-cells": { type: "string" },
      "max-histograms-per-token": { type: "string" },
      "max-message-mib": { type: "string", default: "512" },
      "no-demo": { type: "boolean" },
      "http-port": { type: "string" },
      "http-host": { type: "string" },
      "no-http": { type: "boolean" },
      "state-dir": { type: "string" },
      "checkpoint-interval": { type: "string", default: "5" },
      wal: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (o.help) {
    console.log(HELP);
    return 0;
  }
  const log = pythonLogger("haas-server");
  const demo = o["hist-ir"] === undefined && !o["no-demo"];
  const irArg =
    o["hist-ir"] ?? (demo ? `@${resolve(import.meta.dirname, "../../example/hist_ir.json")}` : undefined);
  const maxCells = o["max-cells"] ? Number(o["max-cells"]) : undefined;
  const hist = irArg === undefined ? undefined : loadIr(irArg, maxCells);
  if (hist) log.info(`Histogram setup successfully: ${histRepr(hist)}`);
  const tokens = o.tokens
    ? new Set(
        readFileSync(o.tokens, "utf8")
          .split("\n")
          .map((l) => l.trim())
          .filter((l) => l !== "" && !l.startsWith("#")),
      )
    : undefined;
  if ((o["tls-cert"] === undefined) !== (o["tls-key"] === undefined)) {
    console.error("histd serve: --tls-cert and --tls-key go together");
    return 2;
  }
  if (o.wal && o["state-dir"] === undefined) {
    console.error("histd serve: --wal needs --state-dir");
    return 2;
  }
  const interval = Number(o["checkpoint-interval"]);
  if (!(interval > 0)) {
    console.error("histd serve: --checkpoint-interval must be a positive number of seconds");
    return 2;
  }
  const state =
    o["state-dir"] === undefined
      ? undefined
      : new DurableState({ dir: resolve(o["state-dir"]), wal: o.wal === true, intervalS: interval, log });
  const catalog = new Catalog();
  const s = await startServer({
    host: o.host,
    port: Number(o.port),
    log,
    seedHistogram: hist,
    outputDir: resolve(o["output-dir"] ?? "."),
    tokens,
    tls: o["tls-cert"] ? { cert: o["tls-cert"], key: o["tls-key"]! } : undefined,
    maxHistograms: o["max-histograms"] ? Number(o["max-histograms"]) : undefined,
    maxBytes: o["max-bytes"] ? Number(o["max-bytes"]) : undefined,
    maxCells,
    maxHistogramsPerToken: o["max-histograms-per-token"] ? Number(o["max-histograms-per-token"]) : undefined,
    maxMessageBytes: Number(o["max-message-mib"]) * 1024 * 1024,
    catalog,
    state,
  });
  log.info(
    `Histogram server started, listening on ${o.host}:${s.port} with max_workers=${Number(o["max-workers"])}`,
  );
  const stream = demo ? (await import("../demo/stream.ts")).startDemoStream(catalog) : undefined;
  const http = o["no-http"]
    ? undefined
    : await startHttpDoor({
        catalog,
        host: o["http-host"] ?? o.host,
        port: o["http-port"],
        tokens,
        warn: (m) => log.warn(m),
      });
  if (http) log.info(`Dashboard and HTTP API at ${http.url}${demo ? " (demo: simulated events)" : ""}`);
  await new Promise<void>((res) => {
    const stop = () => {
      stream?.stop();
      Promise.all([s.close(), http?.close()]).then(() => res());
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  return 0;
}

/** Starts the HTTP door; on the default port (8080) a port already taken is a warning, not an error. */
export async function startHttpDoor(o: {
  catalog: Catalog;
  host: string;
  port: string | undefined;
  tokens: Set<string> | undefined;
  warn: (message: string) => void;
}): Promise<import("../http/server.ts").HttpServer | undefined> {
  const { startHttp } = await import("../http/server.ts");
  const host = o.host.replace(/^\[(.*)\]$/, "$1");
  try {
    return await startHttp({ catalog: o.catalog, host, port: Number(o.port ?? 8080), tokens: o.tokens });
  } catch (e) {
    if (o.port === undefined && (e as NodeJS.ErrnoException).code === "EADDRINUSE") {
      o.warn("HTTP port 8080 is taken: serving without the dashboard (use --http-port)");
      return undefined;
    }
    throw e;
  }
}
