#!/usr/bin/env node
// histd's command-line entry: one binary, one subcommand per job.
interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

const commands: Record<string, Command> = {
  demo: {
    summary: "fill the example histogram with simulated events and print it (no Kafka, no network)",
    run: async (argv) => (await import("./demo.ts")).runDemo(argv),
  },
  kafka: {
    summary: "the just-bin-it service: JSON commands on a config topic, ev42/ev44 in, hs00/hs01 out",
    run: async (argv) => (await import("./kafka-http.ts")).runKafkaWithHttp(argv),
  },
  generate: {
    summary: "produce fake, roughly Gaussian ev42/ev44 event data to a Kafka topic",
    run: async (argv) => (await import("../kafka/cli-tools.ts")).runGenerate(argv),
  },
  "view-output": {
    summary: "print the hs00/hs01 messages of a topic as they arrive",
    run: async (argv) => (await import("../kafka/cli-tools.ts")).runViewOutput(argv),
  },
  viewer: {
    summary: "plot the latest histogram of a topic to a PNG file and the terminal",
    run: async (argv) => (await import("../kafka/cli-tools.ts")).runViewer(argv),
  },
  serve: {
    summary: "gRPC server: the seed's haas-server protocol, HaaS's HistogrammerService and histd.v1",
    run: async (argv) => (await import("../grpc/serve.ts")).runServe(argv),
  },
};

function usage(): string {
  const lines = ["Usage: histd <command> [options]", "", "Commands:"];
  for (const [name, c] of Object.entries(commands)) lines.push(`  ${name.padEnd(14)}${c.summary}`);
  lines.push("", "Run `histd <command> --help` for a command's options.");
  return lines.join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V") {
    console.log("histd 0.1.0");
    return 0;
  }
  const cmd = commands[name];
  if (!cmd) {
    console.error(`histd: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  return cmd.run(rest);
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    },
  );
}
