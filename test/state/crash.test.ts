// Crash tests with real processes: `histd serve --state-dir --wal` (bin/haas-server) is killed with SIGKILL at
// several points of a stream of fills with fill ids, restarted on the same state directory, and its snapshot is
// compared with the sum of the acknowledged fills computed here from the arrays sent (never from histd's output).
// The fills in flight at the kill are retried with the same fill ids after the restart: each counts exactly once.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { HistdClient } from "../../src/client/index.ts";
import {
  Histogram,
  histogramToUhi,
  RegularAxis,
  StrCategoryAxis,
  uhiToJson,
} from "../../src/engine/index.ts";
import { type ServerProcess, startServer } from "../grpc/support.ts";
import { Rng } from "../support/random.ts";

const BINS = 40;
// Regular(40, 0, 40, x) with flow, weighted; and an int histogram with a growing string category.
const H_UHI = uhiToJson(
  histogramToUhi(
    new Histogram([new RegularAxis(BINS, 0, BINS, { metadata: { name: "x" } })], { storage: "weighted" }),
  ),
);
const C_UHI = uhiToJson(
  histogramToUhi(
    new Histogram([new StrCategoryAxis([], { growth: true, metadata: { name: "c" } })], { storage: "int" }),
  ),
);

interface Fill {
  id: string;
  x: Float64Array;
  w: Float64Array;
  c: string[];
}

function makeFill(rng: Rng, id: string): Fill {
  const n = 200;
  // x = k + 0.5 for k in [-2, BINS + 1]: the bin is exact; weights are multiples of 1/4: sums are exact in any order.
  const x = Float64Array.from({ length: n }, () => rng.int(-2, BINS + 1) + 0.5);
  const w = Float64Array.from({ length: n }, () => rng.int(1, 8) / 4);
  const c = Array.from({ length: n }, () => rng.pick(["p", "q", "r", "s"]));
  return { id, x, w, c };
}

/** Expected (Σw, Σw²) per x cell with flow of `fills`, and counts per category of `cFills` (default: the same;
 * a FillMany's two fills become durable independently). */
function expected(fills: Fill[], cFills: Fill[] = fills) {
  const sw = new Float64Array(BINS + 2);
  const sw2 = new Float64Array(BINS + 2);
  const cats = new Map<string, number>();
  for (const f of fills) {
    f.x.forEach((x, i) => {
      const j = x < 0 ? 0 : x >= BINS ? BINS + 1 : Math.floor(x) + 1;
      sw[j] += f.w[i];
      sw2[j] += f.w[i] * f.w[i];
    });
  }
  for (const f of cFills) for (const c of f.c) cats.set(c, (cats.get(c) ?? 0) + 1);
  return { sw: [...sw], sw2: [...sw2], cats: Object.fromEntries([...cats].sort()) };
}

async function observed(client: HistdClient) {
  const h = await client.snapshot("h");
  const c = await client.snapshot("c");
  const cats: Record<string, number> = {};
  const ax = c.axes[0] as unknown as { categories: string[] };
  ax.categories.forEach((name, i) => {
    cats[name] = c.storage.fields[0][i];
  });
  return {
    sw: [...h.storage.fields[0]],
    sw2: [...h.storage.fields[1]],
    cats: Object.fromEntries(Object.entries(cats).sort()),
  };
}

const send = (client: HistdClient, f: Fill) =>
  client.fillMany([
    { histId: "h", columns: { x: f.x, weight: f.w }, fillId: `${f.id}-h` },
    { histId: "c", columns: { c: f.c }, fillId: `${f.id}-c` },
  ]);

const started: ServerProcess[] = [];
after(async () => {
  for (const s of started) await kill9(s);
});

async function start(dir: string, extra: string[] = []): Promise<ServerProcess> {
  const s = await startServer(["--no-demo", "--no-http", "--state-dir", dir, ...extra], { histIr: false });
  started.push(s);
  return s;
}

async function kill9(s: ServerProcess): Promise<void> {
  if (s.proc.exitCode !== null || s.proc.signalCode !== null) return;
  const gone = new Promise((r) => s.proc.once("exit", r));
  s.proc.kill("SIGKILL");
  await gone;
}

