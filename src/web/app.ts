// The histd dashboard: every histogram of the server as a card with a live plot (uPlot step plot for 1D, canvas
// heatmap for 2D and detector images), an info panel, projections, zoom, PNG and UHI JSON export, and the
// service's health. Live updates come over one WebSocket (see src/http/protocol.ts); the page reconnects by
// itself and says so while the server is away.
import uPlot from "uplot";
import { type AxisMeta, decodeFrame, type EntrySummary, type Health } from "../http/protocol.ts";
import { fmt, Heatmap } from "./heatmap.ts";

const params = new URLSearchParams(location.search);
const token = params.get("token") ?? sessionStorage.getItem("histd-token") ?? "";
if (params.get("token")) sessionStorage.setItem("histd-token", token);
const authHeaders: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};

const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;
const grid = $<HTMLElement>("#grid");
const banner = $<HTMLElement>("#banner");
const conn = $<HTMLElement>("#conn");
const healthEl = $<HTMLElement>("#health");
const filter = $<HTMLInputElement>("#filter");

/** Page statistics, read by the browser tests and the benchmark. */
const stats = {
  frames: 0,
  bytes: 0,
  updates: 0,
  draws: 0,
  workMs: 0,
  maxWorkMs: 0,
  lastWorkMs: 0,
  connected: false,
  /** Main-thread ms of the latest frames: decoding each frame, and each (animation-frame) redraw. */
  decodeMs: [] as number[],
  drawMs: [] as number[],
};
const keep = (a: number[], v: number) => {
  a.push(v);
  if (a.length > 5000) a.splice(0, a.length - 5000);
};

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  cls?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function nsToIso(ns: unknown): string {
  if (typeof ns !== "string" || ns === "0") return "—";
  const ms = Number(BigInt(ns) / 1_000_000n);
  return new Date(ms).toISOString().replace("T", " ").replace("Z", "");
}
const msToIso = (ms: unknown) =>
  typeof ms === "number" ? new Date(ms).toISOString().replace("T", " ").replace("Z", "") : "—";

