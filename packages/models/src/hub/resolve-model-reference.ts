import { existsSync, statSync } from "node:fs";
import { getLogger, InputError } from "@mm/core";
import { RepoCache } from "./cache-layout";
import { findSnapshotGaps } from "./cached-snapshot";
import { downloadSnapshot } from "./download-snapshot";
import { HubDownloadError, HubUnreachableError } from "./hub-errors";
import { readHubSettings, type HubSettings, type ResolveModelOptions } from "./hub-settings";
import { describeReference, isCommitHash, looksLikePath, parseHubReference, type HubModelReference } from "./reference";

const log = getLogger("models.hub");

/**
 * Resolves a model reference to a local folder that `loadPretrained` can read.
 *
 * - An existing folder is returned unchanged, without any request.
 * - `org/name` or `org/name@revision` (a branch, tag or commit hash; default "main") is looked up
 *   in the Hugging Face Hub cache. Python's huggingface_hub uses the same cache, whose layout
 *   `RepoCache` describes. When the cache has the revision's snapshot with `config.json`, the weights and every
 *   optional file either present or marked absent, its folder is returned without any request.
 *   Otherwise `config.json`, `model.safetensors` (or `model.safetensors.index.json` and its
 *   shards), and those of tokenizer.json, tokenizer_config.json, special_tokens_map.json,
 *   preprocessor_config.json and generation_config.json that the repository has, are downloaded.
 *
 * Returns `<cache>/models--{org}--{name}/snapshots/<commit>` for a Hub id. A missing path or an
 * invalid id is an InputError, and a token without the `hf_` prefix is a ConfigError. A
 * HubDownloadError (an InputError) names the model and revision when the Hub rejects a request
 * (401, 403, 404) or offline mode finds no usable snapshot. Its subclass HubUnreachableError
 * means no response came and no usable snapshot is cached.
 *
 * @example
 * const model = loadPretrained(await resolveModelReference("HuggingFaceTB/SmolLM2-135M@main"));
 */
export async function resolveModelReference(reference: string, options: ResolveModelOptions = {}): Promise<string> {
  if (isExistingFolder(reference)) return reference;

  const hubReference = parseHubReference(reference);
  const settings = readHubSettings(options);
  const cache = new RepoCache(settings.cacheDir, hubReference.repoId);
  if (settings.offlineReason !== undefined) return resolveOffline(hubReference, settings, cache);

  // NOTE: huggingface_hub requests a branch's current commit from the Hub on every call, but here a
  // complete cached snapshot is used without any request. Pass `refresh: true` to follow a moved branch.
  const cachedCommit = isCommitHash(hubReference.revision) ? hubReference.revision : cache.readRef(hubReference.revision);
  if (!settings.refresh && cachedCommit !== undefined && isComplete(cache, cachedCommit)) {
    log.debug(`${describeReference(hubReference)}: using the cached snapshot ${cachedCommit}`);
    return cache.snapshotFolder(cachedCommit);
  }
  try {
    return await downloadSnapshot(hubReference, settings, cache);
  } catch (error) {
    return fallBackToCache(error, cache, cachedCommit, hubReference);
  }
}

/**
 * Returns the cached snapshot when the Hub is unreachable and the snapshot has `config.json` and
 * the weights, as huggingface_hub does on a connection error. Any other error is rethrown.
 */
function fallBackToCache(error: unknown, cache: RepoCache, cachedCommit: string | undefined, reference: HubModelReference): string {
  if (!(error instanceof HubUnreachableError) || cachedCommit === undefined) throw error;
  if (findSnapshotGaps(cache, cachedCommit).required.length > 0) throw error;
  log.warn(`${error.message}. Using the cached snapshot ${cachedCommit} of ${describeReference(reference)} instead`);
  return cache.snapshotFolder(cachedCommit);
}

function isExistingFolder(reference: string): boolean {
  if (!existsSync(reference)) {
    if (looksLikePath(reference)) throw new InputError(`model folder not found: ${reference}; check the path, or pass a Hub id such as org/name`, reference);
    return false;
  }
  if (!statSync(reference).isDirectory()) {
    throw new InputError(`${reference} is a file; pass the model folder that contains config.json and the weights`, reference);
  }
  return true;
}

function isComplete(cache: RepoCache, commit: string): boolean {
  const gaps = findSnapshotGaps(cache, commit);
  return gaps.required.length === 0 && gaps.unknown.length === 0;
}

/** Offline, a snapshot needs only `config.json` and the weights; absent optional files are logged. */
function resolveOffline(reference: HubModelReference, settings: HubSettings, cache: RepoCache): string {
  const commit = isCommitHash(reference.revision) ? reference.revision : cache.readRef(reference.revision);
  const gaps = commit === undefined ? undefined : findSnapshotGaps(cache, commit);
  if (commit === undefined || gaps === undefined || gaps.required.length > 0) {
    const missing = gaps === undefined ? "" : ` (its snapshot ${commit} lacks ${gaps.required.join(", ")})`;
    throw new HubDownloadError(
      `${describeReference(reference)} is not in the Hugging Face cache at ${settings.cacheDir}${missing}, and offline mode ` +
        `(${settings.offlineReason}) allows no download; run again online to download it, or download it with huggingface_hub: ` +
        `hf download ${reference.repoId} --revision ${reference.revision}`,
      reference.repoId,
      reference.revision,
    );
  }
  if (gaps.unknown.length > 0) log.debug(`${describeReference(reference)}: offline, so not checking for ${gaps.unknown.join(", ")}`);
  return cache.snapshotFolder(commit);
}
