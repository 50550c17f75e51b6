// The partials topic's records and the table that merges them (scale-out): what is kept per partition, what
// counts after a reset_counts, what another config's partials do, and that damaged records are refused.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type CommandState,
  decodeRecord,
  encodeCommands,
  encodePartial,
  type Partial,
  PartialTable,
} from "../../src/kafka/partials.ts";

function partial(o: {
  partition: number;
  offset: number;
  reset?: number;
  config?: number;
  value?: number;
}): Partial {
  const counts = [Float64Array.of(o.value ?? o.offset, 1, 2), Float64Array.of(5)];
  return {
    meta: {
      kind: "histd-partial",
      seq: 0,
      config: o.config ?? 7,
      reset: o.reset ?? -1,
      topic: "b|data",
      partition: o.partition,
      offset: String(o.offset),
      caughtUp: false,
      command: 7,
      instance: "i",
      takenAt: 1,
      lengths: counts.map((c) => c.length),
      jobs: [
        { started: true, stopExceeded: false, lastPulseTime: "123456789012345678" },
        { started: false, stopExceeded: false, lastPulseTime: "0" },
      ],
    },
    counts,
  };
}

test("a partial and the command state survive encoding; damaged bytes are refused", () => {
  const p = partial({ partition: 2, offset: 40 });
  const back = decodeRecord(encodePartial(p));
  assert.ok(!("kind" in back));
  assert.deepEqual(back.meta, p.meta);
  assert.deepEqual(back.counts, p.counts);
  const c: CommandState = {
    kind: "histd-commands",
    seq: 0,
    configOffsets: { "0": "12" },
    config: { text: '{"cmd": "config"}', timestampMs: 5, offset: 11 },
    reset: -1,
    lengths: [],
  };
  assert.deepEqual(decodeRecord(encodeCommands(c)), c);
  const bytes = encodePartial(p);
  for (const at of [0, 30, bytes.length - 20, bytes.length - 1]) {
    const bad = Buffer.from(bytes);
    bad[at] ^= 0x40;
    assert.throws(() => decodeRecord(bad));
  }
  assert.throws(() => decodeRecord(bytes.subarray(0, bytes.length - 3)));
  assert.throws(() => decodeRecord(Buffer.from("{}")));
});

test("the table keeps each partition's newest partial: by reset, then offset; other configs are ignored", () => {
  const t = new PartialTable();
  t.use(7, -1);
  t.offer(partial({ partition: 0, offset: 10 }));
  t.offer(partial({ partition: 0, offset: 30 }));
  const v0 = t.version;
  t.offer(partial({ partition: 0, offset: 20 })); // late, from an instance that lost the partition: older
  t.offer(partial({ partition: 1, offset: 99, config: 3 })); // the previous config's
  assert.equal(t.version, v0, "partials the table does not take leave its version (no merge)");
  t.offer(partial({ partition: 1, offset: 5 }));
  assert.ok(t.version > v0, "a partial taken changes the version");
  assert.equal(t.get("b|data", 0)?.meta.offset, "30");
  assert.equal(t.get("b|data", 1)?.meta.offset, "5");
  assert.equal(t.ofTopic("b|data").length, 2);
  assert.equal(t.ofTopic("other").length, 0);
  // After a reset_counts (command offset 50), older partials still give their offset but no counts.
  const v1 = t.version;
  t.resetAt(50);
  assert.ok(t.version > v1, "a reset changes the version");
  assert.equal(t.current(t.get("b|data", 0) as Partial), false);
  t.offer(partial({ partition: 0, offset: 31, reset: 50, value: 0 }));
  t.offer(partial({ partition: 0, offset: 40 })); // pre-reset, higher offset: still loses to the reset one
  assert.equal(t.get("b|data", 0)?.meta.offset, "31");
  assert.equal(t.current(t.get("b|data", 0) as Partial), true);
  // A new config starts empty.
  t.use(8, -1);
  assert.equal(t.ofTopic("b|data").length, 0);
});
