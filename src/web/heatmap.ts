// A canvas heatmap for 2D histograms and detector images: counts → 256-entry colour LUT → ImageData on an
// offscreen canvas (one pixel per bin), then one scaled drawImage without smoothing. Axes, colour bar, linear
// or log colour, drag-to-zoom (double-click resets) and a hover readout.
import type { AxisMeta } from "../http/protocol.ts";

// viridis, 9 control points
const VIRIDIS = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

export const LUT = (() => {
  const lut = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (VIRIDIS.length - 1);
    const k = Math.min(VIRIDIS.length - 2, Math.floor(t));
    const f = t - k;
    const c = VIRIDIS[k].map((a, j) => Math.round(a + (VIRIDIS[k + 1][j] - a) * f));
    lut[i] = (255 << 24) | (c[2] << 16) | (c[1] << 8) | c[0]; // RGBA bytes, little-endian
  }
  return lut;
})();

export const lutCss = (i: number) => {
  const c = LUT[i];
  return `rgb(${c & 255},${(c >>> 8) & 255},${(c >>> 16) & 255})`;
};

const EMPTY = 0x00000000; // transparent: empty bins show the page's background

const M = { left: 56, right: 12, top: 8, bottom: 36 };

export function fmt(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(2);
  return Number(v.toPrecision(4)).toString();
}

export interface HeatmapOptions {
  log: boolean;
  /** Detector image: square pixels, row 0 at the top. Otherwise y grows upwards and the plot fills the box. */
  image: boolean;
}

export class Heatmap {
  readonly canvas: HTMLCanvasElement;
  readonly bar: HTMLCanvasElement;
  readonly readout: HTMLElement;
  private readonly off = document.createElement("canvas");
  private img: ImageData | undefined;
  private px: Uint32Array | undefined;
  private nx = 0;
  private ny = 0;
  private data: Float64Array | undefined;
  private axes: AxisMeta[] = [];
  opts: HeatmapOptions;
  /** Zoom window in bins: [x0, x1) × [y0, y1). */
  private zoom: [number, number, number, number] | undefined;
  private drag: { x: number; y: number; x2: number; y2: number } | undefined;
  private plot = { x: 0, y: 0, w: 0, h: 0 };
  min = 0;
  max = 0;

  constructor(parent: HTMLElement, opts: HeatmapOptions) {
    this.opts = opts;
    const wrap = document.createElement("div");
    wrap.className = "heatmap";
    this.canvas = document.createElement("canvas");
    this.canvas.className = "heat";
    this.bar = document.createElement("canvas");
    this.bar.className = "colorbar";
    this.readout = document.createElement("div");
    this.readout.className = "readout";
    wrap.append(this.canvas, this.bar);
    parent.append(wrap, this.readout);
    this.canvas.addEventListener("mousedown", (ev) => {
      const p = this.local(ev);
      this.drag = { x: p.x, y: p.y, x2: p.x, y2: p.y };
    });
    this.canvas.addEventListener("mousemove", (ev) => {
      const p = this.local(ev);
      if (this.drag) {
        this.drag.x2 = p.x;
        this.drag.y2 = p.y;
        this.draw();
      }
      this.hover(p.x, p.y);
    });
    this.canvas.addEventListener("mouseup", () => {
      const d = this.drag;
      this.drag = undefined;
      if (d && Math.abs(d.x2 - d.x) > 4 && Math.abs(d.y2 - d.y) > 4) {
        const a = this.toBin(Math.min(d.x, d.x2), Math.min(d.y, d.y2));
        const b = this.toBin(Math.max(d.x, d.x2), Math.max(d.y, d.y2));
        const x0 = Math.min(a.ix, b.ix);
        const x1 = Math.max(a.ix, b.ix) + 1;
        const y0 = Math.min(a.iy, b.iy);
        const y1 = Math.max(a.iy, b.iy) + 1;
        this.zoom = [x0, x1, y0, y1];
      }
      this.draw();
    });
    this.canvas.addEventListener("dblclick", () => this.resetZoom());
    new ResizeObserver(() => this.draw()).observe(this.canvas);
    this.canvas.addEventListener("mouseleave", () => {
      this.readout.textContent = "";
    });
  }

  resetZoom(): void {
    this.zoom = undefined;
    this.draw();
  }

  private local(ev: MouseEvent) {
    const r = this.canvas.getBoundingClientRect();
    return { x: ev.clientX - r.left, y: ev.clientY - r.top };
  }

  private window(): [number, number, number, number] {
    return this.zoom ?? [0, this.nx, 0, this.ny];
  }

