import { FormatError } from "./errors.ts";

/** The schema ids histd decodes; anything else on a topic is a foreign message. */
export const knownSchemas = ["ev42", "ev44", "hs00", "hs01", "x5f2"] as const;
export type KnownSchema = (typeof knownSchemas)[number];

/**
 * Reads the 4-character FlatBuffers file identifier (bytes 4-7), the schema id ESS consumers dispatch on.
 * Non-printable bytes are shown as \xNN so an error about a foreign message stays readable.
 */
export function readFileIdentifier(buf: Uint8Array): string {
  if (buf.length < 8) {
    throw new FormatError(
      `message too short for a FlatBuffers schema id: ${buf.length} bytes, need at least 8`,
    );
  }
  let id = "";
  for (let i = 4; i < 8; i++) {
    const c = buf[i];
    id += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, "0")}`;
  }
  return id;
}

/** Throws FormatError unless the message carries `expected` as its schema id. */
export function expectFileIdentifier(buf: Uint8Array, expected: string): void {
  const id = readFileIdentifier(buf);
  if (id !== expected) throw new FormatError(`expected a "${expected}" message but got schema id "${id}"`);
}

export function isKnownSchema(id: string): id is KnownSchema {
  return (knownSchemas as readonly string[]).includes(id);
}
