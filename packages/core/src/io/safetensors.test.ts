import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../errors/errors";
import { bfloat16ToFloat32, float16ToFloat32 } from "./half-precision";
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from "./safetensors";

const folder = mkdtempSync(join(tmpdir(), "mm-safetensors-"));

/** A file with the given JSON header and data bytes, laid out as the format specifies. */
function rawFile(name: string, header: unknown, data: Buffer, declaredLength?: bigint): string {
  const headerBytes = Buffer.isBuffer(header) ? header : Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(declaredLength ?? BigInt(headerBytes.length));
  const path = join(folder, name);
  writeFileSync(path, Buffer.concat([length, headerBytes, data]));
  return path;
}

describe("safetensors", () => {
  it("round-trips float32 and int32 tensors with identical bytes", () => {
    const path = join(folder, "round-trip.safetensors");
    const tensors = new Map([
      ["b.weight", { shape: [2, 2], values: Float32Array.from([1.5, -2, 3.25, 0]) }],
      ["a.ids", { shape: [3], values: Int32Array.from([7, -1, 2]) }],
    ]);
    writeSafetensors(path, tensors);
    const { tensors: read, metadata } = readSafetensors(path);
    expect(metadata).toEqual({ format: "pt" });
    expect([...read.keys()]).toEqual(["a.ids", "b.weight"]);
    expect(Array.from(read.get("b.weight")!.values)).toEqual([1.5, -2, 3.25, 0]);
    expect(read.get("a.ids")!.values).toBeInstanceOf(Int32Array);
    const again = join(folder, "round-trip-2.safetensors");
    writeSafetensors(again, new Map([...read].map(([name, entry]) => [name, { shape: entry.shape, values: entry.values }])));
    expect(readFileSync(again).equals(readFileSync(path))).toBe(true);
    const header = readSafetensorsHeader(path);
    expect([...header.tensors]).toEqual([["a.ids", { storedDtype: "I32", shape: [3] }], ["b.weight", { storedDtype: "F32", shape: [2, 2] }]]);
  });

  it("widens F16 and BF16 to float32", () => {
    const data = Buffer.alloc(8);
    data.writeUInt16LE(0x3c00, 0); // F16 1.0
    data.writeUInt16LE(0xc000, 2); // F16 -2.0
    data.writeUInt16LE(0x3fc0, 4); // BF16 1.5
    data.writeUInt16LE(0x4049, 6); // BF16 3.140625
    const path = rawFile("half.safetensors", { h: { dtype: "F16", shape: [2], data_offsets: [0, 4] }, b: { dtype: "BF16", shape: [2], data_offsets: [4, 8] } }, data);
    const { tensors } = readSafetensors(path);
    expect(Array.from(tensors.get("h")!.values)).toEqual([1, -2]);
    expect(Array.from(tensors.get("b")!.values)).toEqual([1.5, 3.140625]);
    expect(float16ToFloat32(0x0001)).toBeCloseTo(5.96e-8, 10);
    expect(bfloat16ToFloat32(0xff80)).toBe(-Infinity);
  });

  it.each([
    ["a header length past the end of the file", () => rawFile("long.safetensors", {}, Buffer.alloc(0), 1000n), /header length 1000 runs past the end/],
    ["a header length over the limit", () => rawFile("huge.safetensors", {}, Buffer.alloc(0), 1n << 40n), /exceeds 100000000 bytes/],
    ["a file shorter than 8 bytes", () => { const p = join(folder, "tiny.safetensors"); writeFileSync(p, "abc"); return p; }, /fewer than the 8-byte header length/],
    ["data offsets outside the data", () => rawFile("offsets.safetensors", { w: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, Buffer.alloc(8)), /data offsets \[0,16\] outside the 8 bytes/],
    ["a byte count that does not fit the shape", () => rawFile("size.safetensors", { w: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, Buffer.alloc(8)), /has 8 bytes but shape \[3\] of F32 needs 12/],
    ["an unsupported dtype", () => rawFile("dtype.safetensors", { w: { dtype: "F64", shape: [1], data_offsets: [0, 8] } }, Buffer.alloc(8)), /unsupported dtype "F64"/],
    ["a header that is not JSON", () => rawFile("json.safetensors", Buffer.from("{x}"), Buffer.alloc(0)), /header is not valid JSON/],
    ["a header that is not an object", () => rawFile("array.safetensors", [1], Buffer.alloc(0)), /header is not a JSON object/],
  ])("rejects %s", (_name, makeFile, message) => {
    const path = makeFile();
    expect(() => readSafetensors(path)).toThrow(InputError);
    expect(() => readSafetensors(path)).toThrow(message);
  });

  it("names a missing file", () => {
    expect(() => readSafetensors(join(folder, "absent.safetensors"))).toThrow(/cannot open weights file .*absent.safetensors: ENOENT/);
  });
});
