// The dashboard's live-update protocol over one WebSocket (/ws). Shared by the server (src/http) and the page
// (src/web): plain types and the binary frame layout, no Node or DOM imports.
//
// Server → page, text (JSON):
//   {t:"list", entries: EntrySummary[]}          on connect and after a reconnect
//   {t:"add", entry: EntrySummary} / {t:"remove", key}
//   {t:"info", entries: {key, version, info}[]}  only entries that changed since the last tick
//   {t:"health", health: Health}                 once a second
// Page → server, text (JSON):
//   {t:"sub", sid, key, axes?}   send data frames of histogram `key` shown over `axes` (projection if fewer
//                                than its rank); replaces an earlier sub with the same sid
//   {t:"unsub", sid}
// Server → page, binary: one data frame per sub whose histogram changed (see encodeFrame/decodeFrame):
//   u32 LE header length, header JSON (FrameHeader), zero padding to a multiple of 8, then the payload:
//   mode "f32": n float32 values; "f64": n float64 values; "delta": k uint32 cell indices, padding to 8, k float64
//   values (the new values of the cells that changed since the page's last frame of this sub).

export interface AxisMeta {
  type: string;
  name: string;
  label: string;
  /** size + 1 edges (categories: 0..size). */
  edges: number[];
  categories?: (string | number)[];
}

export interface EntrySummary {
  key: string;
  door: string;
  id: string;
  name: string;
  kind: string;
  version: number;
  rank: number;
  storage: string;
  axes: AxisMeta[];
  info: Record<string, unknown>;
}

export interface Health {
  uptime: number;
  rss: number;
  heapUsed: number;
  histograms: number;
  clients: number;
  ready: boolean;
  version: string;
}

export interface FrameHeader {
  sid: string;
  key: string;
  version: number;
  mode: "f32" | "f64" | "delta";
  /** Number of cells. */
  n: number;
  /** Number of changed cells (delta). */
  k?: number;
  /** Shape of the display (values without flow bins, C order). */
  shape: number[];
  /** The displayed axes, sent when they change (first frame, growth, other projection). */
  axes?: AxisMeta[];
}

const pad8 = (n: number) => (n + 7) & ~7;

/** Encodes a data frame. `prev` (same length) makes it a delta frame when few cells changed. */
export function encodeFrame(
  header: Omit<FrameHeader, "mode" | "n" | "k">,
  data: Float64Array,
  prev?: Float64Array,
) {
  const n = data.length;
  let mode: FrameHeader["mode"] = "f32";
  let changed: Uint32Array | undefined;
  if (prev !== undefined && prev.length === n) {
    let k = 0;
    const limit = n / 3;
    for (let i = 0; i < n && k <= limit; i++) if (!Object.is(data[i], prev[i])) k++;
    if (k <= limit) {
      changed = new Uint32Array(k);
      let j = 0;
      for (let i = 0; i < n; i++) if (!Object.is(data[i], prev[i])) changed[j++] = i;
      mode = "delta";
    }
  }
  if (mode !== "delta") {
    // float32 when it loses nothing a screen could show: every value an integer below 2^24 (counts).
    for (let i = 0; i < n; i++) {
      const v = data[i];
      if (!(Number.isInteger(v) && Math.abs(v) < 16777216)) {
        mode = "f64";
        break;
      }
    }
  }
  const h: FrameHeader = { ...header, mode, n, ...(changed ? { k: changed.length } : {}) };
  const json = new TextEncoder().encode(JSON.stringify(h));
  const off = pad8(4 + json.length);
  let size: number;
  if (mode === "f32") size = off + 4 * n;
  else if (mode === "f64") size = off + 8 * n;
  else size = pad8(off + 4 * (changed as Uint32Array).length) + 8 * (changed as Uint32Array).length;
  const buf = new ArrayBuffer(size);
  new DataView(buf).setUint32(0, json.length, true);
  new Uint8Array(buf, 4, json.length).set(json);
  if (mode === "f32") new Float32Array(buf, off, n).set(data);
  else if (mode === "f64") new Float64Array(buf, off, n).set(data);
  else {
    const c = changed as Uint32Array;
    new Uint32Array(buf, off, c.length).set(c);
    const vals = new Float64Array(buf, pad8(off + 4 * c.length), c.length);
    for (let j = 0; j < c.length; j++) vals[j] = data[c[j]];
  }
  return new Uint8Array(buf);
}

/** Decodes a data frame into `target` (the page's copy of the sub's values; a new array on a full frame). */
export function decodeFrame(
  buf: ArrayBuffer,
  target: Float64Array | undefined,
): { header: FrameHeader; data: Float64Array } {
  const len = new DataView(buf).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, len))) as FrameHeader;
  const off = pad8(4 + len);
  const n = header.n;
  if (header.mode === "delta") {
    const k = header.k ?? 0;
    if (target === undefined || target.length !== n) throw new Error("delta frame without a base");
    const idx = new Uint32Array(buf, off, k);
    const vals = new Float64Array(buf, pad8(off + 4 * k), k);
    for (let j = 0; j < k; j++) target[idx[j]] = vals[j];
    return { header, data: target };
  }
  const data = target !== undefined && target.length === n ? target : new Float64Array(n);
  data.set(header.mode === "f32" ? new Float32Array(buf, off, n) : new Float64Array(buf, off, n));
  return { header, data };
}
