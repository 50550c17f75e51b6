// Flush/export: a destination resolves inside the server's output directory (absolute paths and `..` escapes
// are refused), and the file format follows its extension: .coffea (lz4 + pickle, coffea.util.load),
// .h5/.hdf5 (uhi.io.hdf5 layout, group "histogram"), .json (UHI JSON).
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname, extname, isAbsolute, relative, resolve, sep } from "node:path";
import { type Histogram, histogramToUhi, uhiToJson } from "../engine/index.ts";
import { encodeCoffea, writeUhiHdf5 } from "../formats/files/index.ts";
import { invalid } from "./arrays.ts";

export const FORMATS = [".coffea", ".h5", ".hdf5", ".json"];

export function resolveDestination(outputDir: string, destination: string): string {
  if (destination === "") throw invalid("destination is empty");
  if (destination.includes("\0")) throw invalid("destination contains a NUL byte");
  if (isAbsolute(destination))
    throw invalid(
      `destination '${destination}' is an absolute path; give a path relative to the output directory`,
    );
  const root = resolve(outputDir);
  const path = resolve(root, destination);
  const rel = relative(root, path);
  if (rel === "" || rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel))
    throw invalid(`destination '${destination}' escapes the output directory`);
  const ext = extname(path).toLowerCase();
  if (!FORMATS.includes(ext))
    throw invalid(
      `destination '${destination}' must end in ${FORMATS.join(", ")} (the extension picks the format)`,
    );
  return path;
}

/** Writes the histogram to `path` (already resolved) in the format of its extension; returns bytes written. */
export async function writeHistogramFile(h: Histogram, path: string): Promise<number> {
  const ext = extname(path).toLowerCase();
  await mkdir(dirname(path), { recursive: true });
  const ir = histogramToUhi(h);
  // Write to a temporary name and rename, so readers never see half a file.
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  let bytes: number;
  if (ext === ".coffea") {
    const data = encodeCoffea(ir);
    await writeFile(tmp, data);
    bytes = data.byteLength;
  } else if (ext === ".json") {
    const text = uhiToJson(ir);
    await writeFile(tmp, text);
    bytes = Buffer.byteLength(text);
  } else {
    await writeUhiHdf5(tmp, ir, "histogram");
    const { stat } = await import("node:fs/promises");
    bytes = (await stat(tmp)).size;
  }
  await rename(tmp, path);
  return bytes;
}
