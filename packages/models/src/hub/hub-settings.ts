import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "@mm/core";

/** Options of `resolveModelReference`; each falls back to the environment variable huggingface_hub reads. */
export interface ResolveModelOptions {
  /** Hub base URL. Default: `$HF_ENDPOINT`, else https://huggingface.co. */
  endpoint?: string;
  /** Hub access token (`hf_...`). Default: `$HF_TOKEN`, else the token file that `hf auth login` or `huggingface-cli login` writes. */
  accessToken?: string;
  /** Cache folder. Default: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`. */
  cacheDir?: string;
  /** Use only the cache and send no request. Default: true when `$HF_HUB_OFFLINE` is 1, ON, YES or TRUE. */
  offline?: boolean;
  /** Ask the Hub which commit a branch or tag points to now, even when the cache has a snapshot for it. */
  refresh?: boolean;
}

/** An access token and where it came from, so messages can name the source without the secret. */
export interface AccessToken {
  readonly value: string;
  readonly source: string;
}

/** The settings one call runs with, after options and environment variables are merged. */
export interface HubSettings {
  readonly endpoint: string;
  readonly cacheDir: string;
  readonly accessToken?: AccessToken;
  /** The setting that forbids requests, e.g. "HF_HUB_OFFLINE=1"; undefined when online. */
  readonly offlineReason?: string;
  readonly refresh: boolean;
}

const DEFAULT_ENDPOINT = "https://huggingface.co";
const TRUE_VALUES = new Set(["1", "ON", "YES", "TRUE"]);

/**
 * Merges `options` with the environment the way huggingface_hub's constants do, so Python and
 * mm share one cache and one login. The environment is read on every call, not at import.
 */
export function readHubSettings(options: ResolveModelOptions = {}, env: NodeJS.ProcessEnv = process.env): HubSettings {
  const home = huggingFaceHome(env);
  return {
    endpoint: (options.endpoint ?? nonEmpty(env.HF_ENDPOINT) ?? DEFAULT_ENDPOINT).replace(/\/+$/, ""),
    cacheDir: options.cacheDir ?? hubCacheDir(env, home),
    accessToken: readAccessToken(options, env, home),
    offlineReason: offlineReason(options, env),
    refresh: options.refresh ?? false,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === "" ? undefined : trimmed;
}

function expandHome(path: string): string {
  return path === "~" || path.startsWith("~/") ? join(homedir(), path.slice(1)) : path;
}

/** `$HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`. */
function huggingFaceHome(env: NodeJS.ProcessEnv): string {
  const cacheRoot = nonEmpty(env.XDG_CACHE_HOME) ?? join(homedir(), ".cache");
  return expandHome(nonEmpty(env.HF_HOME) ?? join(cacheRoot, "huggingface"));
}

/** `HUGGINGFACE_HUB_CACHE` is the older name of `HF_HUB_CACHE`, still read by huggingface_hub. */
function hubCacheDir(env: NodeJS.ProcessEnv, home: string): string {
  return expandHome(nonEmpty(env.HF_HUB_CACHE) ?? nonEmpty(env.HUGGINGFACE_HUB_CACHE) ?? join(home, "hub"));
}

function readAccessToken(options: ResolveModelOptions, env: NodeJS.ProcessEnv, home: string): AccessToken | undefined {
  const token = tokenFromOptionOrEnvironment(options, env) ?? tokenFromFile(env, home);
  if (token !== undefined && !token.value.startsWith("hf_")) {
    // @huggingface/hub 2.17.5 rejects such tokens with a bare TypeError, so name the source here.
    throw new ConfigError(`the Hub access token from ${token.source} is invalid: Hub tokens start with "hf_"; create one at ${DEFAULT_ENDPOINT}/settings/tokens`, token.source);
  }
  return token;
}

function tokenFromOptionOrEnvironment(options: ResolveModelOptions, env: NodeJS.ProcessEnv): AccessToken | undefined {
  const fromOption = nonEmpty(options.accessToken);
  if (fromOption !== undefined) return { value: fromOption, source: "the accessToken option" };
  const fromEnvironment = nonEmpty(env.HF_TOKEN);
  return fromEnvironment === undefined ? undefined : { value: fromEnvironment, source: "HF_TOKEN" };
}

/** Reads the login token file: `$HF_TOKEN_PATH`, else `$HF_HOME/token`. */
function tokenFromFile(env: NodeJS.ProcessEnv, home: string): AccessToken | undefined {
  const path = expandHome(nonEmpty(env.HF_TOKEN_PATH) ?? join(home, "token"));
  if (!existsSync(path)) return undefined;
  const value = nonEmpty(readFileSync(path, "utf8"));
  return value === undefined ? undefined : { value, source: `the token file ${path}` };
}

/**
 * huggingface_hub reads `HF_HUB_OFFLINE`, or `TRANSFORMERS_OFFLINE` when the first is unset or
 * empty, and treats 1, ON, YES and TRUE (any case) as offline.
 */
function offlineReason(options: ResolveModelOptions, env: NodeJS.ProcessEnv): string | undefined {
  if (options.offline !== undefined) return options.offline ? "the offline option is set" : undefined;
  const name = nonEmpty(env.HF_HUB_OFFLINE) !== undefined ? "HF_HUB_OFFLINE" : "TRANSFORMERS_OFFLINE";
  const value = nonEmpty(env[name]);
  return value !== undefined && TRUE_VALUES.has(value.toUpperCase()) ? `${name}=${value}` : undefined;
}
