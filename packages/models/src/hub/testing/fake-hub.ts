/**
 * A stand-in for the Hugging Face Hub on 127.0.0.1, for tests. It serves the three endpoints
 * @huggingface/hub 2.17.5 calls to download a model, in the Hub's URL layout and with its headers:
 *
 * - `GET /api/models/{org}/{name}/revision/{revision}`: JSON with `sha` and `siblings`.
 * - `GET /api/models/{org}/{name}/tree/{revision}`: JSON list of files with `oid`, `size` and,
 *   for LFS files (here every `*.safetensors`), `lfs.oid` (SHA-256) and `lfs.size`.
 * - `GET /{org}/{name}/resolve/{revision}/{file}`: the bytes, with ETag, X-Repo-Commit,
 *   Content-Length and, for LFS files, X-Linked-Etag and X-Linked-Size; honours `Range`.
 *
 * Errors follow the Hub: a private repository without its token, and an unknown repository
 * without any token, get 401; an unknown repository with a token, revision or file gets 404.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One request the server received. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization?: string;
}

interface FakeRepository {
  readonly commits: Map<string, Map<string, Buffer>>;
  readonly refs: Map<string, string>;
  /** The bearer token a private repository requires; undefined for a public one. */
  readonly token?: string;
}

/** Computes the git blob id of `bytes`: SHA-1 over `blob <size>\0` and the contents. */
export function gitBlobId(bytes: Buffer): string {
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

export function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function isLfs(path: string): boolean {
  return path.endsWith(".safetensors");
}

/** Computes the Hub's ETag for a file: SHA-256 for LFS files, the git blob id for others. */
export function hubEtag(path: string, bytes: Buffer): string {
  return isLfs(path) ? sha256(bytes) : gitBlobId(bytes);
}

export class FakeHub {
  readonly requests: RecordedRequest[] = [];
  /** Files (by path) served with their last byte flipped, to simulate a corrupt transfer. */
  readonly corruptFiles = new Set<string>();
  private readonly repositories = new Map<string, FakeRepository>();
  private commitCount = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  /** Starts a server on an ephemeral port of 127.0.0.1. */
  static async start(): Promise<FakeHub> {
    let hub: FakeHub | undefined;
    const server = createServer((request, response) => hub!.handle(request, response));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    hub = new FakeHub(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return hub;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /**
   * Adds a commit with `files` to `repoId` (created on first use) and points each of `refs` at it.
   * Returns the commit hash.
   */
  addCommit(repoId: string, files: Record<string, Buffer>, refs: string[] = ["main"], token?: string): string {
    const repository = this.repositories.get(repoId) ?? { commits: new Map(), refs: new Map(), token };
    this.repositories.set(repoId, repository);
    const commit = createHash("sha1").update(`${repoId} commit ${++this.commitCount}`).digest("hex");
    repository.commits.set(commit, new Map(Object.entries(files)));
    for (const ref of refs) repository.refs.set(ref, commit);
    return commit;
  }

  /** Requests whose path contains `fragment`, e.g. "/resolve/" for file downloads. */
  requestsTo(fragment: string): RecordedRequest[] {
    return this.requests.filter((request) => request.path.includes(fragment));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const path = request.url ?? "/";
    this.requests.push({ method: request.method ?? "GET", path, authorization: request.headers.authorization });
    request.resume();
    const url = new URL(path, this.url);
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/(revision|tree)\/([^/]+)$/.exec(url.pathname);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (api !== null) this.serveApi(request, response, api[1], api[2], decodeURIComponent(api[3]));
    else if (resolve !== null) this.serveFile(request, response, resolve[1], decodeURIComponent(resolve[2]), decodeURIComponent(resolve[3]));
    else sendError(response, 404, "NotFound", `no route for ${url.pathname}`);
  }

  /** Finds the commit `revision` names, or sends the Hub's error and returns undefined. */
  private findCommit(request: IncomingMessage, response: ServerResponse, repoId: string, revision: string) {
    const repository = this.repositories.get(repoId);
    const authorization = request.headers.authorization;
    if (repository === undefined) {
      if (authorization === undefined) sendError(response, 401, "RepoNotFound", `Repository Not Found for url: ${request.url}.`);
      else sendError(response, 404, "RepoNotFound", `Repository Not Found for url: ${request.url}.`);
      return undefined;
    }
    if (repository.token !== undefined && authorization !== `Bearer ${repository.token}`) {
      sendError(response, 401, "RepoNotFound", "Invalid credentials in Authorization header");
      return undefined;
    }
    const commit = repository.commits.has(revision) ? revision : repository.refs.get(revision);
    if (commit === undefined) {
      sendError(response, 404, "RevisionNotFound", `Invalid rev id: ${revision}`);
      return undefined;
    }
    return { commit, files: repository.commits.get(commit)! };
  }

  private serveApi(request: IncomingMessage, response: ServerResponse, repoId: string, kind: string, revision: string): void {
    const found = this.findCommit(request, response, repoId, revision);
    if (found === undefined) return;
    const paths = [...found.files.keys()].sort();
    if (kind === "revision") {
      sendJson(response, { _id: repoId, id: repoId, sha: found.commit, siblings: paths.map((rfilename) => ({ rfilename })), private: false, lastModified: "2024-05-01T00:00:00.000Z" });
      return;
    }
    sendJson(response, paths.map((path) => treeEntry(path, found.files.get(path)!)));
  }

  private serveFile(request: IncomingMessage, response: ServerResponse, repoId: string, revision: string, path: string): void {
    const found = this.findCommit(request, response, repoId, revision);
    if (found === undefined) return;
    const stored = found.files.get(path);
    if (stored === undefined) {
      sendError(response, 404, "EntryNotFound", `${path} does not exist on "${revision}"`);
      return;
    }
    const etag = hubEtag(path, stored);
    const bytes = this.corruptFiles.has(path) ? flipLastByte(stored) : stored;
    const headers: Record<string, string> = { ETag: `"${etag}"`, "X-Repo-Commit": found.commit, "Accept-Ranges": "bytes", "Content-Type": "application/octet-stream" };
    if (isLfs(path)) Object.assign(headers, { "X-Linked-Etag": `"${etag}"`, "X-Linked-Size": String(bytes.length) });
    const range = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? "");
    if (range === null) {
      response.writeHead(200, { ...headers, "Content-Length": String(bytes.length) });
      response.end(bytes);
      return;
    }
    const start = Number(range[1]);
    const end = Math.min(Number(range[2]), bytes.length - 1);
    response.writeHead(206, { ...headers, "Content-Length": String(end - start + 1), "Content-Range": `bytes ${start}-${end}/${bytes.length}` });
    response.end(bytes.subarray(start, end + 1));
  }
}

function treeEntry(path: string, bytes: Buffer): Record<string, unknown> {
  const entry: Record<string, unknown> = { type: "file", path, size: bytes.length, oid: gitBlobId(bytes) };
  if (!isLfs(path)) return entry;
  // For an LFS file, `oid` is the git id of the pointer file and `lfs` describes the real file.
  const pointer = Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(bytes)}\nsize ${bytes.length}\n`);
  return { ...entry, oid: gitBlobId(pointer), lfs: { oid: sha256(bytes), size: bytes.length, pointerSize: pointer.length } };
}

function flipLastByte(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes);
  copy[copy.length - 1] ^= 0xff;
  return copy;
}

function sendJson(response: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(200, { "Content-Type": "application/json; charset=utf-8", "Content-Length": String(Buffer.byteLength(text)) });
  response.end(text);
}

function sendError(response: ServerResponse, status: number, code: string, message: string): void {
  const text = JSON.stringify({ error: message });
  response.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "X-Error-Code": code, "Content-Length": String(Buffer.byteLength(text)) });
  response.end(text);
}
