import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { wasmThreadsFromEnvironment } from "@mm/core";
import { describe, expect, it } from "vitest";
import { COMMANDS } from "./command-table";
import { cli, EXAMPLES, exampleConfig, FIXTURES } from "./test-support";

/** A one-record LLaVA dataset whose image is `image`. */
function datasetWithImage(folder: string, image: string): string {
  const path = join(folder, "data.json");
  writeFileSync(path, JSON.stringify([{ id: "bad-1", image, conversations: [{ from: "human", value: "<image>\nWhat is it?" }, { from: "gpt", value: "A photo." }] }]));
  return path;
}

describe("mm", () => {
  it("prints help and the version", async () => {
    const help = await cli("--help");
    expect(help.status).toBe(0);
    expect(help.out[0]).toMatch(/^Usage: mm <command>/);
    const version = await cli("--version");
    expect(version.out).toEqual([JSON.parse(readFileSync(resolve(FIXTURES, "../package.json"), "utf8")).version]);
    expect((await cli("train", "--help")).out[0]).toMatch(/^Usage: mm train CONFIG/);
  });

  it("lists every command in its help", async () => {
    const { out } = await cli("--help");
    for (const name of Object.keys(COMMANDS)) expect(out[0]).toMatch(new RegExp(`^  ${name} `, "m"));
  });

  it.each(Object.entries(COMMANDS))("%s --help describes every option", async (name, command) => {
    const { status, out } = await cli(name, "--help");
    expect(status).toBe(0);
    expect(out).toEqual([command.help]);
    expect(command.help).toMatch(new RegExp(`^Usage: mm ${name}`));
    expect(command.help).toMatch(/^ {2}-h, --help +show this help$/m);
    for (const [option, definition] of Object.entries(command.options)) {
      const line = new RegExp(`^ {2}--${option}\\b.*(?:\\n {10,}.*)*`, "m").exec(command.help);
      expect(line, `--${option}`).not.toBeNull();
      // Every option that takes a value states its default or that it is required.
      if (definition.type === "string") expect(line![0], `--${option}`).toMatch(/\bdefault\b|\(required\)/i);
    }
  });

  it("exits with 2 on bad usage", async () => {
    expect(await cli("fly")).toMatchObject({ status: 2, err: ['mm: unknown command "fly"; commands: train, generate, inspect, convert, doctor (run "mm --help")'] });
    expect(await cli("train")).toMatchObject({ status: 2, err: ['mm train: expected 1 argument(s), got 0; run "mm train --help"'] });
    const unknownOption = await cli("train", "x.json", "--fast");
    expect(unknownOption.status).toBe(2);
    expect(unknownOption.err[0]).toMatch(/^mm train: Unknown option '--fast'/);
    expect(await cli("inspect")).toMatchObject({ status: 2, err: ['mm inspect: expected 1 argument(s), got 0; run "mm inspect --help"'] });
    expect(await cli("doctor", "extra")).toMatchObject({ status: 2, err: ['mm doctor: expected 0 argument(s), got 1; run "mm doctor --help"'] });
    expect((await cli("doctor", "--backend", "cuda")).err).toEqual(['mm doctor: error: --backend: invalid backend "cuda"; use one of auto, tensorflow, wasm, cpu']);
  });

  it("doctor reports the backend and why the native ones were skipped", async () => {
    const { status, out } = await cli("doctor");
    expect(status).toBe(0);
    expect(out[0]).toBe("backend: wasm (requested: auto)");
    expect(out.join("\n")).toMatch(/skipped tensorflow @tensorflow\/tfjs-node-gpu: @tensorflow\/tfjs-node-gpu is not installed/);
    const threads = wasmThreadsFromEnvironment();
    expect(out).toContain(`wasm: SIMD on, threads ${threads} (${threads > 1 ? "threaded" : "single-threaded"} build; MM_WASM_THREADS sets 1 to 8)`);
  });
});

