// Decoders for compressed numpy array bytes as clients send them; each throws CodecError on bad input.
export {
  BLOSC_DEFAULT_MAX_BYTES,
  type BloscCodec,
  type BloscHeader,
  decodeBlosc,
  parseBloscHeader,
} from "./blosc.ts";
export { CodecError, type CodecName } from "./errors.ts";
export { compressLz4Block, decodeLz4BlockInto, lz4CompressBound } from "./lz4-block.ts";
export { decodeLz4Frame, encodeLz4Frame } from "./lz4-frame.ts";
export { decodeZstd } from "./zstd.ts";
