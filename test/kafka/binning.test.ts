// just-bin-it's binning, checked against numpy on the same events: values on and next to every edge, outside
// the ranges, equal range ends, uneven ranges; plus the worked examples of just-bin-it.md §3 and the
// command-parsing and info-JSON rules.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CommandError,
  type HistogramSpec,
  parseCommand,
  parseCommandJson,
} from "../../src/kafka/config-commands.ts";
import { createHistogram } from "../../src/kafka/histograms.ts";
import { HistogramState, pyFloatRepr } from "../../src/kafka/info.ts";
import { runPythonJson } from "../support/python.ts";
import { numpyExpected, spec } from "./jbi-support.ts";

/** Events on every edge of both axes (±1), plus random ones, from numpy's own linspace edges. */
function edgeEvents(
  tr: [number, number],
  dr: [number, number],
  bins: [number, number],
): { tof: number[]; det: number[] } {
  const e = runPythonJson<[number[], number[]]>(
    `import json,numpy as np; a=json.loads(input()); print(json.dumps([np.linspace(*a[0], a[2][0]+1).tolist(), np.linspace(*a[1], a[2][1]+1).tolist()]))`,
    JSON.stringify([tr, dr, bins]),
  );
  const pts = (edges: number[]) =>
    edges.flatMap((x) => [Math.floor(x) - 1, Math.floor(x), Math.ceil(x), Math.ceil(x) + 1]);
  const tofs = pts(e[0]);
  const dets = pts(e[1]);
  const tof: number[] = [];
  const det: number[] = [];
  for (const t of tofs)
    for (const d of dets) {
      tof.push(t);
      det.push(d);
    }
  let s = 7;
  for (let i = 0; i < 20000; i++) {
    s = (s * 48271) % 2147483647;
    tof.push(Math.round(tr[0] - 10 + ((tr[1] - tr[0] + 20) * s) / 2147483647));
    s = (s * 48271) % 2147483647;
    det.push(Math.round(dr[0] - 10 + ((dr[1] - dr[0] + 20) * s) / 2147483647));
  }
  return { tof, det };
}

function fill(s: HistogramSpec, tof: number[], det: number[]): number[] {
  const h = createHistogram(s);
  h.add(Int32Array.from(tof), Int32Array.from(det));
  return [...h.view().data];
}

describe("binning equals numpy's", () => {
  const cases: { tr: [number, number]; dr: [number, number]; bins: [number, number] }[] = [
    { tr: [0, 100000000], dr: [1, 512], bins: [50, 50] },
    { tr: [3, 1003], dr: [-7, 93], bins: [7, 13] },
    { tr: [0, 71000000], dr: [0, 1000000], bins: [333, 97] },
    { tr: [5, 5], dr: [10, 10], bins: [3, 2] },
  ];
  for (const c of cases) {
    it(`hist1d, hist1d+det_range, hist2d over tof ${c.tr} det ${c.dr} bins ${c.bins}`, () => {
      const { tof, det } = edgeEvents(c.tr, c.dr, c.bins);
      const h1 = spec({ type: "hist1d", tofRange: c.tr, numBins: c.bins[0] });
      assert.deepEqual(
        fill(h1, tof, det),
        numpyExpected({ type: "hist1d", tof_range: c.tr, num_bins: c.bins[0] }, tof, det),
      );
      const h1d = spec({ type: "hist1d", tofRange: c.tr, detRange: c.dr, numBins: c.bins[0] });
      assert.deepEqual(
        fill(h1d, tof, det),
        numpyExpected({ type: "hist1d", tof_range: c.tr, det_range: c.dr, num_bins: c.bins[0] }, tof, det),
      );
      const h2 = spec({ type: "hist2d", tofRange: c.tr, detRange: c.dr, numBins: c.bins });
      assert.deepEqual(
        fill(h2, tof, det),
        numpyExpected({ type: "hist2d", tof_range: c.tr, det_range: c.dr, num_bins: c.bins }, tof, det),
      );
    });
  }

  it("dethist and roihist", () => {
    const { tof, det } = edgeEvents([0, 10], [0, 700], [1, 70]);
    const d = spec({ type: "dethist", detRange: [3, 99999], width: 32, height: 19 });
    assert.deepEqual(
      fill(d, tof, det),
      numpyExpected({ type: "dethist", det_range: [3, 3 + 32 * 19], width: 32, height: 19 }, tof, det),
    );
    const r = spec({ type: "roihist", width: 7, leftEdges: [16, 23, 40, 300] });
    assert.deepEqual(
      fill(r, tof, det),
      numpyExpected({ type: "roihist", width: 7, left_edges: [16, 23, 40, 300] }, tof, det),
    );
  });

  it("the worked examples of just-bin-it.md §3", () => {
    assert.deepEqual(
      fill(
        spec({ type: "hist1d", tofRange: [0, 5], numBins: 5 }),
        // Integer ids (the event arrays are int32/uint32): the last bin is closed, 5 counts, 6 does not.
        [-1, 0, 1, 4, 5, 6],
        [],
      ),
      [1, 1, 0, 0, 2],
    );
    assert.deepEqual(
      fill(
        spec({ type: "hist1d", tofRange: [0, 5], detRange: [10, 20], numBins: 5 }),
        [0, 1, 2, 3, 4],
        [0, 10, 20, 30, 40],
      ),
      [0, 1, 1, 0, 0],
    );
    assert.deepEqual(
      fill(spec({ type: "dethist", detRange: [1, 7], width: 3, height: 2 }), [], [0, 1, 2, 3, 4, 6, 7]),
      [1, 1, 1, 0, 1, 1],
    );
    const roi = createHistogram(spec({ type: "roihist", width: 4, leftEdges: [16, 25, 34] }));
    const ids = Int32Array.from({ length: 50 }, (_, i) => i);
    roi.add(ids, ids);
    roi.add(ids, ids);
    assert.deepEqual(
      [...roi.view().data],
      [32, 50, 68, 34, 52, 70, 36, 54, 72, 38, 56, 74].map((x) => (x > 0 ? 2 : 0)),
    );
  });
});

