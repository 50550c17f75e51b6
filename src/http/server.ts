// The HTTP door of `histd serve` and `histd kafka`: the live dashboard (static files built into build/web), its
// WebSocket (/ws, see protocol.ts), the REST API over the catalog, Prometheus /metrics, /healthz and /readyz.
// Auth is the gRPC side's: with tokens, every API, WebSocket and /metrics request needs `Authorization: Bearer
// <token>` (or `?token=` where a browser cannot set headers) and sees the histograms of that token plus the
// anonymous ones; the page itself, /healthz and /readyz are open.
import { existsSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, resolve } from "node:path";
import { WebSocket, WebSocketServer } from "ws";
import type { Catalog, CatalogEntry, ChangeKind } from "../catalog/index.ts";
import { HistError, histogramToUhi, project, uhiToJson } from "../engine/index.ts";
import { renderMetrics } from "./metrics.ts";
import { type EntrySummary, encodeFrame, type Health } from "./protocol.ts";
import { defaultAxes, display, resolveAxes, select, summary } from "./views.ts";

export const WEB_DIR = resolve(import.meta.dirname, "../../build/web");
const VERSION = "0.1.0";

export interface HttpOptions {
  catalog: Catalog;
  host?: string;
  port?: number;
  tokens?: Set<string>;
  /** Largest request body (default 1 MiB) and URL (default 8 KiB). */
  maxBodyBytes?: number;
  maxUrlBytes?: number;
  /** How often changes are pushed to pages (default 200 ms). */
  pushMs?: number;
  /** Where the built dashboard is (default build/web). */
  webDir?: string;
}

