#!/usr/bin/python3
"""Benchmark tooling only, not part of the project or its tests.

Times training steps of bench/reference-config.json's model, written in plain PyTorch (no
transformers), to compare with bench/train-step.mjs: a CLIP-style vision encoder, an MLP
projector and a Llama-style decoder, float32 on the CPU with 2 threads. It prints one JSON
object on stdout.

    /usr/bin/python3 bench/torch_train_step.py --mode all --steps 5 --warmup 1

Shape letters: B batch, T sequence, N image tokens per sample, C hidden, H heads, D head dim,
V vocabulary.
"""

import argparse
import json
import math
import re
import resource
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

CONFIG_PATH = Path(__file__).with_name("reference-config.json")
IGNORE_INDEX = -100
FREEZE_MODES = ("all", "frozen-vision", "projector-only")


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


class ClipAttention(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.heads = heads
        self.q_proj = nn.Linear(hidden, hidden)
        self.k_proj = nn.Linear(hidden, hidden)
        self.v_proj = nn.Linear(hidden, hidden)
        self.out_proj = nn.Linear(hidden, hidden)

    def forward(self, x):
        batch, length, hidden = x.shape
        head_dim = hidden // self.heads

        def split_heads(t):
            return t.view(batch, length, self.heads, head_dim).transpose(1, 2)  # [B, H, T, D]

        q, k, v = split_heads(self.q_proj(x)), split_heads(self.k_proj(x)), split_heads(self.v_proj(x))
        weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(head_dim), dim=-1)  # [B, H, T, T]
        out = (weights @ v).transpose(1, 2).reshape(batch, length, hidden)  # [B, T, C]
        return self.out_proj(out)


class ClipEncoderLayer(nn.Module):
    def __init__(self, config):
        super().__init__()
        hidden, eps = config["hidden_size"], config["layer_norm_eps"]
        self.layer_norm1 = nn.LayerNorm(hidden, eps=eps)
        self.self_attn = ClipAttention(hidden, config["num_attention_heads"])
        self.layer_norm2 = nn.LayerNorm(hidden, eps=eps)
        self.fc1 = nn.Linear(hidden, config["intermediate_size"])
        self.fc2 = nn.Linear(config["intermediate_size"], hidden)

    def forward(self, x):
        x = x + self.self_attn(self.layer_norm1(x))
        return x + self.fc2(quick_gelu(self.fc1(self.layer_norm2(x))))


class ClipVisionEncoder(nn.Module):
    """CLIP's vision tower: bias-free patch convolution, class token, learned positions, pre-LN."""

    def __init__(self, config):
        super().__init__()
        hidden, patch = config["hidden_size"], config["patch_size"]
        patches = (config["image_size"] // patch) ** 2
        self.patch_embedding = nn.Conv2d(config["num_channels"], hidden, kernel_size=patch, stride=patch, bias=False)
        self.class_embedding = nn.Parameter(torch.randn(hidden) * 0.02)
        self.position_embedding = nn.Embedding(patches + 1, hidden)
        self.pre_layrnorm = nn.LayerNorm(hidden, eps=config["layer_norm_eps"])
        self.layers = nn.ModuleList(ClipEncoderLayer(config) for _ in range(config["num_hidden_layers"]))
        self.post_layernorm = nn.LayerNorm(hidden, eps=config["layer_norm_eps"])

    def forward(self, pixel_values):
        patches = self.patch_embedding(pixel_values).flatten(2).transpose(1, 2)  # [B, N - 1, C]
        class_token = self.class_embedding.expand(patches.shape[0], 1, -1)  # [B, 1, C]
        x = torch.cat([class_token, patches], dim=1) + self.position_embedding.weight  # [B, N, C]
        x = self.pre_layrnorm(x)
        for layer in self.layers:
            x = layer(x)
        # As transformers' CLIPVisionModel: the pooled class token goes through post_layernorm,
        # and last_hidden_state (what the projector receives) does not.
        self.post_layernorm(x[:, 0])
        return x


class Projector(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.in_proj = nn.Linear(in_features, out_features)
        self.out_proj = nn.Linear(out_features, out_features)

    def forward(self, x):
        return self.out_proj(F.gelu(self.in_proj(x)))


class RMSNorm(nn.Module):
    def __init__(self, hidden, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden))
        self.eps = eps

    def forward(self, x):
        return self.weight * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)


