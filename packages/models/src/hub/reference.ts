import { InputError } from "@mm/core";

/** A model on the Hugging Face Hub at one revision. */
export interface HubModelReference {
  /** The repository id, `org/name`. */
  readonly repoId: string;
  /** A branch, a tag or a 40-character commit hash; "main" when the reference names none. */
  readonly revision: string;
}

/** The revision a reference gets when it has no `@revision`, as on the Hub. */
export const DEFAULT_REVISION = "main";

/** Hub ids are at most 96 characters, as huggingface_hub's validate_repo_id enforces. */
const MAX_REPO_ID_LENGTH = 96;
const REPO_ID_PART = /^\w(?:[\w.-]*\w)?$/;
const COMMIT_HASH = /^[0-9a-f]{40}$/;

/** Tells whether `revision` is a full commit hash, which never moves and needs no ref lookup. */
export function isCommitHash(revision: string): boolean {
  return COMMIT_HASH.test(revision);
}

/** Tells whether `reference` is written as a filesystem path rather than as a Hub id. */
export function looksLikePath(reference: string): boolean {
  return /^[./~]/.test(reference) || reference.includes("\\") || reference.split("/").length > 2;
}

/**
 * Parses `org/name` or `org/name@revision`. Throws an InputError naming the reference when it is
 * not a valid Hub id or its revision could escape the cache's `refs/` folder.
 */
export function parseHubReference(reference: string): HubModelReference {
  const at = reference.indexOf("@");
  const repoId = at === -1 ? reference : reference.slice(0, at);
  const revision = at === -1 ? DEFAULT_REVISION : reference.slice(at + 1);
  if (!isValidRepoId(repoId)) {
    throw new InputError(
      `"${reference}" is neither an existing folder nor a Hub model id; ` +
        `write a Hub id as org/name or org/name@revision (e.g. HuggingFaceTB/SmolLM2-135M@main), or pass a folder that exists`,
      reference,
    );
  }
  if (!isValidRevision(revision)) {
    throw new InputError(
      `"${reference}": invalid revision "${revision}"; use a branch, a tag or a commit hash, ` +
        `without "..", a leading "/" or spaces`,
      reference,
    );
  }
  return { repoId, revision };
}

function isValidRepoId(repoId: string): boolean {
  const parts = repoId.split("/");
  if (parts.length !== 2 || repoId.length > MAX_REPO_ID_LENGTH) return false;
  if (repoId.includes("--") || repoId.includes("..")) return false;
  return parts.every((part) => REPO_ID_PART.test(part));
}

/** Branch names may contain "/" (`refs/pr/1`), so only traversal and blanks are rejected. */
function isValidRevision(revision: string): boolean {
  if (revision === "" || /\s/.test(revision) || revision.startsWith("/")) return false;
  return !revision.split("/").some((segment) => segment === ".." || segment === "." || segment === "");
}

/** Formats a reference as `org/name@revision` for messages. */
export function describeReference({ repoId, revision }: HubModelReference): string {
  return `${repoId}@${revision}`;
}
