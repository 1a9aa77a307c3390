export { resolveModelReference } from "./resolve-model-reference";
export type { ResolveModelOptions } from "./hub-settings";
export { HubDownloadError, HubUnreachableError } from "./hub-errors";
export { parseHubReference } from "./reference";
export type { HubModelReference } from "./reference";
