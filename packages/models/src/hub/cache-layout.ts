import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { getLogger } from "@mm/core";

const log = getLogger("models.hub");

/**
 * One model repository in the Hugging Face Hub cache, laid out as huggingface_hub writes it
 * (documented at https://huggingface.co/docs/hub/local-cache), so Python and mm share files:
 *
 * ```text
 * <cacheDir>/models--{org}--{name}/
 *   blobs/<etag>                        file contents, named by the Hub's ETag: the SHA-256 of an
 *                                       LFS file, the git blob SHA-1 of any other file
 *   snapshots/<commit>/<file>           relative symlink to ../../blobs/<etag>
 *   refs/<revision>                     a branch or tag; the file contains the 40-character commit hash
 *   .no_exist/<commit>/<file>           empty marker: the repo has no such file at that commit
 * ```
 *
 * A blob is written to `<etag>.incomplete` and renamed when complete, so a partial download is
 * never linked.
 */
export class RepoCache {
  /** The repository's folder, `models--{org}--{name}`. */
  readonly folder: string;

  constructor(cacheDir: string, repoId: string) {
    this.folder = join(cacheDir, `models--${repoId.split("/").join("--")}`);
  }

  snapshotFolder(commit: string): string {
    return join(this.folder, "snapshots", commit);
  }

  blobPath(etag: string): string {
    return join(this.folder, "blobs", etag);
  }

  /** Tells whether the snapshot has `file`; a symlink to a deleted blob counts as absent. */
  hasFile(commit: string, file: string): boolean {
    return existsSync(join(this.snapshotFolder(commit), file));
  }

  /** Reads the commit hash in `refs/<revision>`; undefined when the revision was never fetched. */
  readRef(revision: string): string | undefined {
    const path = join(this.folder, "refs", revision);
    if (!existsSync(path)) return undefined;
    const commit = readFileSync(path, "utf8").trim();
    return commit === "" ? undefined : commit;
  }

  /** Python writes the bare hash without a newline, and so does this. */
  writeRef(revision: string, commit: string): void {
    const path = join(this.folder, "refs", revision);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, commit);
  }

  isMarkedAbsent(commit: string, file: string): boolean {
    return existsSync(join(this.folder, ".no_exist", commit, file));
  }

  markAbsent(commit: string, file: string): void {
    const path = join(this.folder, ".no_exist", commit, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, "");
  }

  /**
   * Points `snapshots/<commit>/<file>` at `blobs/<etag>` with a relative symlink. Where symlinks
   * are not allowed (Windows without developer mode), the blob is copied instead, as Python does.
   */
  linkSnapshotFile(commit: string, file: string, etag: string): void {
    const pointer = join(this.snapshotFolder(commit), file);
    const blob = this.blobPath(etag);
    mkdirSync(dirname(pointer), { recursive: true });
    rmSync(pointer, { force: true });
    try {
      symlinkSync(relative(dirname(pointer), blob), pointer);
    } catch (error) {
      log.warn(`cannot create a symlink at ${pointer} (${(error as Error).message}); copying the blob instead`);
      copyFileSync(blob, pointer);
    }
  }
}
