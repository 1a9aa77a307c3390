import { closeSync, fstatSync, mkdirSync, openSync, readSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { InputError } from "../errors/errors";
import { float16ToFloat32, bfloat16ToFloat32 } from "./half-precision";

/** Largest JSON header accepted (the safetensors reference implementation uses the same 100 MB limit). */
export const MAX_HEADER_BYTES = 100_000_000;

const BYTES_PER_ELEMENT: Record<string, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8, U8: 1, BOOL: 1 };

/** One tensor read from a safetensors file, widened to float32 or int32. */
export interface SafetensorsEntry {
  /** The dtype stored in the file (F32, F16, BF16, I32, I64, U8, BOOL). */
  storedDtype: string;
  shape: number[];
  values: Float32Array | Int32Array;
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/**
 * Reads a safetensors file: 8 bytes of little-endian header length, a JSON header, then the raw
 * little-endian tensor data. F32, F16 and BF16 become Float32Array; I32, I64, U8 and BOOL become
 * Int32Array. The header is checked against the file size before anything large is allocated.
 */
export function readSafetensors(path: string): { tensors: Map<string, SafetensorsEntry>; metadata: Record<string, string> } {
  return withHeader(path, (fd, entries, dataStart, metadata) => {
    const tensors = new Map<string, SafetensorsEntry>();
    for (const [name, entry] of entries) {
      const bytes = Buffer.alloc(entry.data_offsets[1] - entry.data_offsets[0]);
      readSync(fd, bytes, 0, bytes.length, dataStart + entry.data_offsets[0]);
      tensors.set(name, { storedDtype: entry.dtype, shape: entry.shape, values: decodeValues(bytes, entry.dtype, path, name) });
    }
    return { tensors, metadata };
  });
}

/**
 * Reads only the header of a safetensors file: each tensor's stored dtype and shape, checked as in
 * `readSafetensors`, without reading tensor data.
 */
export function readSafetensorsHeader(path: string): { tensors: Map<string, { storedDtype: string; shape: number[] }>; metadata: Record<string, string> } {
  return withHeader(path, (_fd, entries, _dataStart, metadata) => ({
    tensors: new Map(entries.map(([name, entry]) => [name, { storedDtype: entry.dtype, shape: entry.shape }])),
    metadata,
  }));
}

/** Opens the file, validates its header and passes the entries to `read` before closing it. */
function withHeader<T>(path: string, read: (fd: number, entries: Array<[string, HeaderEntry]>, dataStart: number, metadata: Record<string, string>) => T): T {
  const fd = openFile(path);
  try {
    const fileSize = fstatSync(fd).size;
    const { header, dataStart } = readHeader(fd, path, fileSize);
    const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
    const entries = Object.entries(header)
      .filter(([name]) => name !== "__metadata__")
      .map(([name, raw]): [string, HeaderEntry] => [name, validateEntry(path, name, raw, fileSize - dataStart)]);
    return read(fd, entries, dataStart, metadata);
  } finally {
    closeSync(fd);
  }
}

function openFile(path: string): number {
  try {
    return openSync(path, "r");
  } catch (error) {
    throw new InputError(`cannot open weights file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; check the path`, path);
  }
}

function readHeader(fd: number, path: string, fileSize: number): { header: Record<string, unknown>; dataStart: number } {
  const invalid = (why: string) => new InputError(`invalid safetensors file ${path}: ${why}; the file is truncated or not a safetensors file`, path);
  if (fileSize < 8) throw invalid(`it has ${fileSize} bytes, fewer than the 8-byte header length`);
  const lengthBytes = Buffer.alloc(8);
  readSync(fd, lengthBytes, 0, 8, 0);
  const headerLength = Number(lengthBytes.readBigUInt64LE(0));
  if (headerLength > MAX_HEADER_BYTES) throw invalid(`header length ${headerLength} exceeds ${MAX_HEADER_BYTES} bytes`);
  if (8 + headerLength > fileSize) throw invalid(`header length ${headerLength} runs past the end of the ${fileSize}-byte file`);
  const headerBytes = Buffer.alloc(headerLength);
  readSync(fd, headerBytes, 0, headerLength, 8);
  let header: unknown;
  try {
    header = JSON.parse(headerBytes.toString("utf8"));
  } catch (error) {
    throw invalid(`header is not valid JSON (${(error as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) throw invalid("header is not a JSON object");
  return { header: header as Record<string, unknown>, dataStart: 8 + headerLength };
}

function validateEntry(path: string, name: string, raw: unknown, dataSize: number): HeaderEntry {
  const invalid = (why: string) => new InputError(`invalid safetensors file ${path}: tensor "${name}" ${why}`, path);
  const entry = raw as HeaderEntry;
  const elementBytes = BYTES_PER_ELEMENT[entry?.dtype];
  if (elementBytes === undefined) throw invalid(`has unsupported dtype ${JSON.stringify(entry?.dtype)}; supported: ${Object.keys(BYTES_PER_ELEMENT).join(", ")}`);
  if (!Array.isArray(entry.shape) || !entry.shape.every((d) => Number.isInteger(d) && d >= 0)) throw invalid("has an invalid shape");
  const [begin, end] = entry.data_offsets ?? [];
  if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end < begin || end > dataSize) {
    throw invalid(`has data offsets [${entry.data_offsets}] outside the ${dataSize} bytes of data`);
  }
  const expected = entry.shape.reduce((a, b) => a * b, 1) * elementBytes;
  if (end - begin !== expected) throw invalid(`has ${end - begin} bytes but shape [${entry.shape}] of ${entry.dtype} needs ${expected}`);
  return entry;
}

function decodeValues(bytes: Buffer, dtype: string, path: string, name: string): Float32Array | Int32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = bytes.length / BYTES_PER_ELEMENT[dtype];
  switch (dtype) {
    case "F32":
      return new Float32Array(copyBytes(bytes)); // the copy is 4-byte aligned; data is little-endian
    case "F16":
      return Float32Array.from({ length: count }, (_, i) => float16ToFloat32(view.getUint16(i * 2, true)));
    case "BF16":
      return Float32Array.from({ length: count }, (_, i) => bfloat16ToFloat32(view.getUint16(i * 2, true)));
    case "I32":
      return new Int32Array(copyBytes(bytes));
    case "I64":
      return Int32Array.from({ length: count }, (_, i) => narrowInt64(view.getBigInt64(i * 8, true), path, name));
    default:
      return Int32Array.from(bytes);
  }
}

function copyBytes(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function narrowInt64(value: bigint, path: string, name: string): number {
  if (value > 2147483647n || value < -2147483648n) {
    throw new InputError(`${path}: tensor "${name}" contains the int64 value ${value}, which does not fit in int32`, path);
  }
  return Number(value);
}

/** A tensor to write: float32 values are stored as F32, int32 values as I32. */
export interface SafetensorsWriteEntry {
  shape: number[];
  values: Float32Array | Int32Array;
}

/**
 * Writes tensors in safetensors layout, names in sorted order, with `{"format": "pt"}` metadata so
 * transformers loads the file. Writes to `path.tmp` then renames, so a crash leaves no partial file.
 */
export function writeSafetensors(path: string, tensors: Map<string, SafetensorsWriteEntry>, metadata: Record<string, string> = { format: "pt" }): void {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const name of names) {
    const entry = tensors.get(name)!;
    const dtype = entry.values instanceof Float32Array ? "F32" : "I32";
    header[name] = { dtype, shape: entry.shape, data_offsets: [offset, offset + entry.values.byteLength] };
    offset += entry.values.byteLength;
  }
  let headerText = JSON.stringify(header);
  headerText += " ".repeat((8 - (Buffer.byteLength(headerText) % 8)) % 8); // data starts 8-byte aligned
  const headerBytes = Buffer.from(headerText, "utf8");
  const output = Buffer.alloc(8 + headerBytes.length + offset);
  output.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(output, 8);
  let position = 8 + headerBytes.length;
  for (const name of names) {
    const values = tensors.get(name)!.values;
    const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength); // little-endian on x86-64 and ARM
    bytes.copy(output, position);
    position += bytes.length;
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, output);
  renameSync(`${path}.tmp`, path);
}
