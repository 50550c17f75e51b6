// Renders a histogram to a PNG (bars for 1-D, a heat map of data.T with y inverted for 2-D, as just-bin-it's
// viewer.py) and to the terminal (block characters / ANSI colours).
import { writeFileSync } from "node:fs";
import type { HistogramView } from "./histograms.ts";
import { encodePng } from "./png.ts";

function colour(t: number): [number, number, number] {
  // A viridis-like ramp.
  const stops: [number, number, number][] = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ];
  const x = Math.max(0, Math.min(1, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  return stops[i].map((a, k) => Math.round(a + (stops[i + 1][k] - a) * f)) as [number, number, number];
}

export interface RenderOptions {
  png?: string;
  log?: boolean;
  terminal?: boolean;
  width?: number;
  height?: number;
}

/** Renders to a PNG buffer. */
export function renderPng(view: HistogramView, o: RenderOptions = {}): Buffer {
  const W = o.width ?? 640;
  const H = o.height ?? 480;
  const rgb = new Uint8Array(W * H * 3).fill(255);
  const scale = (v: number, max: number) => (o.log ? Math.log10(1 + v) / Math.log10(1 + max) : v / max) || 0;
  let max = 0;
  for (const v of view.data) if (v > max) max = v;
  if (view.shape.length === 1) {
    const n = view.shape[0];
    for (let x = 0; x < W; x++) {
      const b = Math.min(n - 1, Math.floor((x * n) / W));
      const h = Math.round(scale(view.data[b], max) * (H - 1));
      for (let y = H - h; y < H; y++) rgb.set([31, 119, 180], (y * W + x) * 3);
    }
  } else {
    const [nx, ny] = view.shape;
    // pcolormesh of data.T with the y axis inverted: row 0 of the image is y bin 0.
    for (let py = 0; py < H; py++) {
      const j = Math.min(ny - 1, Math.floor((py * ny) / H));
      for (let px = 0; px < W; px++) {
        const i = Math.min(nx - 1, Math.floor((px * nx) / W));
        rgb.set(colour(scale(view.data[i * ny + j], max)), (py * W + px) * 3);
      }
    }
  }
  return encodePng(W, H, rgb);
}

/** A text rendering for the terminal. */
export function renderText(view: HistogramView, cols = 72, rows = 16): string {
  let max = 0;
  let sum = 0;
  for (const v of view.data) {
    sum += v;
    if (v > max) max = v;
  }
  const lines: string[] = [];
  const shades = " .:-=+*#%@";
  if (view.shape.length === 1) {
    const n = view.shape[0];
    const w = Math.min(cols, n);
    const vals = Array.from({ length: w }, (_, c) => {
      let s = 0;
      for (let b = Math.floor((c * n) / w); b < Math.floor(((c + 1) * n) / w); b++) s += view.data[b];
      return s;
    });
    const m = Math.max(...vals, 1);
    for (let r = rows; r > 0; r--)
      lines.push(vals.map((v) => ((v / m) * rows >= r - 0.5 ? "█" : " ")).join(""));
  } else {
    const [nx, ny] = view.shape;
    const w = Math.min(cols, nx);
    const h = Math.min(rows, ny);
    for (let r = 0; r < h; r++) {
      let line = "";
      for (let c = 0; c < w; c++) {
        let s = 0;
        for (let i = Math.floor((c * nx) / w); i < Math.floor(((c + 1) * nx) / w); i++)
          for (let j = Math.floor((r * ny) / h); j < Math.floor(((r + 1) * ny) / h); j++)
            s += view.data[i * ny + j];
        const cells = (nx / w) * (ny / h);
        line += shades[Math.min(9, Math.round((s / cells / (max || 1)) * 9))];
      }
      lines.push(line);
    }
  }
  lines.push(`shape ${view.shape.join("x")}, sum ${sum}, max ${max}`);
  return lines.join("\n");
}

export function renderHistogram(view: HistogramView, info: string, o: RenderOptions = {}): void {
  if (o.png) writeFileSync(o.png, renderPng(view, o));
  if (o.terminal ?? true) console.log(`${renderText(view)}\n${info}${o.png ? `\nwrote ${o.png}` : ""}`);
}