def rotate_half(x):
    first, second = x.chunk(2, dim=-1)
    return torch.cat([-second, first], dim=-1)


def rotary_tables(length, head_dim, theta):
    inverse_frequencies = 1.0 / theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
    angles = torch.outer(torch.arange(length, dtype=torch.float32), inverse_frequencies)  # [T, D / 2]
    angles = torch.cat([angles, angles], dim=-1)  # [T, D]
    return angles.cos(), angles.sin()


class LlamaAttention(nn.Module):
    """Grouped-query attention with rotary positions and a causal mask."""

    def __init__(self, config):
        super().__init__()
        hidden = config["hidden_size"]
        self.heads = config["num_attention_heads"]
        self.kv_heads = config["num_key_value_heads"]
        self.head_dim = hidden // self.heads
        self.q_proj = nn.Linear(hidden, self.heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(hidden, self.kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(hidden, self.kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(self.heads * self.head_dim, hidden, bias=False)

    def forward(self, x, cos, sin, causal_bias):
        batch, length, hidden = x.shape
        q = self.q_proj(x).view(batch, length, self.heads, self.head_dim).transpose(1, 2)  # [B, H, T, D]
        k = self.k_proj(x).view(batch, length, self.kv_heads, self.head_dim).transpose(1, 2)  # [B, Hkv, T, D]
        v = self.v_proj(x).view(batch, length, self.kv_heads, self.head_dim).transpose(1, 2)  # [B, Hkv, T, D]
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        groups = self.heads // self.kv_heads
        k, v = k.repeat_interleave(groups, dim=1), v.repeat_interleave(groups, dim=1)  # [B, H, T, D]
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim) + causal_bias  # [B, H, T, T]
        out = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(batch, length, hidden)  # [B, T, C]
        return self.o_proj(out)


class LlamaDecoderLayer(nn.Module):
    def __init__(self, config):
        super().__init__()
        hidden, eps = config["hidden_size"], config["rms_norm_eps"]
        self.input_layernorm = RMSNorm(hidden, eps)
        self.self_attn = LlamaAttention(config)
        self.post_attention_layernorm = RMSNorm(hidden, eps)
        self.gate_proj = nn.Linear(hidden, config["intermediate_size"], bias=False)
        self.up_proj = nn.Linear(hidden, config["intermediate_size"], bias=False)
        self.down_proj = nn.Linear(config["intermediate_size"], hidden, bias=False)

    def forward(self, x, cos, sin, causal_bias):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, causal_bias)
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class LlamaForCausalLM(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.embed_tokens = nn.Embedding(config["vocab_size"], config["hidden_size"])
        self.layers = nn.ModuleList(LlamaDecoderLayer(config) for _ in range(config["num_hidden_layers"]))
        self.norm = RMSNorm(config["hidden_size"], config["rms_norm_eps"])
        self.lm_head = nn.Linear(config["hidden_size"], config["vocab_size"], bias=False)

    def forward(self, inputs_embeds):
        return self.lm_head(self.hidden_states(inputs_embeds))  # [B, T, V]

    def hidden_states(self, inputs_embeds):
        """Return the normalised last hidden states, the LM head's input."""
        length = inputs_embeds.shape[1]
        head_dim = self.config["hidden_size"] // self.config["num_attention_heads"]
        cos, sin = rotary_tables(length, head_dim, self.config["rope_theta"])
        causal_bias = torch.full((length, length), torch.finfo(torch.float32).min).triu(1)  # [T, T]
        x = inputs_embeds
        for layer in self.layers:
            x = layer(x, cos, sin, causal_bias)
        return self.norm(x)  # [B, T, C]


class MultimodalModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.image_token_id = config["batch"]["imageTokenId"]
        self.vision = ClipVisionEncoder(config["vision"])
        self.projector = Projector(config["vision"]["hidden_size"], config["languageModel"]["hidden_size"])
        self.language_model = LlamaForCausalLM(config["languageModel"])
        self.vision_trainable = True
        self.lm_head_at_trained_positions = False

    def forward(self, input_ids, pixel_values, labels):
        # A frozen encoder runs without autograd, so none of its activations are kept.
        with torch.set_grad_enabled(self.vision_trainable and torch.is_grad_enabled()):
            features = self.vision(pixel_values)  # [B, N, C_vision]
        projected = self.projector(features)  # [B, N, C]

        is_image = input_ids == self.image_token_id  # [B, T]
        text_embeds = self.language_model.embed_tokens(input_ids.masked_fill(is_image, 0))  # [B, T, C]
        inputs_embeds = text_embeds.masked_scatter(is_image.unsqueeze(-1), projected)

        targets = labels.masked_fill(is_image, IGNORE_INDEX)[:, 1:]  # [B, T - 1]
        if self.lm_head_at_trained_positions:
            # mm's computeGradients: the head runs only where a next-token target exists.
            hidden = self.language_model.hidden_states(inputs_embeds)[:, :-1]  # [B, T - 1, C]
            trained = targets != IGNORE_INDEX
            logits = self.language_model.lm_head(hidden[trained])  # [P, V]
            return F.cross_entropy(logits, targets[trained])
        logits = self.language_model(inputs_embeds)  # [B, T, V]
        vocab = logits.shape[-1]
        return F.cross_entropy(logits[:, :-1].reshape(-1, vocab), targets.reshape(-1), ignore_index=IGNORE_INDEX)


def initialise(model, std=0.02):
    """Draws weights as transformers' initializer_range does: N(0, 0.02²), zero biases, unit norms."""
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d, nn.Embedding)):
            nn.init.normal_(module.weight, std=std)
            if getattr(module, "bias", None) is not None:
                nn.init.zeros_(module.bias)