describe("mm train with bad input", () => {
  it.each([
    ["an unknown config key", (c: any) => (c.training.epochs = 2), /^mm train: error: .*config.json: unknown key "training.epochs"; remove it or check its spelling$/],
    ["a config value of the wrong type", (c: any) => (c.training.batchSize = "4"), /^mm train: error: .*config.json: "training.batchSize": got "4"; expected number, received string$/],
    ["a missing tokenizer file", (c: any, folder: string) => (c.tokenizer = folder), /^mm train: error: .*tokenizer.json.*not found/],
    ["a missing image", (c: any, folder: string) => (c.data.train = datasetWithImage(folder, "absent.png")), /^mm train: error: image file not found: .*absent.png/],
    ["a corrupt image", (c: any, folder: string) => (c.data.train = datasetWithImage(folder, join(FIXTURES, "truncated.jpg"))), /^mm train: error: cannot decode image .*truncated.jpg/],
  ])("stops with one line for %s", async (_name, change, message) => {
    const { status, err } = await cli("train", exampleConfig(change), "--backend", "wasm");
    expect(status).toBe(1);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(message);
  });
});

describe("mm train on the shipped example", () => {
  it("trains a few steps and writes each module in Hugging Face format", async () => {
    const path = exampleConfig((c) => {
      c.training.steps = 6;
      c.training.warmupSteps = 1;
    });
    const { status, out } = await cli("train", path, "--backend", "wasm");
    expect(status).toBe(0);
    const [, first, last] = /loss (\d+\.\d+) -> (\d+\.\d+)/.exec(out.at(-1)!)!.map(Number);
    expect(last).toBeLessThan(first);
    const output = join(dirname(path), "output");
    for (const module of ["vision_encoder/module", "vision_encoder/projector", "language_model"]) {
      expect(existsSync(join(output, module, "model.safetensors"))).toBe(true);
      expect(existsSync(join(output, module, "config.json"))).toBe(true);
    }
    expect(JSON.parse(readFileSync(join(output, "language_model", "config.json"), "utf8")).model_type).toBe("llama");

    const inspected = await cli("inspect", output);
    expect(inspected.status).toBe(0);
    expect(inspected.out).toContain("  vision_encoder/projector  mlp projector 64 -> 128: 24,832 parameters, 24,832 trainable");
    expect(inspected.out).toContain("  vision: <image> (id 32000)");
    // CLIP: patch embedding 3·16·16·64, class and 17 positions of 64, 2 layers, 3 layer norms.
    const clipParameters = 3 * 16 * 16 * 64 + 64 + 17 * 64 + 2 * (4 * (64 * 64 + 64) + 2 * 64 * 128 + 128 + 64 + 4 * 64) + 4 * 64;
    expect(inspected.out).toContain(`  vision_encoder/module     clip_vision_model: ${clipParameters.toLocaleString("en-US")} parameters, ${clipParameters.toLocaleString("en-US")} trainable`);
    expect(inspected.out.at(-1)).toBe("tokenizer: 32001 tokens; bos <s> (1), eos </s> (2), pad <unk> (0); padding right");

    const image = join(EXAMPLES, "vlm", "data", "images", "coffee.png");
    const generated = await cli("generate", "--checkpoint", output, "--prompt", "Describe the image briefly.", "--image", image, "--max-new-tokens", "5");
    expect(generated.status).toBe(0);
    expect(generated.out).toHaveLength(1);
    expect(generated.out[0].length).toBeGreaterThan(0);
    const wrongModality = await cli("generate", "--checkpoint", output, "--prompt", "Hi", "--audio", image);
    expect(wrongModality).toMatchObject({ status: 1, err: ["mm generate: error: this model has no audio encoder (it has vision); remove --audio"] });
  });

  it.each(["alm", "valm"])("trains the %s example for a few steps", async (example) => {
    const path = exampleConfig((c) => {
      c.training.steps = 2;
    }, example);
    const { status, out } = await cli("train", path, "--backend", "wasm");
    expect(status).toBe(0);
    expect(out.at(-1)).toMatch(/^done: 2 steps/);
    const output = join(dirname(path), "output");
    expect(existsSync(join(output, "audio_encoder", "module", "model.safetensors"))).toBe(true);
    expect(existsSync(join(output, "audio_encoder", "preprocessor_config.json"))).toBe(true);
  });

  it("generate reports missing options as bad usage", async () => {
    expect(await cli("generate", "--prompt", "Hi")).toMatchObject({ status: 2, err: ['mm generate: --checkpoint and --prompt are required; run "mm generate --help"'] });
    expect((await cli("generate", "--checkpoint", "x", "--prompt", "Hi", "--top-k", "two")).err).toEqual(['mm generate: --top-k must be an integer, got "two"']);
  });

  it("inspect names a folder that does not exist", async () => {
    expect(await cli("inspect", "/nonexistent/output")).toMatchObject({ status: 1, err: ["mm inspect: error: folder not found: /nonexistent/output; pass the output folder of mm train"] });
  });
});
