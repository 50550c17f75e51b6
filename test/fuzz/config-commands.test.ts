// Fuzzing the Kafka door's JSON commands: mutated config/stop/reset_counts messages (just-bin-it's formats, old and
// new) go through the same steps as Service.handle (json.loads-like parsing, validation, histd's limits) and the
// histogram factory; every input is refused with just-bin-it's kind of error text or builds bounded histograms.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CommandError,
  checkConfigLimits,
  parseCommand,
  parseCommandJson,
} from "../../src/kafka/config-commands.ts";
import { createHistogram } from "../../src/kafka/histograms.ts";
import { fuzz, mutate, mutateJson } from "../support/fuzz.ts";

const common = '"data_brokers": ["localhost:9092"], "data_topics": ["fake_events"], "topic": "output"';
const seeds = [
  `{"cmd": "config", "msg_id": "1", "histograms": [{"type": "hist1d", ${common}, "tof_range": [0, 100000000], "num_bins": 50, "id": "h1"}]}`,
  `{"cmd": "config", "input_schema": "ev44", "output_schema": "hs01", "start": 1600000000000, "stop": 1600000100000, "histograms": [{"type": "hist2d", ${common}, "tof_range": [0, 100000000], "det_range": [0, 100], "num_bins": [50, 20], "source": "det1"}]}`,
  `{"cmd": "config", "interval": 5, "histograms": [{"type": "dethist", ${common}, "det_range": [1, 6144], "width": 32, "height": 192}, {"type": "roihist", ${common}, "width": 3, "left_edges": [6, 11, 16]}]}`,
  `{"cmd": "config", "histograms": [{"type": "hist1d", ${common}, "tof_range": [0.5, 10.5], "det_range": [1, 5], "num_bins": [2, 3]}]}`,
  `{"data_brokers": ["localhost:9092"], "data_topics": ["fake_events"], "histograms": [{"num_dims": 1, "det_range": [0, 100000000], "num_bins": 50, "topic": "output"}, {"num_dims": 2, "det_range": [0, 100], "tof_range": [0, 1000], "num_bins": 10, "topic": "output"}]}`,
  '{"cmd": "stop", "msg_id": 7}',
  '{"cmd": "reset_counts", "msg_id": "r"}',
];
const limits = { maxCells: 1_000_000, maxBytes: 64 * 2 ** 20 };
const tof = Uint32Array.from({ length: 1000 }, (_, i) => i * 99_991);
const det = Uint32Array.from({ length: 1000 }, (_, i) => (i * 7) % 7000);

test("Kafka door commands: mutated JSON is refused with a clear text or builds bounded histograms", {
  timeout: 120_000,
}, async () => {
  const bytes = seeds.map((s) => new TextEncoder().encode(s));
  const report = await fuzz(
    { name: "config-commands", seed: 0xc0f1_6000, iterations: 150_000 },
    (r) => (r() < 0.8 ? new TextEncoder().encode(mutateJson(r, seeds)) : mutate(r, bytes)),
    (input) => {
      let msg: ReturnType<typeof parseCommandJson>;
      try {
        msg = parseCommandJson(input);
      } catch (e) {
        // Service.runCommands drops these (invalid UTF-8 is a TypeError, invalid JSON a SyntaxError).
        if (e instanceof SyntaxError || (e instanceof TypeError && /encoded data/.test(e.message)))
          return "undecodable";
        throw e;
      }
      let cmd: ReturnType<typeof parseCommand>;
      try {
        cmd = parseCommand(msg);
        if (cmd.cmd === "config") checkConfigLimits(cmd, limits);
      } catch (e) {
        if (!(e instanceof CommandError)) throw e;
        if (e.message.length < 3) throw new Error(`undescriptive ERR text: ${e.message}`);
        return "ERR";
      }
      if (cmd.cmd !== "config") return cmd.cmd;
      for (const spec of cmd.histograms) {
        let h: ReturnType<typeof createHistogram>;
        try {
          h = createHistogram(spec); // Service.startConfig logs "Could not create histogram" and skips it
        } catch (e) {
          if (
            !(
              e instanceof TypeError ||
              e instanceof RangeError ||
              (e as Error).name === "InvalidArgumentError"
            )
          )
            throw e;
          continue;
        }
        assert.ok(h.hist.cells <= limits.maxCells + 2, `${h.hist.cells} cells passed the limit`);
        h.add(tof, det);
        h.view();
      }
      return "ACK config";
    },
  );
  assert.ok((report.outcomes.get("ACK config") ?? 0) > 1000, "many mutations stay valid configs");
});