export interface HttpServer {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

interface Sub {
  key: string;
  axesRef: (string | number)[] | undefined;
  version: number;
  prev: Float64Array | undefined;
  metaJson: string;
}

interface Client {
  ws: WebSocket;
  owner: string;
  subs: Map<string, Sub>;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/** Counters of the HTTP side, for /metrics. */
class HttpStats {
  requests = new Map<string, number>();
  sentBytes = 0;
  frames = 0;
  lastFrameBytes = 0;
  publishSeconds = 0;
  publishes = 0;
  count(route: string, code: number) {
    const k = `${route}\t${code}`;
    this.requests.set(k, (this.requests.get(k) ?? 0) + 1);
  }
}

export async function startHttp(opts: HttpOptions): Promise<HttpServer> {
  const { catalog, tokens } = opts;
  const maxBody = opts.maxBodyBytes ?? 1024 * 1024;
  const maxUrl = opts.maxUrlBytes ?? 8192;
  const webDir = opts.webDir ?? WEB_DIR;
  const started = Date.now();
  const stats = new HttpStats();
  const clients = new Set<Client>();

  const visible = (e: CatalogEntry, owner: string) => e.owner === "" || e.owner === owner;

  /** The caller's token ("" anonymous); throws 401 when the server needs one. */
  const callerOf = (req: IncomingMessage, url: URL): string => {
    let token = "";
    const auth = req.headers.authorization;
    if (auth !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
      if (!m) throw new HttpError(401, "authorization must be 'Bearer <token>'");
      token = m[1];
    } else token = url.searchParams.get("token") ?? "";
    if (tokens !== undefined) {
      if (token === "") throw new HttpError(401, "this server requires a bearer token");
      if (!tokens.has(token)) throw new HttpError(401, "unknown bearer token");
    }
    return token;
  };

  const health = (): Health => {
    const m = process.memoryUsage();
    return {
      uptime: (Date.now() - started) / 1000,
      rss: m.rss,
      heapUsed: m.heapUsed,
      histograms: catalog.size,
      clients: clients.size,
      ready: ready(),
      version: VERSION,
    };
  };
  const ready = () => [...catalog.readiness.values()].every((f) => f());

  const httpMetrics = () => {
    const m = process.memoryUsage();
    const byDoor = new Map<string, number>();
    for (const e of catalog.list()) byDoor.set(e.door, (byDoor.get(e.door) ?? 0) + 1);
    return [
      ...[...stats.requests].map(([k, value]) => {
        const [route, code] = k.split("\t");
        return {
          name: "histd_http_requests_total",
          help: "HTTP requests by route and status code",
          type: "counter" as const,
          labels: { route, code },
          value,
        };
      }),
      ...[...byDoor].map(([door, value]) => ({
        name: "histd_histograms",
        help: "Live histograms by door",
        type: "gauge" as const,
        labels: { door },
        value,
      })),
      {
        name: "histd_ws_clients",
        help: "Connected dashboard pages",
        type: "gauge" as const,
        value: clients.size,
      },
      {
        name: "histd_ws_sent_bytes_total",
        help: "Bytes of live updates sent to pages",
        type: "counter" as const,
        value: stats.sentBytes,
      },
      {
        name: "histd_ws_frames_total",
        help: "Data frames sent to pages",
        type: "counter" as const,
        value: stats.frames,
      },
      {
        name: "histd_publish_seconds_total",
        help: "Seconds spent preparing and sending live updates",
        type: "counter" as const,
        value: stats.publishSeconds,
      },
      {
        name: "histd_publishes_total",
        help: "Live update ticks that sent something",
        type: "counter" as const,
        value: stats.publishes,
      },
      {
        name: "histd_process_resident_memory_bytes",
        help: "Resident set size",
        type: "gauge" as const,
        value: m.rss,
      },
      {
        name: "histd_process_heap_used_bytes",
        help: "V8 heap used",
        type: "gauge" as const,
        value: m.heapUsed,
      },
      {
        name: "histd_process_array_buffers_bytes",
        help: "Memory of ArrayBuffers (histogram storage)",
        type: "gauge" as const,
        value: m.arrayBuffers,
      },
      {
        name: "histd_uptime_seconds",
        help: "Seconds since the HTTP door started",
        type: "gauge" as const,
        value: (Date.now() - started) / 1000,
      },
    ];
  };

  const json = (res: ServerResponse, status: number, body: unknown) => {
    const text = typeof body === "string" ? body : JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(text);
  };

  const entryOf = (key: string, owner: string): CatalogEntry => {
    const e = catalog.get(key);
    if (e === undefined || !visible(e, owner)) throw new HttpError(404, `no histogram with key '${key}'`);
    return e;
  };

  /** Reads (and bounds) a request body. */
  const readBody = (req: IncomingMessage): Promise<Buffer> =>
    new Promise((res, rej) => {
      const declared = Number(req.headers["content-length"] ?? 0);
      if (declared > maxBody) {
        rej(new HttpError(413, `request body over the limit of ${maxBody} bytes`));
        req.resume();
        return;
      }
      const parts: Buffer[] = [];
      let n = 0;
      req.on("data", (d: Buffer) => {
        n += d.length;
        if (n > maxBody) {
          rej(new HttpError(413, `request body over the limit of ${maxBody} bytes`));
          req.destroy();
        } else parts.push(d);
      });
      req.on("end", () => res(Buffer.concat(parts)));
      req.on("error", rej);
    });

  const serveStatic = (res: ServerResponse, path: string): boolean => {
    const rel = path === "/" ? "index.html" : path.slice(1);
    if (rel.includes("..") || !/^[\w./-]+$/.test(rel)) return false;
    const file = join(webDir, rel);
    if (!existsSync(file)) {
      if (rel === "index.html") {
        res.writeHead(503, { "content-type": "text/plain" });
        res.end("the dashboard is not built: run `npm run build:web`\n");
        return true;
      }
      return false;
    }
    res.writeHead(200, {
      "content-type": TYPES[extname(file)] ?? "application/octet-stream",
      "cache-control": "no-cache",
    });
    res.end(readFileSync(file));
    return true;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<string> => {
    if ((req.url ?? "").length > maxUrl) throw new HttpError(414, `URL over the limit of ${maxUrl} bytes`);
    const url = new URL(req.url ?? "/", "http://x");
    const path = url.pathname;
    const method = req.method ?? "GET";
    if (method !== "GET" && method !== "HEAD") await readBody(req);
    if (path === "/healthz") {
      json(res, 200, { ok: true, ...health() });
      return "/healthz";
    }
    if (path === "/readyz") {
      const r = ready();
      json(res, r ? 200 : 503, { ready: r });
      return "/readyz";
    }
    if (path === "/metrics") {
      callerOf(req, url);
      const samples = [...catalog.collectors].flatMap((f) => f()).concat(httpMetrics());
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
      res.end(renderMetrics(samples));
      return "/metrics";
    }
    if (path === "/api/health") {
      callerOf(req, url);
      json(res, 200, health());
      return "/api/health";
    }
    const m = /^\/api\/histograms(?:\/([^/]+)(?:\/([a-z]+))?)?\/?$/.exec(path);
    if (m) {
      const owner = callerOf(req, url);
      if (m[1] === undefined) {
        if (method !== "GET") throw new HttpError(405, `${method} not allowed here`);
        const list: EntrySummary[] = catalog
          .list()
          .filter((e) => visible(e, owner))
          .map(summary);
        json(res, 200, { histograms: list });
        return "/api/histograms";
      }
      const key = decodeURIComponent(m[1]);
      const action = m[2] ?? "";
      const e = entryOf(key, owner);
      const route = `/api/histograms/{key}${action ? `/${action}` : ""}`;
      if (action === "" && method === "DELETE") {
        if (!e.source.remove)
          throw new HttpError(405, `histograms of the ${e.door} door cannot be deleted here`);
        await e.source.remove();
        catalog.remove(e);
        json(res, 200, { deleted: key });
        return route;
      }
      if (action === "reset") {
        if (method !== "POST") throw new HttpError(405, "use POST to reset");
        if (!e.source.reset)
          throw new HttpError(405, `histograms of the ${e.door} door cannot be reset here`);
        await e.source.reset();
        e.touch();
        json(res, 200, { reset: key, version: e.version });
        return route;
      }
      if (method !== "GET" && method !== "HEAD") throw new HttpError(405, `${method} not allowed here`);
      const h = e.histogram();
      if (action === "") json(res, 200, summary(e));
      else if (action === "uhi") json(res, 200, uhiToJson(histogramToUhi(h)));
      else if (action === "projection") {
        const refs = (url.searchParams.get("axes") ?? "").split(",").filter((s) => s !== "");
        if (refs.length === 0) throw new HttpError(400, "projection needs ?axes=<index or name>[,...]");
        json(res, 200, uhiToJson(histogramToUhi(project(h, resolveAxes(h, refs)))));
      } else if (action === "slice") {
        json(res, 200, uhiToJson(histogramToUhi(select(h, url.searchParams.get("sel") ?? ""))));
      } else throw new HttpError(404, `no such resource '${action}'`);
      return route;
    }
    if (method === "GET" && serveStatic(res, path)) return "static";
    throw new HttpError(404, `no such resource '${path}'`);
  };

  const server = createServer({ maxHeaderSize: 16384 }, (req, res) => {
    handle(req, res).then(
      (route) => stats.count(route, res.statusCode),
      (e: unknown) => {
        const status = e instanceof HttpError ? e.status : e instanceof HistError ? 400 : 500;
        const message = e instanceof Error ? e.message : String(e);
        if (!res.headersSent) {
          const headers: Record<string, string> = { "content-type": "application/json", connection: "close" };
          if (status === 401) headers["www-authenticate"] = "Bearer";
          res.writeHead(status, headers);
          res.end(JSON.stringify({ error: message, status }));
        } else res.destroy();
        stats.count("error", status);
      },
    );
  });

  // ---- live updates ----
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  server.on("upgrade", (req, socket, head) => {
    const url = new URL(req.url ?? "/", "http://x");
    let owner: string;
    try {
      if (url.pathname !== "/ws") throw new HttpError(404, "no WebSocket here");
      owner = callerOf(req, url);
    } catch (e) {
      const status = e instanceof HttpError ? e.status : 400;
      socket.end(
        `HTTP/1.1 ${status} ${status === 401 ? "Unauthorized" : "Not Found"}\r\nconnection: close\r\n\r\n`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const c: Client = { ws, owner, subs: new Map() };
      clients.add(c);
      ws.on("close", () => clients.delete(c));
      ws.on("error", () => clients.delete(c));
      ws.on("message", (raw, isBinary) => {
        if (isBinary) return;
        try {
          const msg = JSON.parse(String(raw)) as {
            t: string;
            sid?: string;
            key?: string;
            axes?: (string | number)[];
          };
          if (msg.t === "sub" && typeof msg.sid === "string" && typeof msg.key === "string")
            c.subs.set(msg.sid, {
              key: msg.key,
              axesRef: msg.axes,
              version: -1,
              prev: undefined,
              metaJson: "",
            });
          else if (msg.t === "unsub" && typeof msg.sid === "string") c.subs.delete(msg.sid);
          scheduleSoon();
        } catch {
          // ignore malformed messages
        }
      });
      send(c, {
        t: "list",
        entries: catalog
          .list()
          .filter((e) => visible(e, owner))
          .map(safeSummary)
          .filter((s) => s !== undefined),
      });
      send(c, { t: "health", health: health() });
    });
  });

  const safeSummary = (e: CatalogEntry): EntrySummary | undefined => {
    try {
      return summary(e);
    } catch {
      return undefined;
    }
  };

  const send = (c: Client, msg: unknown) => {
    if (c.ws.readyState !== WebSocket.OPEN) return;
    const text = JSON.stringify(msg);
    stats.sentBytes += text.length;
    c.ws.send(text);
  };

  const changes = new Map<string, { entry: CatalogEntry; kind: ChangeKind }>();
  const unlisten = catalog.onChange((entry, kind) => {
    const old = changes.get(entry.key);
    // an add followed by changes stays an add; anything followed by a remove is a remove
    if (old?.kind === "add" && kind === "change") return;
    changes.set(entry.key, { entry, kind });
  });

  /** Display values shared by every page showing the same histogram over the same axes at one version. */
  const displays = new Map<
    string,
    { version: number; shape: number[]; data: Float64Array; metaJson: string }
  >();
  const displayOf = (e: CatalogEntry, axesRef: (string | number)[] | undefined) => {
    const h = e.histogram();
    const axes = axesRef === undefined ? defaultAxes(h.rank) : resolveAxes(h, axesRef);
    const dkey = `${e.key}|${axes.join(",")}`;
    const cached = displays.get(dkey);
    if (cached && cached.version === e.version) return cached;
    const d = display(h, axes);
    const v = { version: e.version, shape: d.shape, data: d.data, metaJson: JSON.stringify(d.axes) };
    displays.set(dkey, v);
    return v;
  };

  let lastHealth = 0;
  const tick = () => {
    const t0 = performance.now();
    let sent = false;
    const batch = [...changes.values()];
    changes.clear();
    for (const { entry, kind } of batch)
      if (kind === "remove")
        for (const k of displays.keys()) if (k.startsWith(`${entry.key}|`)) displays.delete(k);
    for (const c of clients) {
      if (c.ws.readyState !== WebSocket.OPEN) continue;
      const infos: { key: string; version: number; info: unknown }[] = [];
      for (const { entry, kind } of batch) {
        if (!visible(entry, c.owner)) continue;
        if (kind === "remove") send(c, { t: "remove", key: entry.key });
        else if (kind === "add") {
          for (const sub of c.subs.values())
            if (sub.key === entry.key) {
              sub.version = -1;
              sub.prev = undefined;
              sub.metaJson = "";
            }
          const s = safeSummary(entry);
          if (s) send(c, { t: "add", entry: s });
        } else if (catalog.get(entry.key) === entry)
          infos.push({ key: entry.key, version: entry.version, info: entry.info() });
      }
      if (infos.length > 0) send(c, { t: "info", entries: infos });
      // Data frames: only subs whose histogram changed, and only while the page keeps up.
      for (const [sid, sub] of c.subs) {
        if (c.ws.bufferedAmount > 16 * 1024 * 1024) break;
        const e = catalog.get(sub.key);
        if (e === undefined || !visible(e, c.owner) || e.version === sub.version) continue;
        let d: ReturnType<typeof displayOf>;
        try {
          d = displayOf(e, sub.axesRef);
        } catch (err) {
          send(c, { t: "error", sid, error: err instanceof Error ? err.message : String(err) });
          sub.version = e.version;
          continue;
        }
        const metaChanged = d.metaJson !== sub.metaJson;
        const frame = encodeFrame(
          {
            sid,
            key: e.key,
            version: e.version,
            shape: d.shape,
            ...(metaChanged ? { axes: JSON.parse(d.metaJson) } : {}),
          },
          d.data,
          metaChanged ? undefined : sub.prev,
        );
        c.ws.send(frame);
        stats.sentBytes += frame.byteLength;
        stats.frames++;
        stats.lastFrameBytes = frame.byteLength;
        sent = true;
        sub.version = e.version;
        sub.metaJson = d.metaJson;
        if (sub.prev === undefined || sub.prev.length !== d.data.length) sub.prev = new Float64Array(d.data);
        else sub.prev.set(d.data);
      }
    }
    const now = Date.now();
    if (now - lastHealth >= 1000) {
      lastHealth = now;
      const h = health();
      for (const c of clients) send(c, { t: "health", health: h });
    }
    if (sent) {
      stats.publishes++;
      stats.publishSeconds += (performance.now() - t0) / 1000;
    }
  };
  const pushMs = opts.pushMs ?? 200;
  const timer = setInterval(tick, pushMs);
  timer.unref();
  let soon: NodeJS.Timeout | undefined;
  const scheduleSoon = () => {
    if (soon) return;
    soon = setTimeout(() => {
      soon = undefined;
      tick();
    }, 5);
  };

  await new Promise<void>((res, rej) => {
    server.once("error", rej);
    server.listen(opts.port ?? 8080, opts.host ?? "::", () => res());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host && opts.host !== "::" && opts.host !== "0.0.0.0" ? opts.host : "localhost";
  return {
    server,
    port,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}/`,
    close: () =>
      new Promise<void>((res) => {
        clearInterval(timer);
        if (soon) clearTimeout(soon);
        unlisten();
        for (const c of clients) c.ws.terminate();
        wss.close();
        server.close(() => res());
        server.closeAllConnections();
      }),
  };
}
