// Zstandard via Node 24's built-in binding (node:zlib), which is native libzstd: no dependency, and faster than any
// JS/wasm port. maxOutputLength makes the stream stop (with an error) once the limit is reached, so a
// decompression bomb costs at most `maxOutputBytes` of memory.

import { zstdDecompressSync } from "node:zlib";
import { CodecError, type CodecName } from "./errors.ts";

/** Decodes one or more concatenated zstd frames, refusing to produce more than `maxOutputBytes`. */
export function decodeZstd(bytes: Uint8Array, maxOutputBytes: number, codec: CodecName = "zstd"): Uint8Array {
  if (bytes.length < 4 || bytes[0] !== 0x28 || bytes[1] !== 0xb5 || bytes[2] !== 0x2f || bytes[3] !== 0xfd) {
    throw new CodecError(codec, "bad zstd magic number");
  }
  try {
    // maxOutputLength must be >= 1 for node:zlib.
    const out = zstdDecompressSync(bytes, { maxOutputLength: Math.max(1, maxOutputBytes) });
    if (out.length > maxOutputBytes)
      throw new CodecError(codec, `output exceeds the limit of ${maxOutputBytes} bytes`);
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  } catch (e) {
    if (e instanceof CodecError) throw e;
    const code = (e as { code?: string }).code;
    if (code === "ERR_BUFFER_TOO_LARGE") {
      throw new CodecError(codec, `output exceeds the limit of ${maxOutputBytes} bytes`, { cause: e });
    }
    throw new CodecError(codec, `corrupt data (${(e as Error).message})`, { cause: e });
  }
}
