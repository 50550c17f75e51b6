// The built-in simulated event stream of the out-of-the-box demo: neutron-like events (time of flight, detector
// pixel) at a steady rate fill three engine histograms published into the catalog — a time-of-flight spectrum
// (hist1d), time of flight against detector column (hist2d) and a detector image (dethist) — so a newcomer sees
// live plots with no Kafka.
import type { Catalog, CatalogEntry, Info, MetricSample } from "../catalog/index.ts";
import { Histogram, NumpyRegularAxis } from "../engine/index.ts";

export interface DemoOptions {
  /** Events per second (default 100,000). */
  rate?: number;
  /** Fill period in ms (default 100). */
  periodMs?: number;
  /** Detector size in pixels per side (default 256). */
  detector?: number;
  seed?: number;
}

export interface DemoStream {
  entries: CatalogEntry[];
  stop(): void;
}

const TOF_MAX_US = 71_000; // one ESS pulse period (14 Hz)

/** Starts the simulated stream; it fills at every period until stop(). */
export function startDemoStream(catalog: Catalog, opts: DemoOptions = {}): DemoStream {
  const rate = opts.rate ?? 100_000;
  const period = opts.periodMs ?? 100;
  const side = opts.detector ?? 256;
  let s = opts.seed ?? 12345;
  const u = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 4294967296;
  };
  const gauss = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());

  const tofAxis = () =>
    new NumpyRegularAxis(500, 0, TOF_MAX_US, { metadata: { name: "tof", label: "time of flight [µs]" } });
  const h1 = new Histogram([tofAxis()], { storage: "double" });
  const h2 = new Histogram(
    [
      new NumpyRegularAxis(200, 0, TOF_MAX_US, { metadata: { name: "tof", label: "time of flight [µs]" } }),
      new NumpyRegularAxis(side, 0, side, { metadata: { name: "x", label: "detector column" } }),
    ],
    { storage: "double" },
  );
  const h3 = new Histogram(
    [
      new NumpyRegularAxis(side, 0, side, { metadata: { name: "x", label: "column" } }),
      new NumpyRegularAxis(side, 0, side, { metadata: { name: "y", label: "row" } }),
    ],
    { storage: "double" },
  );

  const started = Date.now();
  let events = 0;
  let messages = 0;
  let fillSeconds = 0;
  let lastPulseNs = 0n;
  const info = (): Info => ({
    state: "COUNTING",
    start: started,
    sourceTopic: "simulated",
    lastPulseTime: lastPulseNs.toString(),
  });
  const entries = [
    catalog.add({
      door: "demo",
      id: "tof",
      name: "time of flight",
      kind: "hist1d",
      histogram: () => h1,
      info,
    }),
    catalog.add({
      door: "demo",
      id: "tof-x",
      name: "time of flight × column",
      kind: "hist2d",
      histogram: () => h2,
      info,
    }),
    catalog.add({
      door: "demo",
      id: "detector",
      name: "detector image",
      kind: "dethist",
      histogram: () => h3,
      info,
    }),
  ];
  const hists = [h1, h2, h3];
  for (const [i, e] of entries.entries())
    e.source.reset = () => {
      hists[i].reset();
      e.touch();
    };

  // Three peaks in time of flight (Bragg-edge-like lines), each lighting a ring on the detector.
  const peaks = [
    { tof: 18_000, w: 1500, r: 0.18, frac: 0.35 },
    { tof: 32_000, w: 2000, r: 0.3, frac: 0.3 },
    { tof: 51_000, w: 2500, r: 0.4, frac: 0.2 },
  ];
  const perTick = Math.max(1, Math.round((rate * period) / 1000));
  const tof = new Float64Array(perTick);
  const x = new Float64Array(perTick);
  const y = new Float64Array(perTick);
  const tick = () => {
    const t0 = performance.now();
    for (let i = 0; i < perTick; i++) {
      const p = u();
      let acc = 0;
      let peak: (typeof peaks)[number] | undefined;
      for (const k of peaks) {
        acc += k.frac;
        if (p < acc) {
          peak = k;
          break;
        }
      }
      if (peak) {
        tof[i] = peak.tof + peak.w * gauss();
        const phi = 2 * Math.PI * u();
        const r = (peak.r + 0.02 * gauss()) * side;
        x[i] = side / 2 + r * Math.cos(phi);
        y[i] = side / 2 + r * Math.sin(phi);
      } else {
        // flat background
        tof[i] = u() * TOF_MAX_US;
        x[i] = u() * side;
        y[i] = u() * side;
      }
    }
    h1.fill([tof]);
    h2.fill([tof, x]);
    h3.fill([x, y]);
    fillSeconds += (performance.now() - t0) / 1000;
    events += perTick;
    messages++;
    lastPulseNs = BigInt(Date.now()) * 1_000_000n;
    for (const e of entries) e.touch();
  };
  const timer = setInterval(tick, period);
  timer.unref();
  const collect = (): MetricSample[] => {
    const door = { door: "demo" };
    return [
      { name: "histd_events_total", help: "Entries filled", type: "counter", labels: door, value: events },
      {
        name: "histd_messages_total",
        help: "Messages received",
        type: "counter",
        labels: door,
        value: messages,
      },
      {
        name: "histd_fill_seconds_total",
        help: "Seconds spent filling",
        type: "counter",
        labels: door,
        value: fillSeconds,
      },
    ];
  };
  catalog.collectors.add(collect);
  catalog.readiness.set("demo", () => true);
  return {
    entries,
    stop: () => {
      clearInterval(timer);
      catalog.collectors.delete(collect);
      catalog.readiness.delete("demo");
      for (const e of entries) catalog.remove(e);
    },
  };
}
