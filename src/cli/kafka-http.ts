// `histd kafka` with the HTTP door (dashboard, REST, /metrics) on the process catalog the Kafka door publishes to.
/** `histd kafka` plus the HTTP door on the process's catalog: takes --http-port N (default 8080), --http-host
 * HOST, --http-tokens FILE and --no-http off the command line and passes the rest to the Kafka door. */
export async function runKafkaWithHttp(argv: string[]): Promise<number> {
  const rest: string[] = [];
  const o: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^--(http-port|http-host|http-tokens)(?:=(.*))?$/.exec(a);
    if (m) o[m[1]] = m[2] ?? argv[++i] ?? "";
    else if (a === "--no-http") o["no-http"] = true;
    else rest.push(a);
  }
  const { runKafka } = await import("../kafka/cli-kafka.ts");
  if (o["no-http"] || argv.includes("-h") || argv.includes("--help")) return runKafka(rest);
  const { defaultCatalog } = await import("../catalog/index.ts");
  const { startHttpDoor } = await import("../grpc/serve.ts");
  const { readFileSync } = await import("node:fs");
  const tokens =
    typeof o["http-tokens"] === "string"
      ? new Set(
          readFileSync(o["http-tokens"], "utf8")
            .split("\n")
            .map((l) => l.trim())
            .filter((l) => l !== "" && !l.startsWith("#")),
        )
      : undefined;
  const http = await startHttpDoor({
    catalog: defaultCatalog,
    host: typeof o["http-host"] === "string" ? o["http-host"] : "::",
    port: typeof o["http-port"] === "string" ? o["http-port"] : undefined,
    tokens,
    warn: (m) => console.error(m),
  });
  if (http) console.error(`Dashboard and HTTP API at ${http.url}`);
  try {
    return await runKafka(rest, "histd kafka", defaultCatalog);
  } finally {
    await http?.close();
  }
}