def set_freeze_mode(model, mode):
    model.vision_trainable = mode == "all"
    model.vision.requires_grad_(mode == "all")
    model.projector.requires_grad_(True)
    model.language_model.requires_grad_(mode != "projector-only")


def create_optimizer(model, settings):
    """AdamW with weight decay on matrices only (rank >= 2), as @mm/trainer's default rule."""
    trainable = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in trainable if p.ndim >= 2], "weight_decay": settings["weightDecay"]},
        {"params": [p for p in trainable if p.ndim < 2], "weight_decay": 0.0},
    ]
    betas = (settings["beta1"], settings["beta2"])
    return torch.optim.AdamW(groups, lr=settings["learningRate"], betas=betas, eps=settings["eps"])


def random_batch(config):
    """pixel_values [B, 3, H, W] from N(0, 1); input_ids [B, N + text] with the N placeholders first."""
    generator = torch.Generator().manual_seed(config["batch"]["seed"] + 1)
    vision, batch = config["vision"], config["batch"]
    image_tokens = (vision["image_size"] // vision["patch_size"]) ** 2 + 1
    size = batch["size"]
    pixel_values = torch.randn(size, vision["num_channels"], vision["image_size"], vision["image_size"], generator=generator)
    text = torch.randint(0, config["languageModel"]["vocab_size"], (size, batch["textTokens"]), generator=generator)
    placeholders = torch.full((size, image_tokens), batch["imageTokenId"])
    input_ids = torch.cat([placeholders, text], dim=1)  # [B, T]
    return {"input_ids": input_ids, "pixel_values": pixel_values, "labels": input_ids.clone()}


def train_step(model, optimizer, batch, settings):
    """One step; returns the loss and the milliseconds of forward, backward and optimizer."""
    started = time.perf_counter()
    loss = model(**batch)
    forward_done = time.perf_counter()
    loss.backward()
    backward_done = time.perf_counter()
    torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], settings["maxGradNorm"])
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    finished = time.perf_counter()
    phases = {
        "forwardMs": (forward_done - started) * 1000,
        "backwardMs": (backward_done - forward_done) * 1000,
        "optimizerMs": (finished - backward_done) * 1000,
    }
    return loss.item(), phases


