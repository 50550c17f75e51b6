// ESS streaming-data-types FlatBuffers codecs (ev42, ev44, hs00, hs01, x5f2) and schema-id dispatch.

import { FormatError } from "./errors.ts";
import {
  type AdcPulseDebug,
  decodeEv42,
  type Ev42Input,
  type Ev42Message,
  encodeEv42,
  type IsisData,
} from "./ev42.ts";
import { decodeEv44, type Ev44Input, type Ev44Message, encodeEv44 } from "./ev44.ts";
import type {
  DimensionMetadata,
  HistogramMessage,
  Hs00Input,
  Hs00Message,
  Hs00Values,
  Hs01Input,
  Hs01Message,
  Hs01Values,
} from "./histogram.ts";
import { decodeHs00, encodeHs00 } from "./hs00.ts";
import { decodeHs01, encodeHs01 } from "./hs01.ts";
import {
  expectFileIdentifier,
  isKnownSchema,
  type KnownSchema,
  knownSchemas,
  readFileIdentifier,
} from "./identifier.ts";
import { decodeX5f2, encodeX5f2, type StatusInput, type StatusMessage } from "./x5f2.ts";

export type {
  AdcPulseDebug,
  DimensionMetadata,
  Ev42Input,
  Ev42Message,
  Ev44Input,
  Ev44Message,
  HistogramMessage,
  Hs00Input,
  Hs00Message,
  Hs00Values,
  Hs01Input,
  Hs01Message,
  Hs01Values,
  IsisData,
  KnownSchema,
  StatusInput,
  StatusMessage,
};
export {
  decodeEv42,
  decodeEv44,
  decodeHs00,
  decodeHs01,
  decodeX5f2,
  encodeEv42,
  encodeEv44,
  encodeHs00,
  encodeHs01,
  encodeX5f2,
  expectFileIdentifier,
  FormatError,
  isKnownSchema,
  knownSchemas,
  readFileIdentifier,
};

export type EventMessage = Ev42Message | Ev44Message;
export type DecodedMessage = EventMessage | HistogramMessage | StatusMessage;

const decoders: { [K in KnownSchema]: (buf: Uint8Array) => DecodedMessage } = {
  ev42: decodeEv42,
  ev44: decodeEv44,
  hs00: decodeHs00,
  hs01: decodeHs01,
  x5f2: decodeX5f2,
};

/**
 * Decodes any supported message by its schema id; `accept` narrows what a consumer takes (e.g. an event
 * topic accepts only ev42/ev44), so a foreign message fails with a FormatError naming the id it carried.
 */
export function decodeMessage(
  buf: Uint8Array,
  accept: readonly KnownSchema[] = knownSchemas,
): DecodedMessage {
  const id = readFileIdentifier(buf);
  if (!isKnownSchema(id) || !accept.includes(id)) {
    throw new FormatError(`unsupported message schema "${id}"; expected one of ${accept.join(", ")}`);
  }
  return decoders[id](buf);
}

/** Decodes an ev42 or ev44 message; anything else is a FormatError. */
export function decodeEvents(buf: Uint8Array): EventMessage {
  return decodeMessage(buf, ["ev42", "ev44"]) as EventMessage;
}

/** Decodes an hs00 or hs01 message; anything else is a FormatError. */
export function decodeHistogramMessage(buf: Uint8Array): HistogramMessage {
  return decodeMessage(buf, ["hs00", "hs01"]) as HistogramMessage;
}
