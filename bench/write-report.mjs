#!/usr/bin/env node
// Benchmark tooling, not part of `npm test`: turns the JSON files that bench/run.sh collected
// into docs/benchmarks.md.
//
//   node bench/write-report.mjs --results DIR --out docs/benchmarks.md
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { imageTokensPerSample, readReferenceConfig } from "./lib/reference-model.mjs";

const MODES = ["all", "frozen-vision", "projector-only"];
const MODE_LABELS = {
  all: "all trainable",
  "frozen-vision": "frozen vision encoder",
  "projector-only": "projector only",
};
const BACKENDS = ["wasm", "cpu", "tensorflow"];

const megabytes = (bytes) => (bytes / 2 ** 20).toFixed(0);
const fixed = (value, digits) => (value === undefined ? "—" : value.toFixed(digits));

/**
 * Reads DIR/name.json. Returns undefined when the run did not happen, and a "failed" result with
 * the last line of DIR/name.err when it printed no JSON.
 */
function readResult(directory, name) {
  const path = `${directory}/${name}.json`;
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, "utf8").trim();
  if (text !== "") return JSON.parse(text);
  const errors = existsSync(`${directory}/${name}.err`) ? readFileSync(`${directory}/${name}.err`, "utf8").trim().split("\n") : [];
  return { status: "failed", reason: errors.at(-1) || "no output" };
}

/** Returns why a run has no numbers, for its table row, or undefined when it has them. */
function missingReason(result, notRun) {
  if (result === undefined) return notRun;
  if (result.status === "unavailable") return `not available: ${result.reason}`;
  if (result.status === "failed") return `failed: ${result.reason}`;
  return undefined;
}

function trainingRow(label, mode, result, pytorch, notRun) {
  const reason = missingReason(result, notRun);
  if (reason !== undefined) return `| ${label} | ${MODE_LABELS[mode]} | ${reason} | | | | | | | |`;
  const ratio = pytorch?.status === "measured" && result.framework !== "pytorch" ? `${fixed(result.medianMs / pytorch.medianMs, 2)}` : "—";
  const peakTensor = result.peakTensorBytes === undefined ? "not measured" : megabytes(result.peakTensorBytes);
  const steps = `${result.warmupSteps} + ${result.steps}`;
  const trainable = `${fixed(result.trainableParameters / 1e6, 2)} M`;
  return `| ${label} | ${MODE_LABELS[mode]} | ${trainable} | ${steps} | ${fixed(result.medianMs, 0)} | ${fixed(result.medianCpuMs, 0)} | ${fixed(result.tokensPerSecond, 1)} | ${peakTensor} | ${megabytes(result.peakRssBytes)} | ${ratio} |`;
}