def measure(args, config):
    torch.manual_seed(config["batch"]["seed"])
    build_started = time.perf_counter()
    model = MultimodalModel(config)
    initialise(model)
    set_freeze_mode(model, args.mode)
    model.lm_head_at_trained_positions = args.lm_head == "trained"
    optimizer = create_optimizer(model, config["optimizer"])
    batch = random_batch(config)
    build_ms = (time.perf_counter() - build_started) * 1000

    losses, step_ms, cpu_ms, phases = [], [], [], []
    for _ in range(args.warmup):
        losses.append(train_step(model, optimizer, batch, config["optimizer"])[0])
    timing_started = time.perf_counter()
    for _ in range(args.steps):
        if step_ms and time.perf_counter() - timing_started > args.max_seconds:
            break
        started, cpu_started = time.perf_counter(), time.process_time()
        loss, step_phases = train_step(model, optimizer, batch, config["optimizer"])
        step_ms.append((time.perf_counter() - started) * 1000)
        cpu_ms.append((time.process_time() - cpu_started) * 1000)
        losses.append(loss)
        phases.append(step_phases)

    parameters = list(model.parameters())
    median_phases = {key: statistics.median(p[key] for p in phases) for key in phases[0]}
    return {
        "buildMs": build_ms,
        "stepMs": step_ms,
        "medianMs": statistics.median(step_ms),
        "cpuMs": cpu_ms,
        "medianCpuMs": statistics.median(cpu_ms),
        "losses": losses,
        "phases": median_phases,
        "parameters": sum(p.numel() for p in parameters),
        "trainableParameters": sum(p.numel() for p in parameters if p.requires_grad),
    }


def blas_info():
    """Return the BLAS that this torch build was configured with, from torch.__config__.show()."""
    match = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    return match.group(1) if match else "unknown"


def main():
    parser = argparse.ArgumentParser(description="Time training steps of the reference model in plain PyTorch (benchmark tooling only).")
    parser.add_argument("--mode", choices=FREEZE_MODES, default="all", help="which parts train (default all)")
    parser.add_argument("--steps", type=int, default=5, help="maximum number of timed steps after the warm-up (default 5)")
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=math.inf,
        help="start no further timed step once the timed steps have taken this many seconds; at least one always runs (default: no limit)",
    )
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps first (default 1)")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument(
        "--lm-head",
        choices=["all", "trained"],
        default="all",
        help="positions the LM head runs at: all, as transformers does, or only those with a next-token target, as mm does (default all)",
    )
    args = parser.parse_args()
    if args.steps < 1 or args.warmup < 0:
        parser.error("--steps must be at least 1 and --warmup at least 0")

    torch.set_num_threads(args.threads)
    config = json.loads(CONFIG_PATH.read_text())
    vision = config["vision"]
    tokens_per_step = config["batch"]["size"] * ((vision["image_size"] // vision["patch_size"]) ** 2 + 1 + config["batch"]["textTokens"])
    result = measure(args, config)
    # ru_maxrss is in kilobytes on Linux.
    peak_rss_bytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({
        "framework": "pytorch",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "blas": blas_info(),
        "mode": args.mode,
        "lmHead": args.lm_head,
        "steps": len(result["stepMs"]),
        "requestedSteps": args.steps,
        "maxSeconds": None if math.isinf(args.max_seconds) else args.max_seconds,
        "warmupSteps": args.warmup,
        "tokensPerStep": tokens_per_step,
        "status": "measured",
        **result,
        "tokensPerSecond": tokens_per_step * 1000 / result["medianMs"],
        "peakRssBytes": peak_rss_bytes,
    }))


if __name__ == "__main__":
    main()
