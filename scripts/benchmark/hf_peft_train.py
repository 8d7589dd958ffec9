#!/usr/bin/env python3
"""The Hugging Face peer of `entity-train benchmark train`: transformers + PEFT LoRA training on a
model shape with random weights, timed and measured the same way.

Same shapes (dimensions copied from ModelConfig.shape), same random-token batches in kind (seeded,
every position a target), same LoRA settings (r, alpha = 2r, dropout, all-linear), AdamW with
lr 1e-4 and no weight decay, global-norm clipping at 1.0, and the same figures: tokens/s counted
as batch x seq per step, mean/min step time, and peak RSS. The peak is read two ways, as ours is:
the training peak (VmHWM reset through /proc/self/clear_refs after the model is built) and the
whole-process peak (resource.getrusage ru_maxrss).

Run with /work/venv/bin/python, e.g.
  python scripts/benchmark/hf_peft_train.py --shape smollm2-135m --seq 512 --batch 4 --steps 5
"""

import argparse
import json
import os
import platform
import resource
import sys
import time

import torch

# name: (arch, vocab, hidden, layers, heads, kv_heads, intermediate, max_positions, eps, theta, tied)
SHAPES = {
    "tiny": ("llama", 256, 64, 2, 4, 2, 128, 256, 1e-5, 10000.0, False),
    "smollm2-135m": ("llama", 49152, 576, 30, 9, 3, 1536, 8192, 1e-5, 100000.0, True),
    "qwen2.5-0.5b": ("qwen2", 151936, 896, 24, 14, 2, 4864, 32768, 1e-6, 1000000.0, True),
    "llama-3.2-1b": ("llama", 128256, 2048, 16, 32, 8, 8192, 131072, 1e-5, 500000.0, True),
    "llama-3-8b": ("llama", 128256, 4096, 32, 32, 8, 14336, 8192, 1e-5, 500000.0, False),
}


def build_config(shape):
    from transformers import LlamaConfig, Qwen2Config

    arch, vocab, hidden, layers, heads, kv, inter, maxpos, eps, theta, tied = SHAPES[shape]
    cls = Qwen2Config if arch == "qwen2" else LlamaConfig
    kwargs = dict(
        vocab_size=vocab,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv,
        intermediate_size=inter,
        max_position_embeddings=maxpos,
        rms_norm_eps=eps,
        rope_theta=theta,
        tie_word_embeddings=tied,
        hidden_act="silu",
    )
    if shape == "llama-3.2-1b":
        kwargs["rope_scaling"] = {
            "rope_type": "llama3",
            "factor": 32.0,
            "low_freq_factor": 1.0,
            "high_freq_factor": 4.0,
            "original_max_position_embeddings": 8192,
        }
    return cls(**kwargs)


def vm_hwm():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return -1


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def gib(n):
    return "%.2f GiB" % (n / 2**30) if n >= 2**30 else "%.2f MiB" % (n / 2**20)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--shape", choices=sorted(SHAPES))
    src.add_argument("--model", help="a model folder with config.json (random weights)")
    p.add_argument("--method", choices=["lora", "full"], default="lora")
    p.add_argument("--seq", type=int, default=512)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--rank", type=int, default=16)
    p.add_argument("--targets", default="all-linear")
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--threads", type=int, default=0, help="0 = every core")
    p.add_argument("--checkpointing", action="store_true")
    p.add_argument("--bf16", action="store_true", help="bf16 autocast (weights stay fp32)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--json")
    a = p.parse_args()

    threads = a.threads or os.cpu_count()
    torch.set_num_threads(threads)
    torch.manual_seed(a.seed)
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(a.model) if a.model else build_config(a.shape)
    name = a.model or a.shape
    print(
        "Benchmark (HF+PEFT): %s, %s, %s, seq %d x batch %d, %d warm-up + %d timed steps"
        % (
            name,
            "full fine-tuning"
            if a.method == "full"
            else "lora r=%d on %s (dropout %s)" % (a.rank, a.targets, a.dropout),
            "bf16 autocast" if a.bf16 else "fp32",
            a.seq,
            a.batch,
            a.warmup,
            a.steps,
        )
    )
    load = os.getloadavg()[0]
    print(
        "Machine: %d cores, %s, Python %s, torch %s, load average %.2f"
        % (os.cpu_count(), cpu_model(), platform.python_version(), torch.__version__, load)
    )
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    if a.method == "lora":
        from peft import LoraConfig, get_peft_model

        targets = a.targets if a.targets == "all-linear" else a.targets.split(",")
        model = get_peft_model(
            model,
            LoraConfig(
                r=a.rank, lora_alpha=2 * a.rank, lora_dropout=a.dropout, target_modules=targets
            ),
        )
    if a.checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    model.train()
    params = sum(t.numel() for t in model.parameters())
    trainable = [t for t in model.parameters() if t.requires_grad]
    print(
        "Built %s with random weights (%s parameters, %s trainable)"
        % (name, format(params, ","), format(sum(t.numel() for t in trainable), ","))
    )
    opt = torch.optim.AdamW(trainable, lr=1e-4, weight_decay=0.0)
    gen = torch.Generator().manual_seed(a.seed)
    process_peak_build = vm_hwm()
    reset = reset_peak()
    seconds, losses = [], []
    for i in range(a.warmup + a.steps):
        ids = torch.randint(0, config.vocab_size, (a.batch, a.seq), generator=gen)
        start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        opt.step()
        s = time.perf_counter() - start
        warm = i < a.warmup
        if not warm:
            seconds.append(s)
            losses.append(loss.item())
        print(
            "  %s %d/%d: %.3f s, loss %.4f, %.1f tokens/s"
            % (
                "warm-up" if warm else "step",
                i + 1 if warm else i - a.warmup + 1,
                a.warmup if warm else a.steps,
                s,
                loss.item(),
                a.batch * a.seq / s,
            ),
            flush=True,
        )
    tokens = a.batch * a.seq
    mean = sum(seconds) / len(seconds)
    training_peak = vm_hwm()
    process_peak = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, process_peak_build, training_peak
    )
    print()
    print("tokens/s          %.1f (%d tokens per step, %d threads)" % (tokens / mean, tokens, threads))
    print("step time         mean %.3f s, min %.3f s" % (mean, min(seconds)))
    print(
        "peak RSS          %s during training%s; %s for the whole process"
        % (
            gib(training_peak),
            "" if reset else " (high-water mark could not be reset: whole process)",
            gib(process_peak),
        )
    )
    if a.json:
        with open(a.json, "w") as f:
            json.dump(
                {
                    "engine": "transformers+peft",
                    "setup": {k: v for k, v in vars(a).items() if k != "json"} | {"threads": threads},
                    "machine": {
                        "cores": os.cpu_count(),
                        "cpu_model": cpu_model(),
                        "python": platform.python_version(),
                        "torch": torch.__version__,
                        "load_average": load,
                    },
                    "tokens_per_second": tokens / mean,
                    "mean_step_seconds": mean,
                    "min_step_seconds": min(seconds),
                    "step_seconds": seconds,
                    "losses": losses,
                    "peak_rss_bytes": training_peak,
                    "process_peak_rss_bytes": process_peak,
                    "peak_reset_after_build": reset,
                    "parameters": params,
                },
                f,
                indent=2,
            )
        print("Figures written to " + a.json)


if __name__ == "__main__":
    sys.exit(main())