function download(blob: Blob, name: string): void {
  const a = el("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

let sidCounter = 0;

class Card {
  readonly key: string;
  summary: EntrySummary;
  readonly root = el("section", "card");
  private readonly plotBox = el("div", "plot");
  private readonly infoBox = el("dl", "info");
  private readonly viewSel = el("select", "view");
  private readonly logBox = el("input");
  sid = "";
  /** Displayed axes (indices into the histogram's axes). */
  axes: number[];
  data: Float64Array | undefined;
  shape: number[] = [];
  shownAxes: AxisMeta[] = [];
  version = -1;
  private dirty = false;
  private heat: Heatmap | undefined;
  private u: uPlot | undefined;

  constructor(s: EntrySummary) {
    this.key = s.key;
    this.summary = s;
    this.axes = s.rank <= 1 ? [0] : [0, 1];
    this.root.dataset.key = s.key;
    const head = el("header");
    head.append(el("span", `door door-${s.door}`, s.door), el("h2", "", s.name), el("span", "kind", s.kind));
    const tools = el("div", "tools");
    this.logBox.type = "checkbox";
    this.logBox.className = "log";
    this.logBox.addEventListener("change", () => this.rebuild());
    const logLabel = el("label", "", " log");
    logLabel.prepend(this.logBox);
    this.fillViews();
    this.viewSel.addEventListener("change", () => {
      this.axes = this.viewSel.value.split(",").map(Number);
      this.data = undefined;
      this.rebuild();
      this.subscribe();
    });
    const zoom = el("button", "", "reset zoom");
    zoom.addEventListener("click", () => this.resetZoom());
    const png = el("button", "png", "PNG");
    png.addEventListener("click", () => void this.exportPng());
    const json = el("button", "uhi", "UHI JSON");
    json.addEventListener("click", () => void this.exportUhi());
    tools.append(this.viewSel, logLabel, zoom, png, json);
    this.root.append(head, tools, this.plotBox, this.infoBox);
    this.renderInfo();
    this.rebuild();
  }

  private fillViews(): void {
    const s = this.summary;
    this.viewSel.replaceChildren();
    const name = (k: number) => s.axes[k]?.name || `axis ${k}`;
    const opts: number[][] = [];
    if (s.rank >= 2) opts.push([0, 1]);
    for (let k = 0; k < s.rank; k++) opts.push([k]);
    for (let a = 0; a < s.rank; a++) for (let b = a + 1; b < s.rank; b++) if (a + b > 1) opts.push([a, b]);
    for (const o of opts) {
      const opt = el(
        "option",
        "",
        o.length === 1 ? `projection on ${name(o[0])}` : `${name(o[0])} × ${name(o[1])}`,
      );
      if (o.length === 2 && s.rank === 2) opt.textContent = "2D";
      opt.value = o.join(",");
      this.viewSel.append(opt);
    }
    this.viewSel.value = this.axes.join(",");
    this.viewSel.hidden = opts.length < 2;
  }

  get is2d(): boolean {
    return this.axes.length === 2;
  }

  subscribe(): void {
    bySid.delete(this.sid);
    this.sid = `s${++sidCounter}`;
    bySid.set(this.sid, this);
    this.version = -1;
    this.data = undefined;
    send({ t: "sub", sid: this.sid, key: this.key, axes: this.axes });
  }

  private resetZoom(): void {
    if (this.heat) this.heat.resetZoom();
    else if (this.u && this.shownAxes[0]) {
      const e = this.shownAxes[0].edges;
      this.u.setScale("x", { min: e[0], max: e[e.length - 1] });
    }
  }

  /** Rebuilds the plot (new view, log toggle). */
  rebuild(): void {
    this.u?.destroy();
    this.u = undefined;
    this.heat = undefined;
    this.plotBox.replaceChildren();
    const log = this.logBox.checked;
    if (this.is2d) {
      this.heat = new Heatmap(this.plotBox, { log, image: this.summary.kind === "dethist" });
    }
    if (this.data) this.draw();
  }

  private plot1d(x: number[], y: (number | null)[], a: AxisMeta | undefined): uPlot {
    const log = this.logBox.checked;
    const cats = a?.categories;
    this.plotBox.replaceChildren();
    return new uPlot(
      {
        width: Math.max(300, this.plotBox.clientWidth || 480),
        height: 320,
        legend: { show: false },
        cursor: { drag: { x: true, y: false } },
        scales: {
          x: { time: false, range: (_u, min, max) => [min, max] },
          y: log ? { distr: 3 } : { range: (_u, _min, max) => [0, max > 0 ? max * 1.05 : 1] },
        },
        axes: [
          {
            label: a ? a.label || a.name : "",
            values: cats
              ? (_u: uPlot, ticks: number[]) => ticks.map((t) => String(cats[Math.floor(t)] ?? ""))
              : (_u: uPlot, ticks: number[]) => ticks.map(compact),
          },
          { size: 60 },
        ],
        series: [
          {},
          {
            stroke: "#3060c0",
            fill: "rgba(48,96,192,0.15)",
            width: 1.5,
            paths: uPlot.paths.stepped?.({ align: 1 }),
            points: { show: false },
          },
        ],
      },
      [x, y],
      this.plotBox,
    );
  }

  update(header: { version: number; shape: number[]; axes?: AxisMeta[] }, data: Float64Array): void {
    this.data = data;
    this.shape = header.shape;
    this.version = header.version;
    if (header.axes) this.shownAxes = header.axes;
    this.root.dataset.version = String(header.version);
    if (!this.dirty) {
      this.dirty = true;
      requestAnimationFrame(() => {
        this.dirty = false;
        const t0 = performance.now();
        this.draw();
        const ms = performance.now() - t0;
        stats.workMs += ms;
        stats.draws++;
        keep(stats.drawMs, ms);
      });
    }
  }

  private draw(): void {
    const data = this.data;
    if (!data) return;
    if (this.heat) {
      this.heat.setData(data, this.shape, this.shownAxes);
    } else {
      const a = this.shownAxes[0];
      const n = data.length;
      const x = a ? a.edges.slice(0, n + 1) : Array.from({ length: n + 1 }, (_, i) => i);
      const log = this.logBox.checked;
      const y: (number | null)[] = new Array(n + 1);
      for (let i = 0; i < n; i++) y[i] = log && !(data[i] > 0) ? null : data[i];
      y[n] = y[n - 1] ?? null;
      if (this.u && this.u.data[0].length === x.length) {
        // New counts rescale y; the x range stays where the user zoomed it.
        const { min, max } = this.u.scales.x;
        this.u.setData([x, y]);
        if (min != null && max != null) this.u.setScale("x", { min, max });
      } else {
        this.u?.destroy();
        this.u = this.plot1d(x, y, a);
      }
    }
    this.root.classList.toggle("has-data", true);
  }

  renderInfo(): void {
    const i = this.summary.info as Record<string, unknown>;
    const rows: [string, string][] = [
      ["state", String(i.state ?? "—")],
      ["sum", typeof i.sum === "number" ? fmt(i.sum) : "—"],
      ["rate", typeof i.rate === "number" ? `${fmt(i.rate)} /s` : "—"],
      ["last pulse", nsToIso(i.lastPulseTime)],
      ["start", msToIso(i.start)],
      ["stop", msToIso(i.stop)],
      ["source", String(i.sourceTopic ?? (this.summary.door === "grpc" ? "gRPC fills" : "—"))],
      ["version", String(this.summary.version)],
    ];
    this.infoBox.replaceChildren();
    for (const [k, v] of rows) {
      const dd = el("dd", "", v);
      dd.dataset.field = k.replace(" ", "-");
      if (k === "sum" && typeof i.sum === "number") dd.dataset.value = String(i.sum);
      this.infoBox.append(el("dt", "", k), dd);
    }
  }

  private async exportPng(): Promise<void> {
    const blob = this.heat
      ? await this.heat.toPng()
      : await new Promise<Blob | null>((res) => this.u?.ctx.canvas.toBlob(res, "image/png"));
    if (blob) download(blob, `${this.key.replace(/[^\w.-]/g, "_")}.png`);
  }

  private async exportUhi(): Promise<void> {
    const r = await fetch(`api/histograms/${encodeURIComponent(this.key)}/uhi`, { headers: authHeaders });
    download(await r.blob(), `${this.key.replace(/[^\w.-]/g, "_")}.json`);
  }

  setInfo(s: EntrySummary): void {
    this.summary = s;
    this.renderInfo();
  }
}

/** Tick labels that stay short for large values (time of flight in ns: "20M", not "20,000,000"). */
const compactFormat = new Intl.NumberFormat("en", { notation: "compact", maximumSignificantDigits: 4 });
function compact(t: number): string {
  return Math.abs(t) >= 1e5 ? compactFormat.format(t) : String(Number(t.toPrecision(6)));
}

const cards = new Map<string, Card>();
const bySid = new Map<string, Card>();
let ws: WebSocket | undefined;

function send(msg: unknown): void {
  if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
}

function addCard(s: EntrySummary): void {
  const old = cards.get(s.key);
  if (old) {
    old.root.remove();
    bySid.delete(old.sid);
  }
  const c = new Card(s);
  cards.set(s.key, c);
  const keys = [...cards.keys()].sort();
  const next = keys[keys.indexOf(s.key) + 1];
  const before = next ? cards.get(next)?.root : undefined;
  if (before?.isConnected) grid.insertBefore(c.root, before);
  else grid.append(c.root);
  c.rebuild();
  applyFilter();
  c.subscribe();
}

function removeCard(key: string): void {
  const c = cards.get(key);
  if (!c) return;
  c.root.remove();
  cards.delete(key);
  bySid.delete(c.sid);
}

function applyFilter(): void {
  const f = filter.value.trim().toLowerCase();
  for (const c of cards.values())
    c.root.hidden = f !== "" && !`${c.key} ${c.summary.name}`.toLowerCase().includes(f);
}
filter.addEventListener("input", applyFilter);

function showHealth(h: Health): void {
  const mb = (b: number) => `${(b / 1048576).toFixed(0)} MB`;
  healthEl.textContent = `up ${fmt(Math.round(h.uptime))} s · ${h.histograms} histograms · rss ${mb(h.rss)} · heap ${mb(h.heapUsed)} · ${h.clients} page${h.clients === 1 ? "" : "s"} · ${h.ready ? "ready" : "not ready"}`;
  healthEl.dataset.ready = String(h.ready);
}

function onText(msg: { t: string } & Record<string, unknown>): void {
  if (msg.t === "list") {
    const list = msg.entries as EntrySummary[];
    const keys = new Set(list.map((e) => e.key));
    for (const k of [...cards.keys()]) if (!keys.has(k)) removeCard(k);
    for (const s of list) {
      const c = cards.get(s.key);
      if (c && c.summary.rank === s.rank) {
        c.setInfo(s);
        c.subscribe();
      } else addCard(s);
    }
  } else if (msg.t === "add") addCard(msg.entry as EntrySummary);
  else if (msg.t === "remove") removeCard(msg.key as string);
  else if (msg.t === "info") {
    for (const e of msg.entries as { key: string; version: number; info: Record<string, unknown> }[]) {
      const c = cards.get(e.key);
      if (c) c.setInfo({ ...c.summary, version: e.version, info: e.info });
    }
  } else if (msg.t === "health") showHealth(msg.health as Health);
}

function connect(): void {
  const url = new URL("ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  if (token) url.searchParams.set("token", token);
  const sock = new WebSocket(url);
  sock.binaryType = "arraybuffer";
  ws = sock;
  sock.onopen = () => {
    stats.connected = true;
    banner.hidden = true;
    conn.textContent = "live";
    conn.className = "ok";
  };
  sock.onmessage = (ev) => {
    if (typeof ev.data === "string") {
      onText(JSON.parse(ev.data));
      return;
    }
    const t0 = performance.now();
    const buf = ev.data as ArrayBuffer;
    stats.frames++;
    stats.bytes += buf.byteLength;
    const sid = (() => {
      const len = new DataView(buf).getUint32(0, true);
      return (JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, len))) as { sid: string }).sid;
    })();
    const card = bySid.get(sid);
    if (!card) return;
    const { header, data } = decodeFrame(buf, card.data);
    card.update(header, data);
    stats.updates++;
    const ms = performance.now() - t0;
    stats.workMs += ms;
    stats.lastWorkMs = ms;
    stats.maxWorkMs = Math.max(stats.maxWorkMs, ms);
    keep(stats.decodeMs, ms);
  };
  sock.onclose = () => {
    if (ws !== sock) return;
    stats.connected = false;
    banner.hidden = false;
    conn.textContent = "connection lost";
    conn.className = "lost";
    setTimeout(connect, 1000);
  };
}

// Hooks for the browser tests and the benchmark.
(window as unknown as { histd: unknown }).histd = {
  stats,
  cards,
  /** Fraction of sampled pixels of the card's plot canvas that are coloured (counts), for the card `key`. */
  /** Fraction of coloured pixels in the card's plot canvas, in its top `upTo` part (1: all of it). */
  inkFraction(key: string, upTo = 1): number {
    const c = cards.get(key);
    const canvas = c?.root.querySelector("canvas") as HTMLCanvasElement | null;
    if (!canvas) return 0;
    const ctx = canvas.getContext("2d") as CanvasRenderingContext2D;
    const { width, height } = canvas;
    const img = ctx.getImageData(0, 0, width, height).data;
    let ink = 0;
    let total = 0;
    for (let y = 0; y < height * upTo; y += 3)
      for (let x = 0; x < width; x += 3) {
        const i = (y * width + x) * 4;
        total++;
        const sat = Math.max(img[i], img[i + 1], img[i + 2]) - Math.min(img[i], img[i + 1], img[i + 2]);
        if (img[i + 3] > 128 && sat > 20) ink++; // coloured: counts (axes and text are grey)
      }
    return ink / total;
  },
};

connect();
