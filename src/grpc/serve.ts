// `histd serve` (also installed as `haas-server`): the seed's flags and log lines, plus histd's own options.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { type Histogram, histogramFromUhi, uhiFromJson } from "../engine/index.ts";
import { pythonLogger } from "./log.ts";
import { histRepr } from "./repr.ts";
import { startServer } from "./server.ts";

const HELP = `Usage: histd serve [options]        (also installed as haas-server)

  -p, --port N            port to listen on (default 0: any free port)
  -w, --max-workers N     accepted for the seed's command line; fills of one histogram run one at a time
      --hist-ir JSON|@FILE  the seed's one histogram, UHI JSON text or @path (served at /Histogrammer/*
                          and as histd.v1 id "default"); without it only the multi-histogram APIs serve
      --host HOST         address to bind (default [::])
      --output-dir DIR    where flush/export write; destinations must stay inside (default: cwd)
      --tokens FILE       require 'authorization: Bearer <token>' with a token listed in FILE (one a line)
      --tls-cert FILE --tls-key FILE   serve TLS
      --max-histograms N  (default 10000)    --max-bytes N  storage bytes over all histograms (default: no limit)
      --max-message-mib N largest request or response (default 512)`;

function loadIr(arg: string): Histogram {
  const text = arg.startsWith("@") ? readFileSync(arg.slice(1), "utf8") : arg;
  return histogramFromUhi(uhiFromJson(text));
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
      "max-message-mib": { type: "string", default: "512" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (o.help) {
    console.log(HELP);
    return 0;
  }
  const log = pythonLogger("haas-server");
  const hist = o["hist-ir"] === undefined ? undefined : loadIr(o["hist-ir"]);
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
    maxMessageBytes: Number(o["max-message-mib"]) * 1024 * 1024,
  });
  log.info(
    `Histogram server started, listening on ${o.host}:${s.port} with max_workers=${Number(o["max-workers"])}`,
  );
  await new Promise<void>((res) => {
    const stop = () => {
      s.close().then(res);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  return 0;
}
