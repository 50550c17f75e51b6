// Malformed, truncated, corrupted and foreign buffers must fail with FormatError (never another exception,
// never a hang). Each test has a timeout so a decoder loop on hostile lengths would show up as a failure.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  decodeEv44,
  decodeEvents,
  decodeHs01,
  decodeMessage,
  encodeEv44,
  encodeHs01,
  encodeX5f2,
  expectFileIdentifier,
  FormatError,
  readFileIdentifier,
} from "../../src/formats/flatbuffers/index.ts";
import { golden, rng } from "./flatbuffers-support.ts";

const timeout = 30_000;

const samples: [string, Uint8Array][] = [
  ["example_ev42_fb.dat", golden("example_ev42_fb.dat")],
  ["example_ev44_fb.dat", golden("example_ev44_fb.dat")],
  ["example_hs00_fb.dat", golden("example_hs00_fb.dat")],
  ["hs01_full_1d_float64", golden("python-sdt-generated/hs01_full_1d_float64.bin")],
  ["ev42_isis", golden("python-sdt-generated/ev42_isis.bin")],
  ["x5f2_basic", golden("python-sdt-generated/x5f2_basic.bin")],
];

/** Decoding may succeed (corruption landed in padding or a value) but may only ever fail with FormatError. */
function decodeOrFormatError(buf: Uint8Array, what: string): boolean {
  try {
    decodeMessage(buf);
    return true;
  } catch (e) {
    if (!(e instanceof FormatError)) assert.fail(`${what}: threw ${String(e)} instead of FormatError`);
    assert.ok(e.message.length > 10, `${what}: error message "${e.message}" is not descriptive`);
    return false;
  }
}

describe("malformed buffers", () => {
  it("short buffers name the problem", { timeout }, () => {
    for (let n = 0; n < 8; n++) {
      assert.throws(() => readFileIdentifier(new Uint8Array(n)), /too short/);
      assert.throws(() => decodeMessage(new Uint8Array(n)), FormatError);
    }
  });

  it("foreign and unknown schema ids are rejected with the id in the message", { timeout }, () => {
    const f144 = golden("python-sdt-tests/f144.bin");
    assert.throws(() => decodeMessage(f144), /unsupported message schema "f144"/);
    assert.throws(() => decodeEv44(f144), /expected a "ev44" message but got schema id "f144"/);
    assert.throws(
      () => decodeEvents(golden("python-sdt-tests/hs01.bin")),
      /"hs01"; expected one of ev42, ev44/,
    );
    assert.throws(() => expectFileIdentifier(encodeX5f2(status()), "hs01"), FormatError);
    const binary = new Uint8Array([8, 0, 0, 0, 0xff, 0, 1, 2, 0, 0, 0, 0]);
    assert.throws(() => decodeMessage(binary), /"\\xff\\x00\\x01\\x02"/);
    const json = new TextEncoder().encode('{"cmd": "config", "histograms": []}');
    assert.throws(() => decodeMessage(json), FormatError);
  });

  it("every truncation of real messages fails cleanly", { timeout }, () => {
    for (const [name, buf] of samples) {
      // Builders write back to front, so the tail holds the first-written data (strings, vectors).
      for (let n = 0; n < buf.length; n++) decodeOrFormatError(buf.subarray(0, n), `${name} cut to ${n}`);
      // The last bytes can be padding, but losing half the message must be detected.
      assert.throws(() => decodeMessage(buf.subarray(0, buf.length >> 1)), FormatError, `${name} halved`);
    }
  });

  it("random byte corruption never escapes as another error", { timeout }, () => {
    const next = rng(0xc0ffee);
    let failures = 0;
    for (const [name, buf] of samples) {
      for (let trial = 0; trial < 3000; trial++) {
        const bad = buf.slice();
        const flips = 1 + Math.floor(next() * 4);
        for (let k = 0; k < flips; k++)
          bad[4 + Math.floor(next() * (bad.length - 4))] = Math.floor(next() * 256);
        bad.set(buf.subarray(4, 8), 4); // keep the schema id so the table decoders are exercised
        if (!decodeOrFormatError(bad, `${name} trial ${trial}`)) failures++;
      }
    }
    assert.ok(failures > 100, `corruption should often be detected (got ${failures})`);
  });

  it("hostile offsets and lengths", { timeout }, () => {
    const good = encodeEv44({
      sourceName: "s",
      messageId: 1n,
      referenceTime: BigInt64Array.from([1n]),
      referenceTimeIndex: Int32Array.from([0]),
      timeOfFlight: Int32Array.from([1, 2, 3]),
      pixelId: Int32Array.from([4, 5, 6]),
    });
    const view = new DataView(good.buffer, good.byteOffset, good.byteLength);
    for (const rootOffset of [0xffffffff, good.length, good.length - 2, 0x80000000]) {
      const bad = good.slice();
      new DataView(bad.buffer).setUint32(0, rootOffset, true);
      assert.throws(() => decodeEv44(bad), FormatError);
    }
    // A vector length of 2^32-1 elements must be caught before any allocation or loop.
    const root = view.getUint32(0, true);
    const vtable = root - view.getInt32(root, true);
    const tofSlot = view.getUint16(vtable + 4 + 2 * 4, true);
    const tofVec = root + tofSlot + view.getUint32(root + tofSlot, true);
    const bad = good.slice();
    new DataView(bad.buffer).setUint32(tofVec, 0xffffffff, true);
    assert.throws(() => decodeEv44(bad), /time_of_flight.*outside the \d+-byte message/);
  });

  it("invalid UTF-8 and mismatched array lengths", { timeout }, () => {
    const msg = encodeHs01({
      source: "ZZZZ",
      timestamp: 0n,
      currentShape: [2],
      dimMetadata: [{ length: 2 }],
      data: Float64Array.from([1, 2]),
    });
    const bad = msg.slice();
    const at = Buffer.from(bad).indexOf("ZZZZ");
    bad[at] = 0xc3; // starts a 2-byte sequence, then an ASCII byte: invalid
    assert.throws(() => decodeHs01(bad), /source is not valid UTF-8/);
    // data claims 2 values for shape [2]; make current_shape [3] by editing the shape vector.
    const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
    const root = view.getUint32(0, true);
    const vtable = root - view.getInt32(root, true);
    const slot = view.getUint16(vtable + 4 + 2 * 4, true);
    const shapeVec = root + slot + view.getUint32(root + slot, true);
    const badShape = msg.slice();
    new DataView(badShape.buffer).setUint32(shapeVec + 4, 3, true);
    assert.throws(() => decodeHs01(badShape), /data has 2 values, current_shape \[3\] needs 3/);
  });
});

function status() {
  return {
    softwareName: "a",
    softwareVersion: "b",
    serviceId: "c",
    hostName: "d",
    processId: 1,
    updateInterval: 2,
    statusJson: "{}",
  };
}