function trainingTable(directory, meta) {
  const rows = [
    "| backend / framework | freeze mode | trainable parameters | warm-up + timed steps | median ms/step | median CPU ms/step | tokens/s | peak tensor MB | peak RSS MB | ours / PyTorch (ms/step) |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  const pytorch = Object.fromEntries(MODES.map((mode) => [mode, readResult(directory, `torch-${mode}`)]));
  for (const backend of BACKENDS) {
    for (const mode of MODES) {
      const notRun = backend === "tensorflow" ? "not run: the backend is unavailable (see the all-trainable row)" : `not run: ${meta.skipped?.[`${backend}-${mode}`] ?? "not requested"}`;
      const result = readResult(directory, `${backend}-${mode}`);
      rows.push(trainingRow(mmLabel(backend, result), mode, result, pytorch[mode], notRun));
      if (backend === "wasm" && mode === "all") {
        const single = readResult(directory, "wasm-1-thread-all");
        if (single !== undefined) rows.push(trainingRow("mm, tfjs wasm, 1 thread", mode, single, pytorch[mode], "not run"));
      }
    }
  }
  for (const mode of MODES) {
    const notRun = meta.torch.available ? "not run" : `not measured: ${meta.torch.reason}; install it with \`apt-get install python3-torch\``;
    rows.push(trainingRow(pytorchLabel(pytorch[mode]), mode, pytorch[mode], undefined, notRun));
  }
  const trainedHead = readResult(directory, "torch-all-trained-head");
  if (trainedHead !== undefined) rows.push(trainingRow(`${pytorchLabel(trainedHead)}, LM head at trained positions`, "all", trainedHead, undefined, "not run"));
  return rows.join("\n");
}

function mmLabel(backend, result) {
  if (backend !== "wasm" || result?.wasm?.threads === undefined) return `mm, tfjs ${backend}`;
  return `mm, tfjs wasm, ${threadsLabel(result)}`;
}

/** Returns "1 thread" or "N threads" for a WASM result. */
function threadsLabel(result) {
  const threads = result.wasm.threads;
  return `${threads} thread${threads === 1 ? "" : "s"}`;
}

function pytorchLabel(result) {
  return result?.status === "measured" ? `PyTorch ${result.torch}, ${result.threads} threads` : "PyTorch";
}

/** Compares the all-trainable WASM runs with PyTorch running its LM head where mm does. */
function likeForLikeNote(directory) {
  const trainedHead = readResult(directory, "torch-all-trained-head");
  if (trainedHead?.status !== "measured") return "";
  const ratios = ["wasm-all", "wasm-1-thread-all"]
    .map((name) => readResult(directory, name))
    .filter((result) => result?.status === "measured")
    .map((result) => `${fixed(result.medianMs / trainedHead.medianMs, 2)} with ${threadsLabel(result)}`);
  return `- Like for like: PyTorch with its LM head at the trained positions only, as mm runs it, takes ${fixed(trainedHead.medianMs, 0)} ms per all-trainable step; against it, ours / PyTorch is ${ratios.join(" and ")}.`;
}

function phaseTable(wasm, single, pytorch) {
  const rows = ["| framework | forward ms | backward ms | optimizer ms (clipping + AdamW) |", "|---|---|---|---|"];
  for (const [label, result] of [[mmLabel("wasm", wasm), wasm], [mmLabel("wasm", single), single], ["PyTorch", pytorch]]) {
    if (result?.phases === undefined) continue;
    const { forwardMs, backwardMs, optimizerMs } = result.phases;
    rows.push(`| ${label} | ${fixed(forwardMs, 0)} | ${fixed(backwardMs, 0)} | ${fixed(optimizerMs, 0)} |`);
  }
  return rows.join("\n");
}

function kernelTable(wasm, single) {
  const threads = wasm.wasm.threads;
  if (single?.kernels === undefined || threads === 1) {
    const rows = ["| kernel | total ms | calls | share of kernel time |", "|---|---|---|---|"];
    for (const { name, totalMs, count } of wasm.kernels) {
      rows.push(`| ${name} | ${fixed(totalMs, 0)} | ${count} | ${fixed((100 * totalMs) / wasm.kernelTotalMs, 1)} % |`);
    }
    return rows.join("\n");
  }
  const singleMs = new Map(single.kernels.map(({ name, totalMs }) => [name, totalMs]));
  const rows = [`| kernel | total ms, ${threads} threads | total ms, 1 thread | calls | share of kernel time, ${threads} threads |`, "|---|---|---|---|---|"];
  for (const { name, totalMs, count } of wasm.kernels) {
    rows.push(`| ${name} | ${fixed(totalMs, 0)} | ${fixed(singleMs.get(name), 0)} | ${count} | ${fixed((100 * totalMs) / wasm.kernelTotalMs, 1)} % |`);
  }
  rows.push(`| all kernels | ${fixed(wasm.kernelTotalMs, 0)} | ${fixed(single.kernelTotalMs, 0)} | | 100 % |`);
  return rows.join("\n");
}

function shapeTable(wasm) {
  const rows = [`| ${wasm.kernels[0].name} input shapes | total ms | calls |`, "|---|---|---|"];
  for (const { inputShapes, totalMs, count } of wasm.topKernelShapes) rows.push(`| ${inputShapes} | ${fixed(totalMs, 0)} | ${count} |`);
  return rows.join("\n");
}

function shapeSection(wasm, config) {
  if (!(wasm.topKernelShapes?.length > 0)) return "";
  const vocab = config.languageModel.vocab_size;
  return `The same step's ${wasm.kernels[0].name} calls by input shapes, the ${wasm.topKernelShapes.length} largest totals. Shapes with
${vocab} (the vocabulary) belong to the LM head and its gradients, and rank-4 shapes to attention:

${shapeTable(wasm)}
`;
}

function stepTimeSection(directory, config) {
  const wasm = readResult(directory, "wasm-all");
  if (wasm?.kernels === undefined) return "## Where the step time goes\n\nNot measured: the profiled WASM run did not complete.\n";
  const pytorch = readResult(directory, "torch-all");
  const single = readResult(directory, "wasm-1-thread-all");
  const composites = wasm.composites.map(({ name, totalMs, count }) => `"${name}" (${fixed(totalMs, 0)} ms, ${count} calls)`).join(", ");
  return `## Where the step time goes

One WASM training step with every part trainable, profiled with \`tf.profile\` (the first timed
step of the \`wasm-all\` run${single?.kernels === undefined ? "" : ", and of the `wasm-1-thread-all` run beside it"}). Kernel times are wall-clock times per kernel, summed by kernel name;
the ${wasm.kernelCount} distinct kernels that ran add up to ${fixed(wasm.kernelTotalMs, 0)} ms of the step. The top ${wasm.kernels.length}:

${kernelTable(wasm, single)}

${shapeSection(wasm, config)}
Composite ops from \`tf.customGrad\` (@mm/core's linear layer, loss and row gather) are recorded as
scopes whose time includes the kernels they launch, so they are left out of the table and the
sum: ${composites || "none"}.

Forward, backward and optimizer time of one more step. \`timePhases\` in bench/lib/train-steps.mjs
times the model's forward pass inside \`MultimodalModel.computeGradients\`, and the backward time
is the rest of that call. The PyTorch row is the median over its timed steps:

${phaseTable(wasm, single, pytorch)}
`;
}

/** Renders the table of the all-trainable WASM step at the earlier commits that bench/commit-history.sh timed. */
function historySection(directory, meta) {
  const commits = meta.historyCommits ?? [];
  if (commits.length === 0) return "";
  const pytorch = readResult(directory, "torch-all");
  const trainedHead = readResult(directory, "torch-all-trained-head");
  const ratio = (result, reference) => (reference?.status === "measured" ? fixed(result.medianMs / reference.medianMs, 2) : "—");
  const rows = [
    "| code | median ms/step | ours / PyTorch | ours / PyTorch, LM head at trained positions |",
    "|---|---|---|---|",
  ];
  for (const commit of commits) {
    const result = readResult(directory, `history-${commit}`);
    const subjectPath = `${directory}/history-${commit}.subject`;
    const subject = existsSync(subjectPath) ? readFileSync(subjectPath, "utf8").trim().replace("\t", ": ") : commit;
    const reason = missingReason(result, "not run: its install or build failed");
    if (reason !== undefined) rows.push(`| ${subject} | ${reason} | | |`);
    else rows.push(`| ${subject} (1 thread) | ${fixed(result.medianMs, 0)} | ${ratio(result, pytorch)} | ${ratio(result, trainedHead)} |`);
  }
  for (const name of ["wasm-1-thread-all", "wasm-all"]) {
    const result = readResult(directory, name);
    if (result?.status !== "measured") continue;
    rows.push(`| this checkout (${threadsLabel(result)}) | ${fixed(result.medianMs, 0)} | ${ratio(result, pytorch)} | ${ratio(result, trainedHead)} |`);
  }
  const first = readResult(directory, `history-${commits[0]}`);
  return `## Step time across commits

The all-trainable WASM step of the reference model at earlier commits, timed in this run by
\`bench/commit-history.sh\` with this checkout's bench scripts (each commit built in a git
worktree; warm-up + timed steps ${first?.warmupSteps ?? "—"} + ${first?.steps ?? "—"}). Those commits predate the threaded WASM build, so they ran on
one thread. The PyTorch columns divide by this run's PyTorch steps above.

${rows.join("\n")}
`;
}

function preprocessSection(directory, meta) {
  const result = readResult(directory, "preprocess");
  if (result === undefined) return "## Preprocessing\n\nNot measured: bench/preprocess.mjs did not complete.\n";
  const { images, audio } = result;
  const audioRows =
    audio.status === "measured"
      ? [
          `| WhisperFeatureExtractor \`process\` (decode, resample to 16 kHz, log-mel), ${audio.files.length} clips, ${fixed(audio.audioSeconds, 1)} s of audio | ${fixed(audio.processAudioSecondsPerSecond, 1)} s of audio per second |`,
          `| WhisperFeatureExtractor \`extract\` alone (waveforms already at 16 kHz) | ${fixed(audio.extractAudioSecondsPerSecond, 1)} s of audio per second (${fixed(audio.extractWindowsPerSecond, 2)} padded 30-s windows per second) |`,
        ]
      : ["| WhisperFeatureExtractor | not measured yet: @mm/processor does not export it |"];
  return `## Preprocessing

Median of ${result.rounds} rounds after one untimed round, in one Node process (sharp decodes on
its own worker threads). Images: the ${images.files.length} photos in examples/vlm/data/images,
from encoded bytes in memory to pixel_values. Audio: ${audio.files?.join(", ") ?? "—"} from
packages/processor/test-fixtures/audio; Whisper pads every clip to a 30-s window, so the cost
per clip is nearly constant and short clips give low seconds-of-audio rates.

| pipeline | throughput |
|---|---|
| CLIPImageProcessor, defaults (shortest edge 224 bicubic, center crop 224, CLIP mean/std) | ${fixed(images.imagesPerSecond, 1)} images per second |
${audioRows.join("\n")}

Python transformers: ${meta.transformers}.
`;
}

function machineSection(meta, directory) {
  const wasm = readResult(directory, "wasm-all");
  const wasmSettings = wasm?.wasm ? `SIMD ${wasm.wasm.simd ? "on" : "off"}, ${wasm.wasm.threadedBuild ? `threaded build, ${wasm.wasm.threads} threads` : "single-threaded build"}` : "—";
  return `## Machine and tools

- Date: ${meta.startedAt} to ${meta.finishedAt} (UTC)
- CPU: ${meta.cpuModel}, \`nproc\` = ${meta.nproc}
- Memory: ${meta.memory}
- Load average (1 min) at the start and the end: ${meta.loadStart} and ${meta.loadEnd}
- Node ${meta.node}; @tensorflow/tfjs ${meta.tfjs}, @tensorflow/tfjs-backend-wasm ${meta.tfjsWasm} (${wasmSettings})
- Python ${meta.python} (/usr/bin/python3); ${meta.torch.available ? `torch ${meta.torch.version}, BLAS: ${meta.torch.blas}` : `torch: ${meta.torch.reason}`}
`;
}

function referenceSection(config) {
  const { vision, languageModel: llm, batch, optimizer } = config;
  const imageTokens = imageTokensPerSample(config);
  return `## Reference configuration

From bench/reference-config.json, read by both scripts:

- Vision encoder, CLIP-style: image ${vision.image_size}, patch ${vision.patch_size}, hidden ${vision.hidden_size}, ${vision.num_hidden_layers} layers, ${vision.num_attention_heads} heads, intermediate ${vision.intermediate_size}, ${vision.hidden_act}; ${imageTokens} tokens per image (patches and the class token).
- Projector: ${config.projector.type}, ${config.projector.activation}.
- Decoder, Llama-style: hidden ${llm.hidden_size}, ${llm.num_hidden_layers} layers, ${llm.num_attention_heads} heads, ${llm.num_key_value_heads} key/value heads, intermediate ${llm.intermediate_size}, vocabulary ${llm.vocab_size}, untied LM head.
- Batch: ${batch.size} samples of ${imageTokens} image placeholders followed by ${batch.textTokens} random text ids, so ${batch.size * (imageTokens + batch.textTokens)} tokens per step (tokens/s counts them all); random pixel values; seed ${batch.seed}. Labels are the input ids with -100 at the image positions.
- AdamW: learning rate ${optimizer.learningRate}, weight decay ${optimizer.weightDecay} on tensors of rank 2 and more, betas ${optimizer.beta1}/${optimizer.beta2}, eps ${optimizer.eps}; gradients clipped to a global norm of ${optimizer.maxGradNorm}.
- LM head: PyTorch computes logits at all ${batch.size * (imageTokens + batch.textTokens)} positions, as transformers' LlamaForCausalLM does. mm's \`computeGradients\` runs the head only at positions that have a next-token target, so its LM-head shapes in the profile below show how many positions it computed.
- Freeze modes: all trainable; frozen vision encoder (\`encodersMode: { vision: [false, true] }\`, its forward pass runs before the gradient tape); projector only (the same and \`llmMode: false\`; the backward pass still runs through the decoder to reach the projector).
`;
}

function commandsSection(meta) {
  return `## Commands

\`bash bench/run.sh\` ran, in this order:

\`\`\`sh
${meta.commands.join("\n")}
\`\`\`
`;
}

/**
 * Describes how loaded the machine was before the run; numbers from a loaded machine are upper
 * bounds. The load at the end includes the benchmark's own processes, so only the start counts.
 */
function loadNote(meta) {
  const load = `1-minute load average ${meta.loadStart} at the start, on ${meta.nproc} cores; ${meta.loadEnd} at the end includes the benchmark's own processes`;
  if (meta.loadStart < meta.nproc / 2) return `The machine was otherwise idle when the run started (${load}).`;
  return `Other processes were using the machine when this run started (${load}), so the times are upper bounds: the same steps take less time on an idle machine.`;
}

/** Lists the warm-up and timed step counts of the runs that measured something. */
function stepsNote(directory) {
  const counts = [];
  const names = [...BACKENDS.flatMap((backend) => MODES.map((mode) => `${backend}-${mode}`)), "wasm-1-thread-all", ...MODES.map((mode) => `torch-${mode}`), "torch-all-trained-head"];
  for (const name of names) {
    const result = readResult(directory, name);
    if (result?.status === "measured") counts.push(`${name} ${result.warmupSteps} + ${result.steps}`);
  }
  const sentences = [`Warm-up + timed steps per run: ${counts.join(", ")}.`];
  if (readResult(directory, "cpu-all")?.status === "measured") {
    sentences.push("The CPU backend takes minutes per step, so it runs without warm-up and only with every part trainable.");
  }
  const torch = readResult(directory, "torch-all");
  if (torch?.maxSeconds != null) {
    sentences.push(`PyTorch starts no new timed step once its timed steps have taken ${torch.maxSeconds} s, so with a slow BLAS it times fewer than the ${torch.requestedSteps} requested.`);
  }
  return sentences.join(" ");
}

function methodNotes(meta, directory) {
  const notes = [
    likeForLikeNote(directory),
    "- Each configuration runs in its own process, so its peak RSS (`process.resourceUsage().maxRSS`, `resource.getrusage`) is that of one model, including the model build.",
    "- Peak tensor MB is tfjs's count of live tensor bytes (`tf.profile(...).peakBytes`, maximum over the timed steps), weights and AdamW moments included. PyTorch 1.13 has no allocator statistics for CPU tensors, so its column reads \"not measured\".",
    "- CPU ms/step is user plus system time of the whole process during the step, summed over its threads (Node's garbage-collector threads and the WASM pool threads included).",
    "- WASM threads: in Node, tfjs runs its single-threaded build; @mm/core starts tfjs's published threaded SIMD build instead when more than one thread is set (`MM_WASM_THREADS`, default one per logical CPU, at most 8). Its thread pool serves XNNPACK's kernels, matMul among them; the kernel table below shows which kernels it speeds up.",
    "- The WASM and CPU rows run every timed step under `tf.profile`; on these backends it adds one timer read before and after each kernel.",
    `- ${stepsNote(directory)}`,
  ];
  if (meta.torch.available && !/openblas|mkl|blis/i.test(meta.torch.blas)) {
    notes.unshift(
      `- **PyTorch here links the BLAS that Debian's \`libblas.so.3\` alternative points to (${meta.torch.blas}), which is the unoptimised reference implementation when only libblas3 is installed: matrix products run single-threaded at a few GFLOP/s. With OpenBLAS (\`apt-get install libopenblas0-pthread\`) PyTorch's steps would be much faster, so the ratios here overstate how close mm is.**`,
    );
  }
  return notes.filter((note) => note !== "").join("\n");
}

function main() {
  const { values } = parseArgs({ options: { results: { type: "string" }, out: { type: "string", default: "docs/benchmarks.md" } } });
  if (values.results === undefined) throw new Error("usage: node bench/write-report.mjs --results DIR [--out docs/benchmarks.md]");
  const directory = values.results;
  const meta = JSON.parse(readFileSync(`${directory}/meta.json`, "utf8"));
  const config = readReferenceConfig();
  const document = `# Benchmarks

Training-step speed and memory of mm on its reference configuration, against the same model in
plain PyTorch, and preprocessing throughput. Written by \`bash bench/run.sh\`; rerun it to refresh
this page. The benchmark is not part of \`npm test\`.

**${loadNote(meta)}**

${machineSection(meta, directory)}
${referenceSection(config)}
## Training step

${trainingTable(directory, meta)}

${methodNotes(meta, directory)}

${historySection(directory, meta)}
${stepTimeSection(directory, config)}
${preprocessSection(directory, meta)}
${commandsSection(meta)}`;
  writeFileSync(values.out, document);
}

main();
