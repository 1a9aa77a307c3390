import { join } from "node:path";
import type { RepoCache } from "./cache-layout";
import { CONFIG_FILE, OPTIONAL_MODEL_FILES, readShardNames, SINGLE_WEIGHTS_FILE, WEIGHTS_INDEX_FILE } from "./model-files";

/** The files a cached snapshot lacks, split by whether `loadPretrained` needs them. */
export interface SnapshotGaps {
  /** `config.json` or weight files that are absent; the folder cannot be loaded until they exist. */
  readonly required: string[];
  /** Optional files neither in the snapshot nor marked absent in `.no_exist`, so only the Hub can tell. */
  readonly unknown: string[];
}

/** Compares a cached snapshot with the files `resolveModelReference` fetches, without any request. */
export function findSnapshotGaps(cache: RepoCache, commit: string): SnapshotGaps {
  const required = cache.hasFile(commit, CONFIG_FILE) ? [] : [CONFIG_FILE];
  required.push(...missingWeightFiles(cache, commit));
  const unknown = OPTIONAL_MODEL_FILES.filter((file) => !cache.hasFile(commit, file) && !cache.isMarkedAbsent(commit, file));
  return { required, unknown };
}

function missingWeightFiles(cache: RepoCache, commit: string): string[] {
  if (cache.hasFile(commit, SINGLE_WEIGHTS_FILE)) return [];
  if (!cache.hasFile(commit, WEIGHTS_INDEX_FILE)) return [`${SINGLE_WEIGHTS_FILE} or ${WEIGHTS_INDEX_FILE}`];
  const shards = readShardNames(join(cache.snapshotFolder(commit), WEIGHTS_INDEX_FILE));
  return shards.filter((shard) => !cache.hasFile(commit, shard));
}