  /** Bin under a point of the canvas (CSS pixels). */
  private toBin(x: number, y: number): { ix: number; iy: number } {
    const [x0, x1, y0, y1] = this.window();
    const p = this.plot;
    const fx = (x - p.x) / p.w;
    const fy = (y - p.y) / p.h;
    const ix = Math.max(x0, Math.min(x1 - 1, Math.floor(x0 + fx * (x1 - x0))));
    const row = Math.floor(fy * (y1 - y0));
    const iy = this.opts.image ? y0 + row : y1 - 1 - row;
    return { ix, iy: Math.max(y0, Math.min(y1 - 1, iy)) };
  }

  private hover(x: number, y: number): void {
    const p = this.plot;
    if (!this.data || x < p.x || x > p.x + p.w || y < p.y || y > p.y + p.h) {
      this.readout.textContent = "";
      return;
    }
    const { ix, iy } = this.toBin(x, y);
    const [ax, ay] = this.axes;
    const label = (a: AxisMeta, i: number) =>
      a.categories ? String(a.categories[i]) : `[${fmt(a.edges[i])}, ${fmt(a.edges[i + 1])})`;
    this.readout.textContent = `${ax?.name || "x"} ${label(ax, ix)}  ${ay?.name || "y"} ${label(ay, iy)}  →  ${fmt(this.data[ix * this.ny + iy])}`;
  }

  /** New values (C order: axis 0 slowest); draws at once. */
  setData(data: Float64Array, shape: number[], axes: AxisMeta[] | undefined): void {
    const [nx, ny] = shape;
    if (axes) this.axes = axes;
    if (nx !== this.nx || ny !== this.ny) {
      this.nx = nx;
      this.ny = ny;
      this.off.width = Math.max(1, ny);
      this.off.height = Math.max(1, nx);
      const octx = this.off.getContext("2d") as CanvasRenderingContext2D;
      this.img = octx.createImageData(Math.max(1, ny), Math.max(1, nx));
      this.px = new Uint32Array(this.img.data.buffer);
      this.zoom = undefined;
    }
    this.data = data;
    this.paint();
    this.draw();
  }