describe("the histograms are engine histograms", () => {
  it("hist1d NumpyRegularAxis (int), hist1d+det_range and hist2d VariableAxis x VariableAxis, dethist IntegerAxis, roihist VariableAxis, all without flow", () => {
    const kinds = (s: HistogramSpec) =>
      createHistogram(s).hist.axes.map(
        (a) => `${a.constructor.name}${a.underflow || a.overflow ? "+flow" : ""}`,
      );
    assert.deepEqual(kinds(spec({ type: "hist1d", tofRange: [0, 10], numBins: 5 })), ["NumpyRegularAxis"]);
    assert.equal(
      createHistogram(spec({ type: "hist1d", tofRange: [0, 10], numBins: 5 })).hist.storageType,
      "int",
    );
    assert.deepEqual(kinds(spec({ type: "hist1d", tofRange: [0, 10], detRange: [0, 9], numBins: 5 })), [
      "VariableAxis",
      "VariableAxis",
    ]);
    assert.deepEqual(kinds(spec({ type: "hist2d", tofRange: [0, 10], detRange: [0, 9], numBins: [5, 3] })), [
      "VariableAxis",
      "VariableAxis",
    ]);
    assert.deepEqual(kinds(spec({ type: "dethist", detRange: [5, 9], width: 3, height: 4 })), [
      "IntegerAxis",
    ]);
    assert.deepEqual(kinds(spec({ type: "roihist", width: 3, leftEdges: [1, 9] })), ["VariableAxis"]);
  });

  // fast_histogram.histogram1d (astrofrog/fast-histogram, _histogram_core.c): normx = nx / (xmax - xmin), an event
  // counts iff xmin <= x < xmax, and its bin is (int)((x - xmin) * normx), all in C doubles. numpy float64 does the
  // same IEEE arithmetic and astype(int64) truncates as C does, so this is fast_histogram's result bit for bit.
  it("dethist is fast_histogram.histogram1d over (first, first + w*h) with w*h bins, remapped to (width, height)", () => {
    const cases: { first: number; w: number; h: number; u32?: boolean }[] = [
      { first: 0, w: 7, h: 7 },
      { first: 1, w: 32, h: 192 },
      { first: -50, w: 13, h: 3 },
      { first: 2.5, w: 5, h: 6 },
      { first: 1_000_000_007, w: 97, h: 101 },
      { first: 0, w: 1000, h: 1000 },
      { first: 3, w: 49, h: 1, u32: true },
      { first: -20, w: 10, h: 3, u32: true },
    ];
    for (const c of cases) {
      const n = c.w * c.h;
      const lo = Math.ceil(c.first);
      const ids: number[] = [];
      for (const e of [lo, lo + n]) for (let d = -3; d <= 3; d++) ids.push(e + d);
      let s = 11;
      for (let i = 0; i < 5000; i++) {
        s = (s * 48271) % 2147483647;
        ids.push(Math.floor(lo - 20 + ((n + 40) * s) / 2147483647));
      }
      let arr: Int32Array | Uint32Array = Int32Array.from(ids);
      if (c.u32) {
        // ev42's uint32 ids: negative draws wrap to ~4e9, as in generate_event_data.
        arr = new Uint32Array(Int32Array.from(ids).buffer);
        ids.splice(0, ids.length, ...arr);
      }
      const d = spec({ type: "dethist", detRange: [c.first, c.first + 1], width: c.w, height: c.h });
      const h = createHistogram(d);
      h.add(new Int32Array(0), arr);
      const expected = runPythonJson<{ data: number[]; normx: number }>(
        `
import sys, json, numpy as np
a = json.load(sys.stdin); x = np.array(a["ids"], dtype=np.float64)
xmin = float(a["first"]); xmax = float(a["first"] + a["w"] * a["h"]); nx = a["w"] * a["h"]
normx = nx / (xmax - xmin)
m = (x >= xmin) & (x < xmax)
count = np.zeros(nx)
np.add.at(count, ((x[m] - xmin) * normx).astype(np.int64), 1.0)
# just-bin-it's .data: x = p % width, y = p // width, data[x][y]
data = np.zeros((a["w"], a["h"]))
for p in range(nx): data[p % a["w"]][p // a["w"]] = count[p]
print(json.dumps({"data": data.flatten().tolist(), "normx": normx}))
`,
        JSON.stringify({ ids, first: c.first, w: c.w, h: c.h }),
      );
      assert.equal(expected.normx, 1, `normx is exactly 1 for ${JSON.stringify(c)}`);
      assert.deepEqual([...h.view().data], expected.data, JSON.stringify(c));
    }
  });
});

