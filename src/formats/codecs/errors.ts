// The one error type every decoder in this folder throws on bad input, so callers (gRPC handlers) can tell a
// client's corrupt payload (answer with an error result) from a bug in the server (crash loudly).

export type CodecName = "blosc" | "lz4" | "lz4-frame" | "zstd" | "blosclz" | "zlib";

export class CodecError extends Error {
  override name = "CodecError";
  readonly codec: CodecName;

  constructor(codec: CodecName, message: string, options?: ErrorOptions) {
    super(`${codec}: ${message}`, options);
    this.codec = codec;
  }
}
