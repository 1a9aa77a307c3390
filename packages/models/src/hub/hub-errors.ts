import { HubApiError } from "@huggingface/hub";
import { InputError, MMError } from "@mm/core";
import type { HubSettings } from "./hub-settings";
import { describeReference, type HubModelReference } from "./reference";

/** A Hub model that could not be resolved to a local folder: not found, not authorized, not cached offline. */
export class HubDownloadError extends InputError {
  constructor(
    message: string,
    readonly repoId: string,
    readonly revision: string,
    /** The HTTP status of the Hub's response; undefined when no response came. */
    readonly status?: number,
  ) {
    super(message, `${repoId}@${revision}`);
  }
}

/** A Hub request that got no response: the endpoint is unreachable or the connection failed. */
export class HubUnreachableError extends HubDownloadError {}

/**
 * Turns an error thrown by a Hub request into a HubDownloadError that names the model, the
 * revision and what to do. `action` names the request, e.g. "listing the files".
 * mm's own errors (a corrupt download, an invalid index) pass through unchanged.
 */
export function toHubDownloadError(error: unknown, action: string, reference: HubModelReference, settings: HubSettings): Error {
  const name = describeReference(reference);
  const { repoId, revision } = reference;
  if (error instanceof MMError) return error;
  if (!(error instanceof HubApiError)) {
    const reason = error instanceof Error ? describeCause(error) : String(error);
    return new HubUnreachableError(
      `${name}: ${action} at ${settings.endpoint} failed: ${reason}; check the network connection and HF_ENDPOINT, ` +
        `or set HF_HUB_OFFLINE=1 to use only models already in the cache at ${settings.cacheDir}`,
      repoId,
      revision,
    );
  }
  const advice = adviceForStatus(error.statusCode, reference, settings);
  return new HubDownloadError(`${name}: ${action} failed with HTTP ${error.statusCode}: ${advice} (Hub message: ${error.message})`, repoId, revision, error.statusCode);
}

function adviceForStatus(status: number, { repoId, revision }: HubModelReference, settings: HubSettings): string {
  const page = `${settings.endpoint}/${repoId}`;
  const token = settings.accessToken;
  if (status === 401 && token === undefined) {
    return `the model does not exist, or it is private or gated and needs an access token; check the id "${repoId}", ` +
      `and for a private or gated model set HF_TOKEN to a read token from ${settings.endpoint}/settings/tokens`;
  }
  if (status === 401) {
    return `the Hub rejected the access token from ${token!.source}, or the model does not exist; check the token and the id "${repoId}"`;
  }
  if (status === 403) {
    return `access denied; if the model is gated, accept its conditions at ${page} with the account that owns the token, ` +
      `and check that the token${token === undefined ? "" : ` from ${token.source}`} has read access`;
  }
  if (status === 404) {
    return `the model "${repoId}" or its revision "${revision}" was not found; check the id and that the branch, tag or commit exists at ${page}`;
  }
  return `the Hub could not serve the request; retry later or check HF_ENDPOINT (${settings.endpoint})`;
}

/** Node's fetch reports network failures as "fetch failed" with the real reason in `cause`. */
function describeCause(error: Error): string {
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}

/** Runs one Hub request and converts its failure with `toHubDownloadError`. */
export async function withHubErrors<T>(action: string, reference: HubModelReference, settings: HubSettings, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw toHubDownloadError(error, action, reference, settings);
  }
}