  /** Counts → colours into the ImageData, then onto the offscreen canvas. */
  paint(): void {
    const data = this.data;
    const px = this.px;
    if (!data || !px || !this.img) return;
    const n = data.length;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    let minPos = Number.POSITIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const v = data[i];
      if (v < min) min = v;
      if (v > max) max = v;
      if (v > 0 && v < minPos) minPos = v;
    }
    const log = this.opts.log;
    if (!Number.isFinite(min)) min = max = 0;
    if (log) {
      if (!Number.isFinite(minPos)) minPos = max = 1;
      min = minPos;
    }
    this.min = min;
    this.max = max;
    const lo = log ? Math.log(min) : min;
    const span = (log ? Math.log(max) : max) - lo;
    const scale = span > 0 ? 255.999 / span : 0;
    // The offscreen image is the transpose of the plot (row ix, column iy), so this pass is one linear sweep
    // over the C-order values; draw() swaps the axes back with its transform.
    for (let i = 0; i < n; i++) {
      const v = data[i];
      if (v === 0 || Number.isNaN(v)) px[i] = EMPTY;
      else if (log) px[i] = v > 0 ? LUT[Math.min(255, ((Math.log(v) - lo) * scale) | 0)] : EMPTY;
      else px[i] = LUT[Math.max(0, Math.min(255, ((v - lo) * scale) | 0))];
    }
    (this.off.getContext("2d") as CanvasRenderingContext2D).putImageData(this.img, 0, 0);
  }

  /** Blits the offscreen image into the plot box, with axes, zoom band and colour bar. */
  draw(): void {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const cssW = c.clientWidth || 400;
    const cssH = c.clientHeight || 300;
    if (c.width !== Math.round(cssW * dpr) || c.height !== Math.round(cssH * dpr)) {
      c.width = Math.round(cssW * dpr);
      c.height = Math.round(cssH * dpr);
    }
    const ctx = c.getContext("2d") as CanvasRenderingContext2D;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    const [x0, x1, y0, y1] = this.window();
    let w = cssW - M.left - M.right;
    let h = cssH - M.top - M.bottom;
    if (this.opts.image && x1 > x0 && y1 > y0) {
      const s = Math.min(w / (x1 - x0), h / (y1 - y0));
      w = s * (x1 - x0);
      h = s * (y1 - y0);
    }
    this.plot = { x: M.left, y: M.top, w, h };
    ctx.imageSmoothingEnabled = false;
    if (this.nx > 0 && this.ny > 0) {
      // offscreen (column iy, row ix) → screen (x from ix, y from iy: downwards for images, else upwards)
      const image = this.opts.image;
      ctx.setTransform(0, image ? dpr : -dpr, dpr, 0, M.left * dpr, (image ? M.top : M.top + h) * dpr);
      ctx.drawImage(this.off, y0, x0, y1 - y0, x1 - x0, 0, 0, h, w);
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    }
    ctx.strokeStyle = "#888";
    ctx.lineWidth = 1;
    ctx.strokeRect(M.left - 0.5, M.top - 0.5, w + 1, h + 1);
    // ticks
    ctx.fillStyle = getComputedStyle(c).color || "#222";
    ctx.font = "11px system-ui, sans-serif";
    const [ax, ay] = this.axes;
    if (ax) this.ticks(ctx, ax, x0, x1, "x");
    if (ay) this.ticks(ctx, ay, y0, y1, "y");
    if (this.drag) {
      const d = this.drag;
      ctx.strokeStyle = "#f0f";
      ctx.strokeRect(Math.min(d.x, d.x2), Math.min(d.y, d.y2), Math.abs(d.x2 - d.x), Math.abs(d.y2 - d.y));
    }
    this.drawBar(cssH);
  }

  private ticks(ctx: CanvasRenderingContext2D, a: AxisMeta, i0: number, i1: number, dir: "x" | "y"): void {
    const p = this.plot;
    const nt = 5;
    const along = dir === "x" ? p.w : p.h;
    for (let t = 0; t <= nt; t++) {
      const f = t / nt;
      const bin = i0 + f * (i1 - i0);
      const k = Math.floor(bin);
      const e0 = a.edges[Math.min(k, a.edges.length - 1)];
      const e1 = a.edges[Math.min(k + 1, a.edges.length - 1)];
      const value = a.categories
        ? t < nt
          ? String(a.categories[Math.min(k, a.categories.length - 1)] ?? "")
          : ""
        : fmt(e0 + (bin - k) * (e1 - e0));
      if (dir === "x") {
        const x = p.x + f * along;
        ctx.textAlign = t === 0 ? "left" : t === nt ? "right" : "center";
        ctx.fillText(value, x, p.y + p.h + 13);
      } else {
        const y = this.opts.image ? p.y + f * along : p.y + p.h - f * along;
        ctx.textAlign = "right";
        ctx.textBaseline = "middle";
        ctx.fillText(value, p.x - 4, y);
        ctx.textBaseline = "alphabetic";
      }
    }
    ctx.textAlign = "center";
    if (dir === "x") ctx.fillText(a.label || a.name, p.x + p.w / 2, p.y + p.h + 28);
    else {
      ctx.save();
      ctx.translate(11, p.y + p.h / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.fillText(a.label || a.name, 0, 0);
      ctx.restore();
    }
  }

  private drawBar(cssH: number): void {
    const b = this.bar;
    const dpr = window.devicePixelRatio || 1;
    const w = 64;
    if (b.width !== w * dpr || b.height !== Math.round(cssH * dpr)) {
      b.width = w * dpr;
      b.height = Math.round(cssH * dpr);
      b.style.width = `${w}px`;
      b.style.height = `${cssH}px`;
    }
    const ctx = b.getContext("2d") as CanvasRenderingContext2D;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, cssH);
    const top = M.top;
    const h = cssH - M.top - M.bottom;
    for (let i = 0; i < h; i++) {
      ctx.fillStyle = lutCss(Math.round(255 * (1 - i / Math.max(1, h - 1))));
      ctx.fillRect(0, top + i, 14, 1);
    }
    ctx.fillStyle = getComputedStyle(this.canvas).color || "#222";
    ctx.font = "11px system-ui, sans-serif";
    ctx.textAlign = "left";
    const log = this.opts.log;
    for (let t = 0; t <= 4; t++) {
      const f = t / 4;
      const v = log
        ? Math.exp(Math.log(this.min) + f * (Math.log(this.max) - Math.log(this.min)))
        : this.min + f * (this.max - this.min);
      ctx.textBaseline = "middle";
      ctx.fillText(fmt(v), 18, top + h - f * h);
    }
    ctx.fillText(log ? "log" : "lin", 18, top + h + 16);
  }

  /** A PNG of the plot with axes and colour bar side by side. */
  toPng(): Promise<Blob | null> {
    const out = document.createElement("canvas");
    out.width = this.canvas.width + this.bar.width;
    out.height = this.canvas.height;
    const ctx = out.getContext("2d") as CanvasRenderingContext2D;
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, out.width, out.height);
    ctx.drawImage(this.canvas, 0, 0);
    ctx.drawImage(this.bar, this.canvas.width, 0);
    return new Promise((res) => out.toBlob(res, "image/png"));
  }
}