describe("commands and info", () => {
  const now = () => 123456;
  it("validation order and texts", () => {
    const err = (m: string) => {
      try {
        parseCommand(parseCommandJson(m), now);
      } catch (e) {
        assert.ok(e instanceof CommandError);
        return e.message;
      }
      return "no error";
    };
    assert.equal(
      err('{"cmd": "config", "input_schema": "ev43"}'),
      "Unknown input schema ev43, must be one of ['ev42', 'ev44']",
    );
    assert.equal(
      err('{"cmd": "config", "output_schema": "hs02"}'),
      "Unknown output schema hs02, must be one of ['hs00', 'hs01']",
    );
    assert.equal(err('{"cmd": "config", "interval": -1}'), "Interval cannot be negative");
    assert.equal(
      err('{"cmd": "config", "interval": "5"}'),
      "'<' not supported between instances of 'str' and 'int'",
    );
    assert.equal(err('{"cmd": "conf"}'), "Unknown command type 'conf'");
    assert.equal(err('{"cmd": "config", "histograms": [{}]}'), "'type'");
    assert.equal(err('{"cmd": "config", "histograms": [{"type": "x"}]}'), "Unexpected histogram type");
    const h = '"topic": "o", "data_topics": ["d"], "data_brokers": ["b"]';
    assert.equal(
      err(
        `{"cmd": "config", "histograms": [{"type": "hist1d", "tof_range": [0, 1], "num_bins": 2.0, ${h}}]}`,
      ),
      "Could not parse 1d histogram config",
    );
    assert.equal(
      err(`{"cmd": "config", "histograms": [{"type": "hist2d", "tof_range": [0, 1], "num_bins": 2, ${h}}]}`),
      "Could not parse 2d histogram config",
    );
    assert.equal(
      err(
        `{"cmd": "config", "histograms": [{"type": "dethist", "det_range": [5, 1], "width": 1, "height": 1, ${h}}]}`,
      ),
      "Could not parse 2d map config",
    );
    assert.equal(
      err(`{"cmd": "config", "histograms": [{"type": "roihist", "width": 1, "left_edges": [], ${h}}]}`),
      "Could not parse 2d ROI config",
    );
    const ok = parseCommand(parseCommandJson('{"cmd": "config", "interval": 5}'), now);
    assert.deepEqual([ok.cmd === "config" && ok.start, ok.cmd === "config" && ok.stop], [123456, 128456]);
    const legacy = parseCommand(
      parseCommandJson(
        '{"data_brokers": ["b"], "data_topics": ["d"], "histograms": [{"num_dims": 1, "det_range": [0, 100], "num_bins": 5, "topic": "o"}]}',
      ),
      now,
    );
    assert.ok(
      legacy.cmd === "config" &&
        legacy.histograms[0].type === "hist1d" &&
        legacy.histograms[0].tofRange[1] === 100,
    );
  });

  it("info JSON and statistics as just-bin-it.md §3.6", () => {
    const st = new HistogramState(
      createHistogram(spec({ type: "hist1d", tofRange: [0, 2], numBins: 2, id: "x" })),
      1000,
      2000,
    );
    assert.equal(
      st.info(),
      '{"id": "x", "start": 1000, "stop": 2000, "state": "INITIALISED", "last_pulse_time": 0, "sum": 0, "diff": 0, "rate": 0}',
    );
    st.add(1500, "s", 1_500_000_000n, Int32Array.of(0, 1, 1), Int32Array.of());
    assert.equal(
      st.info(),
      '{"id": "x", "start": 1000, "stop": 2000, "state": "COUNTING", "last_pulse_time": 1500000000, "sum": 3, "diff": 3, "rate": 2.0}',
    );
    st.add(1600, "s", 1_600_000_000n, Int32Array.of(0), Int32Array.of());
    assert.match(st.info(), /"diff": 1, "rate": 10.0}$/);
    st.add(2001, "s", 1_700_000_000n, Int32Array.of(0), Int32Array.of());
    assert.match(
      st.info(),
      /"state": "FINISHED", "last_pulse_time": 1600000000, "sum": 4, "diff": 1, "rate": 10.0}$/,
    );
    assert.equal(pyFloatRepr(1e-5), "1e-05");
    assert.equal(pyFloatRepr(0.0001), "0.0001");
    assert.equal(pyFloatRepr(1e16), "1e+16");
    assert.equal(pyFloatRepr(123.5), "123.5");
  });
});
