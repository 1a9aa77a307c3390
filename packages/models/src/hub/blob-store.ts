import { createHash, type Hash } from "node:crypto";
import { createWriteStream, renameSync, rmSync } from "node:fs";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { InputError } from "@mm/core";

/** The size and hash the Hub's file listing gives for a file, used to check the downloaded bytes. */
export interface ExpectedBlob {
  /** The file's path in the repository, for messages. */
  readonly file: string;
  readonly size: number;
  /** SHA-256 (64 hex digits) for LFS files, git blob SHA-1 (40 hex digits) for others. */
  readonly etag: string;
}

/**
 * Streams `body` to `<path>.incomplete`, checks its size and hash against `expected`, then
 * renames it to `path`. On any failure the partial file is removed and the error rethrown.
 */
// NOTE: no lock file is taken, unlike huggingface_hub's `.locks/<repo>/<etag>.lock`. Two processes
// that fetch one blob at once write the same `.incomplete` file, and the hash check rejects a mixed result.
export async function writeVerifiedBlob(path: string, body: ReadableStream<Uint8Array>, expected: ExpectedBlob): Promise<void> {
  const incomplete = `${path}.incomplete`;
  const hash = startHash(expected);
  let size = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      hash?.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(body as WebReadableStream<Uint8Array>), measure, createWriteStream(incomplete));
    checkBlob(expected, size, hash?.digest("hex"));
    renameSync(incomplete, path);
  } catch (error) {
    rmSync(incomplete, { force: true });
    throw error;
  }
}

/** Starts the hash the etag names: SHA-256 of the contents, or git's SHA-1 over a `blob <size>\0` header and the contents. */
function startHash({ etag, size }: ExpectedBlob): Hash | undefined {
  if (/^[0-9a-f]{64}$/.test(etag)) return createHash("sha256");
  if (/^[0-9a-f]{40}$/.test(etag)) return createHash("sha1").update(`blob ${size}\0`);
  return undefined;
}

function checkBlob(expected: ExpectedBlob, size: number, digest: string | undefined): void {
  if (size !== expected.size) {
    throw new InputError(`download of ${expected.file} is incomplete: got ${size} bytes, the Hub lists ${expected.size}; run again to retry`, expected.file);
  }
  if (digest !== undefined && digest !== expected.etag) {
    throw new InputError(`download of ${expected.file} is corrupt: its hash is ${digest} but the Hub lists ${expected.etag}; run again to retry`, expected.file);
  }
}
