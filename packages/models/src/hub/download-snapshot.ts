import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { downloadFile, listFiles, modelInfo, type ListFileEntry } from "@huggingface/hub";
import { getLogger, InputError } from "@mm/core";
import { writeVerifiedBlob } from "./blob-store";
import type { RepoCache } from "./cache-layout";
import { HubDownloadError, withHubErrors } from "./hub-errors";
import type { HubSettings } from "./hub-settings";
import { CONFIG_FILE, OPTIONAL_MODEL_FILES, readShardNames, SINGLE_WEIGHTS_FILE, WEIGHTS_INDEX_FILE } from "./model-files";
import { describeReference, isCommitHash, type HubModelReference } from "./reference";

const log = getLogger("models.hub");

/** Everything one download needs: what to fetch, from where, and into which cache. */
interface DownloadContext {
  readonly reference: HubModelReference;
  readonly settings: HubSettings;
  readonly cache: RepoCache;
  readonly commit: string;
  /** The repository's files at `commit`, by path. */
  readonly listing: Map<string, ListFileEntry>;
}

/**
 * Downloads the model files of `reference` into the Hub cache and returns the snapshot folder.
 * Three kinds of request go to the Hub: the revision's commit (skipped for a commit hash), the
 * file listing at that commit, and each file not yet in `blobs/`. Blobs are shared across
 * revisions, so a file that did not change between commits is linked, not downloaded again.
 *
 * `downloadFileToCacheDir` of @huggingface/hub 2.17.5 is not used because it names the snapshot
 * folder after the file's last commit when given a branch, writes no `refs/` file, and prints to
 * the console.
 */
export async function downloadSnapshot(reference: HubModelReference, settings: HubSettings, cache: RepoCache): Promise<string> {
  const commit = isCommitHash(reference.revision) ? reference.revision : await fetchCommit(reference, settings);
  const listing = await listRepositoryFiles(reference, settings, commit);
  const context: DownloadContext = { reference, settings, cache, commit, listing };

  await fetchFile(context, requireListed(context, CONFIG_FILE));
  for (const file of OPTIONAL_MODEL_FILES) {
    if (listing.has(file)) await fetchFile(context, file);
    else cache.markAbsent(commit, file);
  }
  for (const file of await weightFiles(context)) await fetchFile(context, file);

  if (reference.revision !== commit) cache.writeRef(reference.revision, commit);
  return cache.snapshotFolder(commit);
}

function hubRequest(settings: HubSettings, repoId: string) {
  return { repo: { type: "model" as const, name: repoId }, hubUrl: settings.endpoint, accessToken: settings.accessToken?.value };
}

/** Asks the Hub which commit the branch or tag points to now. */
async function fetchCommit(reference: HubModelReference, settings: HubSettings): Promise<string> {
  const info = await withHubErrors("looking up the revision", reference, settings, () =>
    modelInfo({ name: reference.repoId, revision: reference.revision, hubUrl: settings.endpoint, accessToken: settings.accessToken?.value, additionalFields: ["sha"] }),
  );
  if (typeof info.sha !== "string" || !isCommitHash(info.sha)) {
    throw new HubDownloadError(`${describeReference(reference)}: the Hub returned no commit hash for the revision (got ${JSON.stringify(info.sha)}); check HF_ENDPOINT (${settings.endpoint})`, reference.repoId, reference.revision);
  }
  return info.sha;
}

async function listRepositoryFiles(reference: HubModelReference, settings: HubSettings, commit: string): Promise<Map<string, ListFileEntry>> {
  return withHubErrors("listing the files", reference, settings, async () => {
    const listing = new Map<string, ListFileEntry>();
    for await (const entry of listFiles({ ...hubRequest(settings, reference.repoId), revision: commit, recursive: true })) {
      if (entry.type === "file") listing.set(entry.path, entry);
    }
    return listing;
  });
}

function requireListed({ reference, listing }: DownloadContext, file: string): string {
  if (listing.has(file)) return file;
  throw new HubDownloadError(
    `${describeReference(reference)} has no ${file}; mm loads Hugging Face transformers model folders (config.json plus safetensors weights), ` +
      `and this repository lists: ${[...listing.keys()].slice(0, 20).join(", ") || "no files"}`,
    reference.repoId,
    reference.revision,
  );
}

/** `model.safetensors` if listed, else the index followed by every shard it names. */
async function weightFiles(context: DownloadContext): Promise<string[]> {
  if (context.listing.has(SINGLE_WEIGHTS_FILE)) return [SINGLE_WEIGHTS_FILE];
  if (!context.listing.has(WEIGHTS_INDEX_FILE)) {
    const { reference } = context;
    throw new HubDownloadError(
      `${describeReference(reference)} has neither ${SINGLE_WEIGHTS_FILE} nor ${WEIGHTS_INDEX_FILE}; mm reads only safetensors weights, ` +
        `so convert the checkpoint (e.g. with transformers' save_pretrained(..., safe_serialization=True)) or pick a repository that has them`,
      reference.repoId,
      reference.revision,
    );
  }
  await fetchFile(context, WEIGHTS_INDEX_FILE);
  const shards = readShardNames(join(context.cache.snapshotFolder(context.commit), WEIGHTS_INDEX_FILE));
  return shards.map((shard) => requireListed(context, shard));
}

/**
 * Makes `snapshots/<commit>/<file>` exist: nothing to do when it already does, a link when the
 * blob is cached from another revision, else a download checked against the listed size and hash.
 */
async function fetchFile(context: DownloadContext, file: string): Promise<void> {
  const { reference, settings, cache, commit } = context;
  if (cache.hasFile(commit, file)) return;
  const entry = context.listing.get(file)!;
  const etag = entry.lfs?.oid ?? entry.oid;
  const size = entry.lfs?.size ?? entry.size;
  if (etag === undefined) throw new InputError(`${describeReference(reference)}: the Hub listing gives no hash for ${file}; check HF_ENDPOINT (${settings.endpoint})`, file);

  const blobPath = cache.blobPath(etag);
  if (!(existsSync(blobPath) && statSync(blobPath).size === size)) {
    log.info(`${describeReference(reference)}: downloading ${file} (${formatBytes(size)}) into ${cache.folder}`);
    mkdirSync(dirname(blobPath), { recursive: true });
    await withHubErrors(`downloading ${file}`, reference, settings, async () => {
      const body = await downloadFile({ ...hubRequest(settings, reference.repoId), path: file, revision: commit });
      if (body === null) throw new HubDownloadError(`${describeReference(reference)}: ${file} is listed at commit ${commit} but the Hub could not find it; retry later`, reference.repoId, reference.revision, 404);
      await writeVerifiedBlob(blobPath, body.stream(), { file, size, etag });
    });
  }
  cache.linkSnapshotFile(commit, file, etag);
}

function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return bytes >= 1e3 ? `${(bytes / 1e3).toFixed(1)} kB` : `${bytes} bytes`;
}
