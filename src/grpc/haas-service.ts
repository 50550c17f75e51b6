// The later HaaS protocol (proto/haas.proto, haas-protocols.md §2): /HistogrammerService/{Init,Fill,SnapShot,
// Flush}, many histograms by uuid, arrays Blosc-compressed both ways. Errors are success=false responses.
import type * as grpc from "@grpc/grpc-js";
import { histogramToUhi, STORAGE_KEYS, uhiToJson } from "../engine/index.ts";
import { f64Bytes, invalid } from "./arrays.ts";
import { histogramForClient, type ServerContext, toStatus, unary } from "./context.ts";
import { resolveDestination, writeHistogramFile } from "./files.ts";
import { histRepr } from "./repr.ts";
import { decodeKwargs, kwargsRepr, type SeedValue } from "./seed-service.ts";

/** A Blosc1 frame holding `data` uncompressed (the "memcpyed" flag), which numcodecs' Blosc decodes. */
export function bloscMemcpy(data: Uint8Array, typesize = 8): Uint8Array {
  const out = new Uint8Array(16 + data.byteLength);
  const dv = new DataView(out.buffer);
  out[0] = 2; // format version
  out[1] = 1; // compressor version
  out[2] = 0x02; // flags: memcpyed, no shuffle
  out[3] = typesize;
  dv.setUint32(4, data.byteLength, true); // nbytes
  dv.setUint32(8, data.byteLength, true); // blocksize
  dv.setUint32(12, out.byteLength, true); // cbytes
  out.set(data, 16);
  return out;
}

const ok = (message: string) => ({ success: true, message });
const fail = (e: unknown) => ({ success: false, message: toStatus(e).details });

export function haasHandlers(ctx: ServerContext): grpc.UntypedServiceImplementation {
  const { registry, log } = ctx;
  return {
    Init: unary<{ hist_json: string }, unknown>(ctx, "HistogrammerService/Init", (call, owner) => {
      try {
        const h = histogramForClient(ctx, owner, call.request.hist_json, { what: "hist_json" });
        const e = registry.add(h, owner);
        log.info(`Initialized histogram ${e.id}: ${histRepr(h)}`);
        return ok(e.id);
      } catch (e) {
        return fail(e);
      }
    }),
    Fill: unary<{ hist_id: string; kwargs: Record<string, SeedValue> }, unknown>(
      ctx,
      "HistogrammerService/Fill",
      async (call, owner) => {
        try {
          const entry = registry.get(call.request.hist_id, owner);
          const { values, bytes } = decodeKwargs(call.request.kwargs ?? {}, "blosc");
          await entry.run(() => {
            entry.hist.fillNamed(values);
            entry.fills++;
            entry.changed();
          });
          ctx.stats.fills++;
          ctx.stats.receivedBytes += bytes;
          log.info(`Filled histogram ${entry.id} with ${bytes.toLocaleString("en-US")} bytes`);
          return ok(`Histogram filled ${kwargsRepr(values)} successfully! Now is: ${histRepr(entry.hist)}`);
        } catch (e) {
          return fail(e);
        }
      },
    ),
    SnapShot: unary<{ hist_id: string; drop_from_server: boolean }, unknown>(
      ctx,
      "HistogrammerService/SnapShot",
      async (call, owner) => {
        try {
          const entry = registry.get(call.request.hist_id, owner);
          const ir = await entry.run(() => histogramToUhi(entry.hist));
          if (call.request.drop_from_server) registry.delete(entry.id, owner);
          const shape = ir.axes.length === 0 ? [] : entry.hist.extents;
          const data: Record<string, unknown> = {};
          for (const key of STORAGE_KEYS[ir.storage.type]) {
            const arr = ir.storage.data?.[key];
            if (arr === undefined) continue;
            data[key] = {
              array_value: { shape, dtype: { type: "TYPE_DT_FLOAT64" }, data: bloscMemcpy(f64Bytes(arr)) },
            };
          }
          const meta = uhiToJson({ ...ir, storage: { type: ir.storage.type } });
          return { success: true, message: `Snapshot of histogram ${entry.id}`, hist_json: meta, data };
        } catch (e) {
          return { ...fail(e), hist_json: "", data: {} };
        }
      },
    ),
    Flush: unary<{ hist_id: string; destination: string }, unknown>(
      ctx,
      "HistogrammerService/Flush",
      async (call, owner) => {
        try {
          const entry = registry.get(call.request.hist_id, owner);
          const dest = call.request.destination;
          if (!/\.(h5|hdf5)$/i.test(dest)) throw invalid(`destination '${dest}' must end in .h5 or .hdf5`);
          const path = resolveDestination(ctx.outputDir, dest);
          await entry.run(() => writeHistogramFile(entry.hist, path));
          registry.delete(entry.id, owner);
          log.info(`Flushed histogram ${entry.id} to ${dest}`);
          return ok(`Histogram ${entry.id} flushed successfully to ${dest}.`);
        } catch (e) {
          return fail(e);
        }
      },
    ),
  };
}
