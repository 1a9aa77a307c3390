import { closeSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { InputError, readSafetensorsHeader } from "@mm/core";

/** One tensor as stored in a safetensors file: its dtype and shape and where its bytes are. */
export interface StoredTensor {
  file: string;
  /** The safetensors dtype, e.g. "F32", "BF16". */
  dtype: string;
  shape: number[];
  /** Byte offset of the first data byte from the start of the file. */
  start: number;
  /** Byte offset just past the last data byte. */
  end: number;
}

/** Bytes copied per read, so a tensor of any size is copied with bounded memory. */
const COPY_CHUNK_BYTES = 64 * 1024 * 1024;

/**
 * Lists the tensors of safetensors files (a checkpoint and its shards) by name, without reading
 * their data. Each header is validated by @mm/core's reader first.
 *
 * @throws InputError when a file is invalid or two files hold a tensor of the same name.
 */
export function readStoredTensors(files: readonly string[]): Map<string, StoredTensor> {
  const tensors = new Map<string, StoredTensor>();
  for (const file of files) {
    readSafetensorsHeader(file);
    for (const [name, tensor] of readDataOffsets(file)) {
      const earlier = tensors.get(name);
      if (earlier !== undefined) throw new InputError(`tensor "${name}" is stored in both ${earlier.file} and ${file}; a checkpoint stores each tensor once`, file);
      tensors.set(name, tensor);
    }
  }
  return tensors;
}

function readDataOffsets(file: string): Array<[string, StoredTensor]> {
  const fd = openSync(file, "r");
  try {
    const lengthBytes = Buffer.alloc(8);
    readSync(fd, lengthBytes, 0, 8, 0);
    const headerLength = Number(lengthBytes.readBigUInt64LE(0));
    const headerBytes = Buffer.alloc(headerLength);
    readSync(fd, headerBytes, 0, headerLength, 8);
    const header = JSON.parse(headerBytes.toString("utf8")) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    const dataStart = 8 + headerLength;
    return Object.entries(header)
      .filter(([name]) => name !== "__metadata__")
      .map(([name, entry]) => [name, { file, dtype: entry.dtype, shape: entry.shape, start: dataStart + entry.data_offsets[0], end: dataStart + entry.data_offsets[1] }]);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a safetensors file whose tensors (by their new names, in sorted order) are byte-for-byte
 * copies of `tensors`, in their stored dtypes, with `{"format": "pt"}` metadata as transformers
 * writes. Writes `path.tmp` and then renames it; a failed copy deletes `path.tmp`, so it leaves no partial file.
 */
export function writeStoredTensors(path: string, tensors: ReadonlyMap<string, StoredTensor>): void {
  const names = [...tensors.keys()].sort();
  const headerBytes = encodeHeader(names, tensors);
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.tmp`;
  const output = openSync(temporary, "w");
  const sources = new Map<string, number>();
  try {
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(headerBytes.length));
    writeSync(output, length);
    writeSync(output, headerBytes);
    for (const name of names) copyBytes(tensors.get(name)!, output, sources);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  } finally {
    closeSync(output);
    for (const fd of sources.values()) closeSync(fd);
  }
  renameSync(temporary, path);
}

function encodeHeader(names: string[], tensors: ReadonlyMap<string, StoredTensor>): Buffer {
  const header: Record<string, unknown> = { __metadata__: { format: "pt" } };
  let offset = 0;
  for (const name of names) {
    const { dtype, shape, start, end } = tensors.get(name)!;
    header[name] = { dtype, shape, data_offsets: [offset, offset + end - start] };
    offset += end - start;
  }
  const text = JSON.stringify(header);
  // Pads with spaces so the data starts 8-byte aligned, as the safetensors format recommends.
  return Buffer.from(text + " ".repeat((8 - (Buffer.byteLength(text) % 8)) % 8), "utf8");
}

function copyBytes(tensor: StoredTensor, output: number, sources: Map<string, number>): void {
  let source = sources.get(tensor.file);
  if (source === undefined) {
    source = openSync(tensor.file, "r");
    sources.set(tensor.file, source);
  }
  const buffer = Buffer.alloc(Math.min(COPY_CHUNK_BYTES, tensor.end - tensor.start));
  for (let position = tensor.start; position < tensor.end; ) {
    const read = readSync(source, buffer, 0, Math.min(buffer.length, tensor.end - position), position);
    if (read === 0) throw new InputError(`${tensor.file} ended at byte ${position}, before the end of a tensor at byte ${tensor.end}`, tensor.file);
    writeSync(output, buffer, 0, read);
    position += read;
  }
}
