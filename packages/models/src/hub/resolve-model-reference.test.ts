import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { ConfigError, readSafetensors, setLogSink, writeSafetensors, type LogSink } from "@mm/core";
import { assertClose, readFloat32, readJson, useBackend } from "@mm/core/testing";
import { LlamaForCausalLM } from "../decoders";
import { loadPretrained } from "../pretrained/load-save";
import { HubDownloadError, HubUnreachableError } from "./hub-errors";
import { resolveModelReference } from "./resolve-model-reference";
import { FakeHub, gitBlobId, sha256 } from "./testing/fake-hub";

const fixture = fileURLToPath(new URL("../../test-fixtures/llama", import.meta.url));
const configBytes = readFileSync(join(fixture, "config.json"));
const weightBytes = readFileSync(join(fixture, "model.safetensors"));
const generationConfigBytes = Buffer.from(JSON.stringify({ bos_token_id: 1, eos_token_id: 2 }));
const olderConfigBytes = Buffer.from(JSON.stringify({ ...JSON.parse(configBytes.toString()), transformers_version: "4.39.0" }));
const TOKEN = "hf_test_token";

/** Variables that would point a test at the developer's own cache, token or Hub. */
const HUB_VARIABLES = ["HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "XDG_CACHE_HOME", "HF_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"];

/** Splits the fixture's tensors over two shards and returns the files of a sharded repository. */
function shardedRepositoryFiles(scratch: string): Record<string, Buffer> {
  const tensors = readSafetensors(join(fixture, "model.safetensors")).tensors;
  const names = [...tensors.keys()].sort();
  const shardOf = (index: number) => (index < names.length / 2 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors");
  const weightMap = Object.fromEntries(names.map((name, index) => [name, shardOf(index)]));
  const files: Record<string, Buffer> = { "config.json": configBytes, "model.safetensors.index.json": Buffer.from(JSON.stringify({ metadata: {}, weight_map: weightMap })) };
  for (const shard of new Set(Object.values(weightMap))) {
    const entries = new Map(names.filter((name) => weightMap[name] === shard).map((name) => [name, tensors.get(name)!]));
    writeSafetensors(join(scratch, shard), entries);
    files[shard] = readFileSync(join(scratch, shard));
  }
  return files;
}

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe("resolveModelReference", () => {
  let hub: FakeHub;
  let home: string;
  let scratch: string;
  let mainCommit: string;
  let v1Commit: string;
  let previousSink: LogSink;
  const logLines: string[] = [];

  const cacheFolder = (repoId: string) => join(home, "hub", `models--${repoId.replace("/", "--")}`);
  const snapshot = (repoId: string, commit: string) => join(cacheFolder(repoId), "snapshots", commit);

  beforeAll(async () => {
    previousSink = setLogSink((_level, _scope, message) => logLines.push(message));
    scratch = mkdtempSync(join(tmpdir(), "mm-hub-fixture-"));
    hub = await FakeHub.start();
    const modelFiles = { "config.json": configBytes, "model.safetensors": weightBytes, "generation_config.json": generationConfigBytes, "README.md": Buffer.from("# tiny llama\n") };
    v1Commit = hub.addCommit("org/tiny-llama", { "config.json": olderConfigBytes, "model.safetensors": weightBytes }, ["v1.0"]);
    mainCommit = hub.addCommit("org/tiny-llama", modelFiles, ["main"]);
    hub.addCommit("org/private-llama", modelFiles, ["main"], TOKEN);
    hub.addCommit("org/sharded-llama", shardedRepositoryFiles(scratch));
    hub.addCommit("org/pytorch-only", { "config.json": configBytes, "pytorch_model.bin": Buffer.from("not safetensors") });
  });

  afterAll(async () => {
    await hub.close();
    rmSync(scratch, { recursive: true, force: true });
    setLogSink(previousSink);
  });

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), "mm-hf-home-"));
    vi.stubEnv("HF_HOME", home);
    vi.stubEnv("HF_ENDPOINT", hub.url);
    for (const name of HUB_VARIABLES) vi.stubEnv(name, undefined);
    hub.requests.length = 0;
    logLines.length = 0;
  });

  afterEach(() => {
    vi.unstubAllEnvs();
    rmSync(home, { recursive: true, force: true });
  });

  describe("cache layout", () => {
    it("downloads into huggingface_hub's layout", async () => {
      const folder = await resolveModelReference("org/tiny-llama");
      const repo = cacheFolder("org/tiny-llama");

      expect(folder).toBe(snapshot("org/tiny-llama", mainCommit));
      expect(readFileSync(join(repo, "refs", "main"), "utf8")).toBe(mainCommit);
      expect(lstatSync(join(folder, "config.json")).isSymbolicLink()).toBe(true);
      expect(readlinkSync(join(folder, "config.json"))).toBe(join("..", "..", "blobs", gitBlobId(configBytes)));
      expect(readlinkSync(join(folder, "model.safetensors"))).toBe(join("..", "..", "blobs", sha256(weightBytes)));
      expect(readlinkSync(join(folder, "generation_config.json"))).toBe(join("..", "..", "blobs", gitBlobId(generationConfigBytes)));
      expect(readFileSync(join(repo, "blobs", sha256(weightBytes))).equals(weightBytes)).toBe(true);
      expect(readFileSync(join(folder, "config.json")).equals(configBytes)).toBe(true);
    });

    it("fetches only model files", async () => {
      const folder = await resolveModelReference("org/tiny-llama");

      expect(readdirSync(folder).sort()).toEqual(["config.json", "generation_config.json", "model.safetensors"]);
      expect(readdirSync(join(cacheFolder("org/tiny-llama"), "blobs"))).toHaveLength(3);
      expect(hub.requestsTo("README.md")).toHaveLength(0);
    });

    it("marks absent optional files in .no_exist", async () => {
      await resolveModelReference("org/tiny-llama");
      const markers = join(cacheFolder("org/tiny-llama"), ".no_exist", mainCommit);

      expect(readdirSync(markers).sort()).toEqual(["preprocessor_config.json", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"]);
    });

    it("uses HF_HUB_CACHE over HF_HOME", async () => {
      const cacheDir = join(home, "elsewhere");
      vi.stubEnv("HF_HUB_CACHE", cacheDir);

      const folder = await resolveModelReference("org/tiny-llama");

      expect(folder).toBe(join(cacheDir, "models--org--tiny-llama", "snapshots", mainCommit));
      expect(existsSync(join(home, "hub"))).toBe(false);
    });

    it("uses the cacheDir option over the environment", async () => {
      const cacheDir = join(home, "option-cache");
      const folder = await resolveModelReference("org/tiny-llama", { cacheDir });

      expect(folder).toBe(join(cacheDir, "models--org--tiny-llama", "snapshots", mainCommit));
    });
  });

  describe("cache hits", () => {
    it("second call sends no request", async () => {
      const first = await resolveModelReference("org/tiny-llama");
      hub.requests.length = 0;

      const second = await resolveModelReference("org/tiny-llama");

      expect(second).toBe(first);
      expect(hub.requests).toHaveLength(0);
    });

    it("logs each downloaded file", async () => {
      await resolveModelReference("org/tiny-llama");

      expect(logLines.some((line) => /org\/tiny-llama@main: downloading model\.safetensors \(560\.5 kB\) into .*models--org--tiny-llama$/.test(line))).toBe(true);
    });

    it("completes a cache written without .no_exist markers", async () => {
      const folder = await resolveModelReference("org/tiny-llama");
      rmSync(join(cacheFolder("org/tiny-llama"), ".no_exist"), { recursive: true });
      unlinkSync(join(folder, "generation_config.json"));
      hub.requests.length = 0;

      expect(await resolveModelReference("org/tiny-llama")).toBe(folder);

      expect(hub.requestsTo("/revision/")).toHaveLength(1);
      expect(hub.requestsTo("/tree/")).toHaveLength(1);
      // The blob is still cached, so the file is linked again without a download.
      expect(hub.requestsTo("/resolve/")).toHaveLength(0);
      expect(readFileSync(join(folder, "generation_config.json")).equals(generationConfigBytes)).toBe(true);
    });

    it("refresh follows a branch that moved", async () => {
      const repoId = "org/moving-llama";
      const firstCommit = hub.addCommit(repoId, { "config.json": olderConfigBytes, "model.safetensors": weightBytes });
      await resolveModelReference(repoId);
      const secondCommit = hub.addCommit(repoId, { "config.json": configBytes, "model.safetensors": weightBytes });
      hub.requests.length = 0;

      expect(await resolveModelReference(repoId)).toBe(snapshot(repoId, firstCommit));
      expect(hub.requests).toHaveLength(0);

      expect(await resolveModelReference(repoId, { refresh: true })).toBe(snapshot(repoId, secondCommit));
      expect(readFileSync(join(cacheFolder(repoId), "refs", "main"), "utf8")).toBe(secondCommit);
      // Only config.json changed, so the weights blob is linked without a download.
      const downloaded = new Set(hub.requestsTo("/resolve/").map((request) => request.path.split("/").pop()));
      expect([...downloaded]).toEqual(["config.json"]);
    });
  });

  describe("revisions", () => {
    it("resolves a tag to its commit", async () => {
      const folder = await resolveModelReference("org/tiny-llama@v1.0");

      expect(folder).toBe(snapshot("org/tiny-llama", v1Commit));
      expect(readFileSync(join(cacheFolder("org/tiny-llama"), "refs", "v1.0"), "utf8")).toBe(v1Commit);
      expect(readFileSync(join(folder, "config.json")).equals(olderConfigBytes)).toBe(true);
    });

    it("shares unchanged blobs across revisions", async () => {
      await resolveModelReference("org/tiny-llama");
      hub.requests.length = 0;

      const folder = await resolveModelReference("org/tiny-llama@v1.0");

      expect(hub.requestsTo("model.safetensors")).toHaveLength(0);
      expect(readlinkSync(join(folder, "model.safetensors"))).toBe(join("..", "..", "blobs", sha256(weightBytes)));
      expect(readdirSync(join(cacheFolder("org/tiny-llama"), "blobs"))).toHaveLength(4);
    });

    it("takes a commit hash without a ref", async () => {
      const folder = await resolveModelReference(`org/tiny-llama@${v1Commit}`);

      expect(folder).toBe(snapshot("org/tiny-llama", v1Commit));
      expect(hub.requestsTo("/revision/")).toHaveLength(0);
      expect(existsSync(join(cacheFolder("org/tiny-llama"), "refs"))).toBe(false);
    });

    it("rejects an unknown revision with 404", async () => {
      const error = await resolveModelReference("org/tiny-llama@v9").catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(HubDownloadError);
      expect((error as HubDownloadError).status).toBe(404);
      expect((error as Error).message).toMatch(/^org\/tiny-llama@v9: looking up the revision failed with HTTP 404: the model "org\/tiny-llama" or its revision "v9" was not found/);
    });
  });

  describe("offline mode", () => {
    it("HF_HUB_OFFLINE uses the cache without requests", async () => {
      const online = await resolveModelReference("org/tiny-llama");
      hub.requests.length = 0;
      vi.stubEnv("HF_HUB_OFFLINE", "1");

      expect(await resolveModelReference("org/tiny-llama")).toBe(online);
      expect(hub.requests).toHaveLength(0);
    });

    it("accepts a snapshot with only config and weights", async () => {
      const online = await resolveModelReference("org/tiny-llama");
      rmSync(join(cacheFolder("org/tiny-llama"), ".no_exist"), { recursive: true });

      expect(await resolveModelReference("org/tiny-llama", { offline: true })).toBe(online);
    });

    it("names the model when it is not cached", async () => {
      vi.stubEnv("HF_HUB_OFFLINE", "1");

      await expect(resolveModelReference("org/tiny-llama@v1.0")).rejects.toThrow(
        /^org\/tiny-llama@v1\.0 is not in the Hugging Face cache at .*, and offline mode \(HF_HUB_OFFLINE=1\) allows no download; run again online .* hf download org\/tiny-llama --revision v1\.0$/,
      );
      expect(hub.requests).toHaveLength(0);
    });

    it("names the missing weights of a partial snapshot", async () => {
      const folder = await resolveModelReference("org/tiny-llama");
      unlinkSync(join(folder, "model.safetensors"));

      await expect(resolveModelReference("org/tiny-llama", { offline: true })).rejects.toThrow(
        /lacks model\.safetensors or model\.safetensors\.index\.json\), and offline mode \(the offline option is set\)/,
      );
    });
  });

  describe("access tokens", () => {
    it("sends HF_TOKEN as a bearer header", async () => {
      vi.stubEnv("HF_TOKEN", TOKEN);

      await resolveModelReference("org/private-llama");

      expect(hub.requests.length).toBeGreaterThan(0);
      for (const request of hub.requests) expect(request.authorization, request.path).toBe(`Bearer ${TOKEN}`);
    });

    it("reads the login token file", async () => {
      writeFileSync(join(home, "token"), `${TOKEN}\n`);

      await resolveModelReference("org/private-llama");

      expect(hub.requests[0].authorization).toBe(`Bearer ${TOKEN}`);
    });

    it("sends no header without a token", async () => {
      await resolveModelReference("org/tiny-llama");

      expect(hub.requests.every((request) => request.authorization === undefined)).toBe(true);
    });

    it("rejects a private model without token with 401", async () => {
      const error = await resolveModelReference("org/private-llama").catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(HubDownloadError);
      expect((error as HubDownloadError).status).toBe(401);
      expect((error as HubDownloadError).repoId).toBe("org/private-llama");
      expect((error as Error).message).toMatch(/^org\/private-llama@main: .* HTTP 401: .*private or gated.*set HF_TOKEN/);
    });

    it("names the source of a rejected token", async () => {
      vi.stubEnv("HF_TOKEN", "hf_wrong_token");

      await expect(resolveModelReference("org/private-llama")).rejects.toThrow(/HTTP 401: the Hub rejected the access token from HF_TOKEN/);
    });

    it("reports an unknown model with 404 when a token is sent", async () => {
      vi.stubEnv("HF_TOKEN", TOKEN);

      await expect(resolveModelReference("org/no-such-model")).rejects.toThrow(/^org\/no-such-model@main: .*HTTP 404: .*check the id/);
    });

    it("rejects a token without the hf_ prefix", async () => {
      vi.stubEnv("HF_TOKEN", "not-a-token");

      const error = await resolveModelReference("org/tiny-llama").catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/access token from HF_TOKEN is invalid: Hub tokens start with "hf_"/);
      expect((error as Error).message).not.toContain("not-a-token");
    });
  });

  describe("endpoints", () => {
    it("endpoint option overrides HF_ENDPOINT", async () => {
      vi.stubEnv("HF_ENDPOINT", await closedPortUrl());

      const folder = await resolveModelReference("org/tiny-llama", { endpoint: `${hub.url}/` });

      expect(folder).toBe(snapshot("org/tiny-llama", mainCommit));
    });

    it("reports an unreachable endpoint", async () => {
      const endpoint = await closedPortUrl();
      vi.stubEnv("HF_ENDPOINT", endpoint);

      const error = await resolveModelReference("org/tiny-llama").catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(HubUnreachableError);
      expect((error as HubDownloadError).status).toBeUndefined();
      expect((error as Error).message).toMatch(/^org\/tiny-llama@main: looking up the revision at http:\/\/127\.0\.0\.1:\d+ failed: .*ECONNREFUSED.*HF_HUB_OFFLINE=1/);
    });

    it("falls back to the cache when unreachable", async () => {
      const cached = await resolveModelReference("org/tiny-llama");
      vi.stubEnv("HF_ENDPOINT", await closedPortUrl());

      expect(await resolveModelReference("org/tiny-llama", { refresh: true })).toBe(cached);
      expect(logLines.some((line) => /ECONNREFUSED.*Using the cached snapshot [0-9a-f]{40} of org\/tiny-llama@main instead$/.test(line))).toBe(true);
    });

    it("does not fall back on HTTP errors", async () => {
      await resolveModelReference("org/private-llama", { accessToken: TOKEN });

      await expect(resolveModelReference("org/private-llama", { refresh: true })).rejects.toThrow(/HTTP 401/);
    });
  });

  describe("repository contents", () => {
    it("downloads every shard of a sharded checkpoint", async () => {
      const folder = await resolveModelReference("org/sharded-llama");

      expect(readdirSync(folder).sort()).toEqual(["config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json"]);
    });

    it("rejects a repository without safetensors", async () => {
      await expect(resolveModelReference("org/pytorch-only")).rejects.toThrow(/^org\/pytorch-only@main has neither model\.safetensors nor model\.safetensors\.index\.json; mm reads only safetensors weights/);
    });

    it("rejects a corrupt download and keeps no partial file", async () => {
      const repoId = "org/corrupt-llama";
      hub.addCommit(repoId, { "config.json": configBytes, "model.safetensors": weightBytes });
      hub.corruptFiles.add("model.safetensors");
      try {
        await expect(resolveModelReference(repoId)).rejects.toThrow(new RegExp(`download of model\\.safetensors is corrupt: its hash is [0-9a-f]{64} but the Hub lists ${sha256(weightBytes)}`));
      } finally {
        hub.corruptFiles.delete("model.safetensors");
      }
      const blobs = readdirSync(join(cacheFolder(repoId), "blobs"));
      expect(blobs).toEqual([gitBlobId(configBytes)]);
      expect(existsSync(join(cacheFolder(repoId), "refs", "main"))).toBe(false);

      const folder = await resolveModelReference(repoId);
      expect(readFileSync(join(folder, "model.safetensors")).equals(weightBytes)).toBe(true);
    });
  });

  describe("references", () => {
    it("returns an existing folder unchanged", async () => {
      expect(await resolveModelReference(fixture)).toBe(fixture);
      expect(hub.requests).toHaveLength(0);
    });

    it("rejects a missing path", async () => {
      await expect(resolveModelReference("./no/such/model")).rejects.toThrow(/^model folder not found: \.\/no\/such\/model; check the path/);
    });

    it("rejects a file", async () => {
      const file = join(fixture, "config.json");
      await expect(resolveModelReference(file)).rejects.toThrow(/config\.json is a file; pass the model folder/);
    });

    it("rejects an invalid Hub id", async () => {
      await expect(resolveModelReference("org/bad name")).rejects.toThrow(/^"org\/bad name" is neither an existing folder nor a Hub model id/);
      expect(hub.requests).toHaveLength(0);
    });
  });

  describe("loadPretrained", () => {
    beforeAll(async () => {
      await useBackend("cpu");
    });

    it("loads a downloaded model that matches transformers", async () => {
      const refs = readJson<{ inputs: { input_ids: number[][]; attention_mask: number[][] }; outputs: { logits: { file: string } } }>(join(fixture, "refs.json"));
      const model = loadPretrained<LlamaForCausalLM>(await resolveModelReference("org/tiny-llama"));
      const input_ids = tf.tensor2d(refs.inputs.input_ids, undefined, "int32");
      const attention_mask = tf.tensor2d(refs.inputs.attention_mask, undefined, "int32");

      const output = model.forward({ input_ids, attention_mask });

      expect(model).toBeInstanceOf(LlamaForCausalLM);
      assertClose(output.logits, readFloat32(join(fixture, refs.outputs.logits.file)), 1e-4, "logits");
      tf.dispose([input_ids, attention_mask, output.logits]);
      model.dispose();
    });

    it("loads a sharded download with the fixture's weights", async () => {
      const model = loadPretrained<LlamaForCausalLM>(await resolveModelReference("org/sharded-llama"));
      const expected = readSafetensors(join(fixture, "model.safetensors")).tensors;

      for (const [name, parameter] of model.namedParameters()) {
        expect(parameter.dataSync(), name).toEqual(expected.get(name)!.values);
      }
      model.dispose();
    });
  });
});
