// histd's limits on the Kafka door (--max-cells, --max-bytes): a config beyond them gets ERR with a clear text
// and the running histograms keep going. Driven through Service.handle, the path of a command off the config
// topic (in simulation mode, so no broker is needed).
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseServiceOptions } from "../../src/kafka/options.ts";
import { Service } from "../../src/kafka/service.ts";

const common = { data_brokers: ["localhost:9092"], data_topics: ["fake_events"], topic: "output" };
const hist1d = (id: string, bins: number) => ({
  type: "hist1d",
  ...common,
  tof_range: [0, 1e8],
  num_bins: bins,
  id,
});

test("--max-cells and --max-bytes: a config beyond them is refused with ERR; nothing else changes", async () => {
  const opts = parseServiceOptions([
    "-b",
    "localhost:9092",
    "-t",
    "cmds",
    "-s",
    "--max-cells",
    "1000",
    "--max-bytes",
    "12000",
  ]);
  assert.equal(opts.maxCells, 1000);
  assert.equal(opts.maxBytes, 12000);
  const errors: string[] = [];
  const log = { debug() {}, info() {}, warning() {}, critical() {}, error: (m: string) => errors.push(m) };
  const service = new Service(opts, log, { fillThreads: 0 });
  service.noOutput = true; // no broker here: simulated histograms are not published
  const jobs = () => (service as unknown as { jobs: { spec: { id: string }; done: boolean }[] }).jobs;
  try {
    await service.handle({ cmd: "config", msg_id: "1", histograms: [hist1d("a", 1000)] });
    assert.deepEqual(errors, []);
    const running = jobs();
    assert.deepEqual(
      running.map((j) => j.spec.id),
      ["a"],
    );
    await service.handle({ cmd: "config", msg_id: "2", histograms: [hist1d("b", 10), hist1d("big", 1001)] });
    assert.match(
      errors.at(-1) ?? "",
      /Histogram 'big' \(hist1d\) has 1001 bins, more than this service's limit of 1000 \(--max-cells\)/,
    );
    await service.handle({ cmd: "config", msg_id: "3", histograms: [hist1d("c", 800), hist1d("d", 800)] });
    assert.match(
      errors.at(-1) ?? "",
      /need 12800 bytes, more than this service's limit of 12000 bytes \(--max-bytes\)/,
    );
    await service.handle({
      cmd: "config",
      msg_id: "4",
      histograms: [{ type: "dethist", ...common, det_range: [0, 1], width: 100000, height: 100000 }],
    });
    assert.match(errors.at(-1) ?? "", /Histogram #0 \(dethist\) has 10000000000 bins/);
    assert.equal(jobs(), running, "the running config was not touched");
    assert.equal(running[0].done, false);
    await service.handle({ cmd: "config", msg_id: "5", histograms: [hist1d("e", 700), hist1d("f", 700)] });
    assert.equal(errors.length, 3, errors.join("\n"));
    assert.deepEqual(
      jobs().map((j) => j.spec.id),
      ["e", "f"],
    );
  } finally {
    await service.close();
  }
});