test("kill -9 during acknowledged fills (--wal): every acknowledged fill survives, retries count once", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "histd-crash-"));
  const rng = new Rng(20261122);
  const acked: Fill[] = [];
  let pending: Fill[] = [];
  let serial = 0;
  // Kill points: before the first checkpoint, around one, after several (interval 0.4 s).
  for (const killAfterMs of [150, 450, 1300, 700]) {
    const server = await start(dir, ["--wal", "--checkpoint-interval", "0.4"]);
    const client = new HistdClient(server.address);
    try {
      const ids = (await client.list()).map((i) => i.hist_id).sort();
      if (killAfterMs === 150) {
        assert.deepEqual(ids, []);
        await client.create(H_UHI, { id: "h" });
        await client.create(C_UHI, { id: "c" });
      } else assert.deepEqual(ids, ["c", "h"], "both histograms restored");
      if (pending.length > 0) {
        // After the restart: exactly the acknowledged fills, plus those in-flight fills that became durable,
        // which a retry with the same fill id reports as duplicates.
        const before = await observed(client);
        const retried = await Promise.all(pending.map((f) => send(client, f)));
        const landedH = pending.filter((_, i) => retried[i][0].duplicate);
        const landedC = pending.filter((_, i) => retried[i][1].duplicate);
        assert.deepEqual(
          before,
          expected([...acked, ...landedH], [...acked, ...landedC]),
          `after kill at ${killAfterMs} ms`,
        );
        t.diagnostic(
          `restart ${killAfterMs} ms: ${acked.length} acknowledged, ${pending.length} in flight at the kill, ` +
            `${landedH.length}/${landedC.length} of them durable (h/c)`,
        );
        acked.push(...pending);
        pending = [];
        assert.deepEqual(await observed(client), expected(acked), "retries counted exactly once");
      }
      // A stream of fills from 4 concurrent senders until the kill.
      let stop = false;
      const inflight = new Set<Fill>();
      const sender = async () => {
        while (!stop) {
          const f = makeFill(rng, `f${serial++}`);
          inflight.add(f);
          try {
            await send(client, f);
          } catch {
            return; // the server died: this fill stays in flight (unacknowledged)
          }
          inflight.delete(f);
          acked.push(f);
        }
      };
      const senders = [sender(), sender(), sender(), sender()];
      await new Promise((r) => setTimeout(r, killAfterMs));
      await kill9(server);
      stop = true;
      await Promise.all(senders);
      pending = [...inflight];
    } finally {
      client.close();
      await kill9(server);
    }
  }
  // Final restart: retry the last in-flight fills, then the histogram is the sum of every fill sent.
  const server = await start(dir, ["--wal", "--checkpoint-interval", "0.4"]);
  const client = new HistdClient(server.address);
  try {
    for (const f of pending) await send(client, f);
    acked.push(...pending);
    assert.ok(acked.length > 40, `${acked.length} fills`);
    assert.deepEqual(await observed(client), expected(acked));
    // Histogram state is kept across a graceful stop too (a last checkpoint on SIGTERM).
    await server.stop();
    started.splice(started.indexOf(server), 1);
    const again = await start(dir, ["--wal"]);
    const c2 = new HistdClient(again.address);
    try {
      assert.deepEqual(await observed(c2), expected(acked));
    } finally {
      c2.close();
      await again.stop();
    }
  } finally {
    client.close();
    await kill9(server);
  }
});

test("without --wal: kill -9 loses at most the last checkpoint interval; SIGTERM checkpoints", async () => {
  const dir = mkdtempSync(join(tmpdir(), "histd-crash-"));
  const rng = new Rng(7);
  let server = await start(dir, ["--checkpoint-interval", "0.3"]);
  let client = new HistdClient(server.address);
  const sent: Fill[] = [];
  await client.create(H_UHI, { id: "h" });
  await client.create(C_UHI, { id: "c" });
  for (let i = 0; i < 20; i++) {
    const f = makeFill(rng, `a${i}`);
    await send(client, f);
    sent.push(f);
  }
  await new Promise((r) => setTimeout(r, 900)); // at least two checkpoint rounds
  await kill9(server);
  client.close();
  server = await start(dir, ["--checkpoint-interval", "60"]);
  client = new HistdClient(server.address);
  assert.deepEqual(await observed(client), expected(sent));
  // A retry of an acknowledged fill is recognised (the fill ids are in the checkpoint).
  assert.equal((await send(client, sent[3]))[0].duplicate, true);
  const f = makeFill(rng, "b0");
  await send(client, f);
  sent.push(f);
  await server.stop(); // SIGTERM: a last checkpoint although the interval is 60 s
  client.close();
  server = await start(dir);
  client = new HistdClient(server.address);
  try {
    assert.deepEqual(await observed(client), expected(sent));
  } finally {
    client.close();
    await server.stop();
  }
});
