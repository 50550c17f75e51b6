// Fuzzing the FlatBuffers decoders (ev42, ev44, hs00, hs01, x5f2) with mutations of the golden messages: every
// input decodes or fails with a descriptive FormatError, fast, without growing memory. Decoded event messages are
// also filled into just-bin-it histograms, as the Kafka door's fill workers do.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "node:test";
import { decodeMessage, FormatError } from "../../src/formats/flatbuffers/index.ts";
import { parseCommand } from "../../src/kafka/config-commands.ts";
import { createHistogram } from "../../src/kafka/histograms.ts";
import { fuzz, mutate } from "../support/fuzz.ts";
import { sharedDir } from "../support/python.ts";

const goldenDir = resolve(sharedDir, "golden");
const files = [
  "example_ev42_fb.dat",
  "example_ev44_fb.dat",
  "example_hs00_fb.dat",
  ...readdirSync(resolve(goldenDir, "python-sdt-generated"))
    .filter((f) => f.endsWith(".bin"))
    .map((f) => `python-sdt-generated/${f}`),
  ...readdirSync(resolve(goldenDir, "python-sdt-tests")).map((f) => `python-sdt-tests/${f}`),
];
const seeds = files.map((f) => new Uint8Array(readFileSync(resolve(goldenDir, f))));

function jbi(json: object) {
  const cmd = parseCommand(JSON.parse(JSON.stringify(json)));
  if (cmd.cmd !== "config") throw new Error("not a config");
  return cmd.histograms.map(createHistogram);
}
const base = { topic: "out", data_topics: ["ev"], data_brokers: ["b"] };
const hists = jbi({
  cmd: "config",
  histograms: [
    { ...base, type: "hist1d", tof_range: [0, 100_000_000], num_bins: 50 },
    { ...base, type: "hist2d", tof_range: [0, 100_000_000], det_range: [0, 100], num_bins: [10, 10] },
    { ...base, type: "dethist", det_range: [1, 10_000], width: 100, height: 100 },
    { ...base, type: "roihist", width: 5, left_edges: [1, 11, 21] },
  ],
});

test("FlatBuffers decoders: mutated golden messages decode or fail with a FormatError", {
  timeout: 120_000,
}, async () => {
  assert.ok(seeds.length > 20, "golden messages found");
  const report = await fuzz(
    { name: "flatbuffers", seed: 0x5eed_f1a7, iterations: 200_000 },
    (r) => mutate(r, seeds),
    (input) => {
      let msg: ReturnType<typeof decodeMessage>;
      try {
        msg = decodeMessage(input);
      } catch (e) {
        if (!(e instanceof FormatError)) throw e;
        if (e.message.length < 10) throw new Error(`undescriptive FormatError: ${e.message}`);
        return "FormatError";
      }
      if (msg.schema === "ev42" || msg.schema === "ev44") {
        const tof = msg.timeOfFlight;
        const det = msg.schema === "ev42" ? msg.detectorId : msg.pixelId;
        for (const h of hists) h.add(tof, det);
      }
      return `ok ${msg.schema}`;
    },
  );
  assert.ok((report.outcomes.get("FormatError") ?? 0) > 1000, "most mutations are detected");
});
