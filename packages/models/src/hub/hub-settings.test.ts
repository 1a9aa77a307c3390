import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError } from "@mm/core";
import { readHubSettings } from "./hub-settings";

describe("readHubSettings", () => {
  let home: string;

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), "mm-hf-settings-"));
  });

  afterEach(() => {
    rmSync(home, { recursive: true, force: true });
  });

  describe("cache folder", () => {
    it.each([
      ["HF_HUB_CACHE first", { HF_HUB_CACHE: "/a", HUGGINGFACE_HUB_CACHE: "/b", HF_HOME: "/c" }, "/a"],
      ["legacy HUGGINGFACE_HUB_CACHE next", { HUGGINGFACE_HUB_CACHE: "/b", HF_HOME: "/c" }, "/b"],
      ["HF_HOME/hub next", { HF_HOME: "/c", XDG_CACHE_HOME: "/d" }, "/c/hub"],
      ["XDG_CACHE_HOME/huggingface/hub next", { XDG_CACHE_HOME: "/d" }, "/d/huggingface/hub"],
      ["empty values ignored", { HF_HUB_CACHE: "", HF_HOME: "/c" }, "/c/hub"],
    ])("%s", (_case, env, expected) => {
      expect(readHubSettings({}, env).cacheDir).toBe(expected);
    });

    it("defaults to ~/.cache/huggingface/hub", () => {
      expect(readHubSettings({}, {}).cacheDir).toBe(join(homedir(), ".cache", "huggingface", "hub"));
    });

    it("expands a leading ~", () => {
      expect(readHubSettings({}, { HF_HOME: "~/hf" }).cacheDir).toBe(join(homedir(), "hf", "hub"));
    });
  });

  describe("endpoint", () => {
    it("defaults to huggingface.co", () => {
      expect(readHubSettings({}, {}).endpoint).toBe("https://huggingface.co");
    });

    it("reads HF_ENDPOINT without trailing slashes", () => {
      expect(readHubSettings({}, { HF_ENDPOINT: "https://hf-mirror.example//" }).endpoint).toBe("https://hf-mirror.example");
    });

    it("prefers the endpoint option", () => {
      expect(readHubSettings({ endpoint: "http://127.0.0.1:1" }, { HF_ENDPOINT: "https://hf-mirror.example" }).endpoint).toBe("http://127.0.0.1:1");
    });
  });

  describe("offline mode", () => {
    it.each([
      [{ HF_HUB_OFFLINE: "1" }, "HF_HUB_OFFLINE=1"],
      [{ HF_HUB_OFFLINE: "yes" }, "HF_HUB_OFFLINE=yes"],
      [{ HF_HUB_OFFLINE: "True" }, "HF_HUB_OFFLINE=True"],
      [{ HF_HUB_OFFLINE: "on" }, "HF_HUB_OFFLINE=on"],
      [{ TRANSFORMERS_OFFLINE: "1" }, "TRANSFORMERS_OFFLINE=1"],
      [{ HF_HUB_OFFLINE: "0" }, undefined],
      [{ HF_HUB_OFFLINE: "false" }, undefined],
      // huggingface_hub reads TRANSFORMERS_OFFLINE only when HF_HUB_OFFLINE is unset or empty.
      [{ HF_HUB_OFFLINE: "0", TRANSFORMERS_OFFLINE: "1" }, undefined],
      [{}, undefined],
    ])("%j gives %s", (env, expected) => {
      expect(readHubSettings({}, env).offlineReason).toBe(expected);
    });

    it("offline option overrides the environment", () => {
      expect(readHubSettings({ offline: false }, { HF_HUB_OFFLINE: "1" }).offlineReason).toBeUndefined();
      expect(readHubSettings({ offline: true }, {}).offlineReason).toBe("the offline option is set");
    });
  });

  describe("access token", () => {
    it("prefers the option, then HF_TOKEN, then the token file", () => {
      writeFileSync(join(home, "token"), "hf_from_file\n");

      expect(readHubSettings({ accessToken: "hf_option" }, { HF_TOKEN: "hf_env", HF_HOME: home }).accessToken).toEqual({ value: "hf_option", source: "the accessToken option" });
      expect(readHubSettings({}, { HF_TOKEN: "hf_env", HF_HOME: home }).accessToken).toEqual({ value: "hf_env", source: "HF_TOKEN" });
      expect(readHubSettings({}, { HF_HOME: home }).accessToken).toEqual({ value: "hf_from_file", source: `the token file ${join(home, "token")}` });
    });

    it("reads HF_TOKEN_PATH", () => {
      const path = join(home, "elsewhere-token");
      writeFileSync(path, "hf_custom_path");

      expect(readHubSettings({}, { HF_HOME: home, HF_TOKEN_PATH: path }).accessToken?.value).toBe("hf_custom_path");
    });

    it("has no token by default", () => {
      expect(readHubSettings({}, { HF_HOME: home }).accessToken).toBeUndefined();
    });

    it("rejects a token file without the hf_ prefix", () => {
      writeFileSync(join(home, "token"), "secret-value");

      expect(() => readHubSettings({}, { HF_HOME: home })).toThrow(ConfigError);
      expect(() => readHubSettings({}, { HF_HOME: home })).toThrow(/token file .*token is invalid: Hub tokens start with "hf_"/);
    });
  });
});
