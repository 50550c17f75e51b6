// Inputs the fuzzers found, kept as regression tests (each once crashed, hung or allocated without bound).
import assert from "node:assert/strict";
import { test } from "node:test";
import { HistError, histogramFromUhi, uhiFromJson } from "../../src/engine/index.ts";

const regular = (bins: number, storage: string) =>
  `{"uhi_schema": 1, "axes": [{"type": "regular", "lower": 0.0, "upper": 6.0, "bins": ${bins}, ` +
  `"underflow": false, "overflow": true, "circular": true}], "storage": ${storage}}`;

function rejects(text: string, code: string, re: RegExp, limits?: { maxCells: number }) {
  const ab = process.memoryUsage().arrayBuffers;
  assert.throws(
    () => histogramFromUhi(uhiFromJson(text, undefined, limits), limits),
    (e: unknown) => e instanceof HistError && e.code === code && re.test(e.message),
  );
  assert.ok(process.memoryUsage().arrayBuffers - ab < 64 * 2 ** 20, "nothing large was allocated");
}

test("UHI: dense storage of the wrong shape is refused before cells are allocated (was 7.6 GiB for 1e9 bins)", () => {
  rejects(
    regular(1e9, '{"type": "int", "values": [0, 1, 1, 0, 0, 1, 0]}'),
    "INVALID_ARGUMENT",
    /shape \[1000000001\]/,
  );
  // nested lists checked along every branch before allocating
  rejects(
    `{"uhi_schema": 1, "axes": [${'{"type": "regular", "lower": 0, "upper": 1, "bins": 30000, "underflow": false, "overflow": false},'.repeat(2).slice(0, -1)}], "storage": {"type": "double", "values": [[${"0,".repeat(29999)}0]]}}`,
    "INVALID_ARGUMENT",
    /must have shape \[30000, 30000\]/,
  );
});

test("UHI: cells beyond the limit are RESOURCE_EXHAUSTED before any storage is read (sparse or not)", () => {
  rejects(
    regular(3e9, '{"type": "double", "index": [[1]], "values": [2.0]}'),
    "RESOURCE_EXHAUSTED",
    /exceeds the limit of 2147483648 cells/,
  );
  rejects(
    regular(2e6, '{"type": "double", "index": [[1]], "values": [2.0]}'),
    "RESOURCE_EXHAUSTED",
    /limit of 1000000 cells/,
    { maxCells: 1e6 },
  );
  rejects(regular(2e6, '{"type": "double"}'), "RESOURCE_EXHAUSTED", /limit of 1000000 cells/, {
    maxCells: 1e6,
  });
  rejects(
    regular(4, '{"type": "double", "index": [[1, 2]], "values": [2.0]}'),
    "INVALID_ARGUMENT",
    /sparse 'index'/,
  );
  assert.throws(
    () => histogramFromUhi(uhiFromJson(regular(1000, '{"type": "mean"}')), { maxCells: 1e6, maxBytes: 1000 }),
    /histogram of 24024 bytes of mean storage exceeds the limit of 1000 bytes/,
  );
});

test("UHI: a transformed axis whose writer_info bins disagree with its edges is INVALID_ARGUMENT (was a RangeError)", () => {
  const text =
    '{"uhi_schema": 1, "axes": [{"type": "variable", "edges": [0.0, 1.0, 4.0, 9.0], "underflow": true, "overflow": true, ' +
    '"writer_info": {"boost-histogram": {"transform": "pow", "power": 0.5, "bins": true, "lower": 0, "upper": 9}}}], ' +
    '"storage": {"type": "double", "values": [0.0, 0.0, 1.5, 3.0, 0.0]}}';
  rejects(text, "INVALID_ARGUMENT", /4 edges but writer_info bins true/);
});
