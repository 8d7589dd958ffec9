#!/usr/bin/env python3
"""Reference fixtures for entity-engine: tiny Hugging Face models and what HF/PEFT/PyTorch compute.

How to run (from the repository root; needs torch, transformers, peft, safetensors):

    /work/venv/bin/python scripts/reference/make_model_fixtures.py
    # or: python scripts/reference/make_model_fixtures.py --out entity-engine/src/test/resources/fixtures/hf

It is deterministic (fixed seeds, one thread, deterministic algorithms, CPU, float32): re-running it
with the same package versions rewrites byte-identical files. The Java tests never need Python.

What it writes, under OUT (default entity-engine/src/test/resources/fixtures/hf):

  <arch>/model/            the model as `save_pretrained` writes it (config.json, generation_config.json,
                           safetensors weights). arch is llama, qwen2 or gpt2.
                           - llama: GQA (4 heads, 2 kv heads), untied lm_head, llama3 rope scaling. Its
                             config.json is rewritten in the legacy form the Hub's Llama 3.x checkpoints
                             use (top-level "rope_scaling" + "rope_theta"); the script checks that
                             transformers loads it back to the same logits.
                           - qwen2: GQA, QKV bias, tied embeddings, config as transformers 5 writes it
                             ("rope_parameters"); its weights are saved SHARDED (model-0000k-of-0000n
                             .safetensors + model.safetensors.index.json) to exercise the index reader.
                           - gpt2: LayerNorm, learned positions, gelu_new, Conv1D (weights stored (in, out)).
  <arch>/reference.safetensors   reference tensors (names below), F32 unless said, integers as I32.
  <arch>/reference.json          settings, package versions, and a description of every tensor.
  safetensors-layout/python_written.safetensors   a small mixed-dtype file written by the Python
                           `safetensors` package, to check our writer's byte layout against (see the
                           "layout" section of safetensors-layout/layout.json for how it was filled).

Reference tensor names (see reference.json for the shapes):
  input_ids, attention_mask, labels      (B=2, T=12) I32; right padding (row 1 has 3 pads, id 0);
                                         labels unshifted (HF convention), -100 on pads and the first
                                         3 tokens of each row.
  logits (B,T,V), loss (1,)              base model with the attention mask; HF mean cross-entropy.
  full.grad.<hf name>                    d loss / d parameter for every parameter (tied weights: one
                                         tensor under the embedding's name holding both contributions).
  full.grad_norm (1,)                    global L2 norm of all full.grad.* (as clip_grad_norm_ computes it).
  adamw3.<hf name>, adamw3.losses (3,)   every parameter after 3 AdamW steps (lr 1e-2, betas 0.9/0.999,
                                         eps 1e-8, weight_decay 0.01 on every parameter, no clipping)
                                         on the batch above; losses[i] is the loss before step i+1.
  lora.init.<peft name>                  initial lora_A/lora_B (lora_B random, not zero) with PEFT's
                                         saved-adapter names, e.g.
                                         base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight
  lora.logits, lora.loss, lora.grad.<peft name>
                                         r=4, alpha=8, dropout 0, all linear layers targeted.
  rslora.loss, rslora.grad.<peft name>   the same adapter init with use_rslora=True (scale alpha/sqrt(r));
                                         gradients of layer 0's adapters only.
"""

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

import torch

B, T, V = 2, 12, 256
PAD_ID = 0
PAD_ROW1 = 3
PROMPT_TOKENS = 3
HIDDEN = 48
LAYERS = 2
INTERMEDIATE = 128
MAX_POS = 64
INIT_STD = 0.15
LORA_R, LORA_ALPHA = 4, 8
LORA_B_STD = 0.1
ADAMW = dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
LLAMA3_ROPE = {
    "rope_type": "llama3",
    "factor": 8.0,
    "low_freq_factor": 1.0,
    "high_freq_factor": 4.0,
    # Small on purpose: with head_dim 12 the frequencies then fall in all three llama3 bands
    # (kept, smoothed, divided by factor).
    "original_max_position_embeddings": 32,
}
ROPE_THETA = 10000.0
LINEAR_TARGETS = {
    "llama": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    "qwen2": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    "gpt2": ["c_attn", "c_proj", "c_fc"],
}
SEEDS = {"llama": 1001, "qwen2": 2002, "gpt2": 3003}


def make_config(arch):
    import transformers as tf

    common = dict(vocab_size=V, bos_token_id=1, eos_token_id=2, pad_token_id=PAD_ID)
    decoder = dict(
        hidden_size=HIDDEN,
        intermediate_size=INTERMEDIATE,
        num_hidden_layers=LAYERS,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=MAX_POS,
        initializer_range=INIT_STD,
        rope_theta=ROPE_THETA,
        **common,
    )
    if arch == "llama":
        return tf.LlamaConfig(
            rms_norm_eps=1e-5, tie_word_embeddings=False, rope_scaling=dict(LLAMA3_ROPE), **decoder
        )
    if arch == "qwen2":
        return tf.Qwen2Config(
            rms_norm_eps=1e-6, tie_word_embeddings=True, use_sliding_window=False, **decoder
        )
    if arch == "gpt2":
        return tf.GPT2Config(
            n_embd=HIDDEN,
            n_layer=LAYERS,
            n_head=4,
            n_positions=MAX_POS,
            n_inner=None,  # 4 * n_embd
            initializer_range=INIT_STD,
            resid_pdrop=0.0,
            embd_pdrop=0.0,
            attn_pdrop=0.0,
            **common,
        )
    raise ValueError(arch)


def make_model(arch):
    import transformers as tf

    torch.manual_seed(SEEDS[arch])
    config = make_config(arch)
    cls = {"llama": tf.LlamaForCausalLM, "qwen2": tf.Qwen2ForCausalLM, "gpt2": tf.GPT2LMHeadModel}[arch]
    model = cls(config).to(torch.float32)
    model.config._attn_implementation = "eager"
    # Non-trivial norm weights and biases: HF initializes norms to 1 and biases to 0, which would
    # hide a missing or misplaced gain or bias in our engine.
    g = torch.Generator().manual_seed(SEEDS[arch] + 1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif p.dim() == 1:  # norm gains
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
    model.eval()
    return model


def make_batch(arch):
    g = torch.Generator().manual_seed(SEEDS[arch] + 2)
    input_ids = torch.randint(3, V, (B, T), generator=g)
    attention_mask = torch.ones(B, T, dtype=torch.long)
    input_ids[1, T - PAD_ROW1 :] = PAD_ID
    attention_mask[1, T - PAD_ROW1 :] = 0
    labels = input_ids.clone()
    labels[attention_mask == 0] = -100
    labels[:, :PROMPT_TOKENS] = -100
    return input_ids, attention_mask, labels


def forward(model, batch):
    input_ids, attention_mask, labels = batch
    out = model(input_ids=input_ids, attention_mask=attention_mask, labels=labels)
    return out.logits, out.loss


def lora_model(arch, base, rslora):
    import peft

    cfg = peft.LoraConfig(
        r=LORA_R,
        lora_alpha=LORA_ALPHA,
        lora_dropout=0.0,
        target_modules=LINEAR_TARGETS[arch],
        fan_in_fan_out=(arch == "gpt2"),
        use_rslora=rslora,
        bias="none",
        init_lora_weights=True,
    )
    torch.manual_seed(SEEDS[arch] + 3)  # lora_A: PEFT's Kaiming-uniform draw
    model = peft.get_peft_model(base, cfg)
    g = torch.Generator().manual_seed(SEEDS[arch] + 4)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.copy_(LORA_B_STD * torch.randn(p.shape, generator=g))
    model.eval()
    return model


def peft_name(name):
    """PEFT parameter name -> the name in a saved adapter (adapter_model.safetensors)."""
    return name.replace(".default.", ".")


def layer0(name, arch):
    return (".h.0." if arch == "gpt2" else ".layers.0.") in name


class Recorder:
    def __init__(self):
        self.tensors = {}
        self.described = {}

    def put(self, name, tensor, description):
        t = tensor.detach().contiguous()
        if t.dtype in (torch.int64, torch.int32):
            t = t.to(torch.int32)
        else:
            t = t.to(torch.float32)
        if t.dim() == 0:
            t = t.reshape(1)
        if name in self.tensors:
            raise ValueError("duplicate " + name)
        self.tensors[name] = t.clone()
        self.described[name] = {
            "dtype": "I32" if t.dtype == torch.int32 else "F32",
            "shape": list(t.shape),
            "description": description,
        }


def write_legacy_llama_config(model_dir):
    """transformers 5 writes rope_parameters; Hub checkpoints of Llama 3.x use rope_scaling + rope_theta."""
    path = model_dir / "config.json"
    cfg = json.loads(path.read_text())
    rope = cfg.pop("rope_parameters")
    cfg["rope_theta"] = rope.pop("rope_theta")
    cfg["rope_scaling"] = rope
    path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")


def make_arch(arch, out):
    import transformers as tf
    from safetensors.torch import save_file

    model = make_model(arch)
    batch = make_batch(arch)
    input_ids, attention_mask, labels = batch
    arch_dir = out / arch
    model_dir = arch_dir / "model"
    model_dir.mkdir(parents=True, exist_ok=True)
    for f in model_dir.iterdir():
        f.unlink()
    if arch == "qwen2":
        model.save_pretrained(model_dir, max_shard_size="150KB")
    else:
        model.save_pretrained(model_dir)
    if arch == "llama":
        write_legacy_llama_config(model_dir)

    rec = Recorder()
    rec.put("input_ids", input_ids, f"(B, T) token ids, right-padded with id {PAD_ID}")
    rec.put("attention_mask", attention_mask, "(B, T) 1 for real tokens, 0 for padding")
    rec.put(
        "labels",
        labels,
        f"(B, T) unshifted labels (HF shifts inside the loss); -100 at padding and the first "
        f"{PROMPT_TOKENS} tokens of each row",
    )

    # Base model: logits, loss, full gradients.
    model.zero_grad()
    logits, loss = forward(model, batch)
    loss.backward()
    rec.put(
        "logits",
        logits,
        "(B, T, V) base model logits with the attention mask; at padded positions they are what HF "
        "computes for a pad query (it attends to the real keys before it)",
    )
    rec.put("loss", loss, "(1,) mean cross-entropy over the label tokens after HF's shift")
    params = list(model.named_parameters())
    for name, p in params:
        rec.put(f"full.grad.{name}", p.grad, f"d loss / d {name} (full fine-tuning)")
    grads = [p.grad for _, p in params]
    norm = torch.nn.utils.get_total_norm(grads, norm_type=2.0)
    rec.put("full.grad_norm", norm, "global L2 norm of all full.grad.* tensors")

    # The reloaded folder must give the same logits (checks the legacy llama config too).
    reloaded = type(model).from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager")
    reloaded.eval()
    with torch.no_grad():
        again, _ = forward(reloaded, batch)
    if not torch.equal(again, logits.detach()):
        raise SystemExit(f"{arch}: the saved model does not reproduce the logits")
    del reloaded

    # Three AdamW steps of full fine-tuning from the same weights.
    adam_model = make_model(arch)
    opt = torch.optim.AdamW(adam_model.parameters(), **ADAMW)
    losses = []
    for _ in range(3):
        opt.zero_grad(set_to_none=True)
        _, step_loss = forward(adam_model, batch)
        step_loss.backward()
        losses.append(step_loss.item())
        opt.step()
    for name, p in adam_model.named_parameters():
        rec.put(f"adamw3.{name}", p, f"{name} after 3 AdamW steps")
    rec.put("adamw3.losses", torch.tensor(losses), "(3,) loss before each of the 3 AdamW steps")
    del adam_model, opt

    # PEFT LoRA.
    lora = lora_model(arch, make_model(arch), rslora=False)
    lora_init = {}
    for name, p in lora.named_parameters():
        if "lora_" in name:
            lora_init[name] = p.detach().clone()
            rec.put(f"lora.init.{peft_name(name)}", p, "initial adapter weight (lora_B random, not zero)")
    lora.zero_grad()
    lora_logits, lora_loss = forward(lora, batch)
    lora_loss.backward()
    rec.put("lora.logits", lora_logits, "(B, T, V) logits with the adapters of lora.init.*")
    rec.put("lora.loss", lora_loss, "(1,) loss with the adapters of lora.init.*")
    for name, p in lora.named_parameters():
        if "lora_" in name:
            rec.put(f"lora.grad.{peft_name(name)}", p.grad, "d lora.loss / d adapter weight")
        elif p.grad is not None:
            raise SystemExit(f"{arch}: frozen {name} got a gradient")
    del lora

    rs = lora_model(arch, make_model(arch), rslora=True)
    for name, p in rs.named_parameters():
        if "lora_" in name and not torch.equal(p, lora_init[name]):
            raise SystemExit(f"{arch}: rslora init differs from lora init at {name}")
    rs.zero_grad()
    _, rs_loss = forward(rs, batch)
    rs_loss.backward()
    rec.put("rslora.loss", rs_loss, "(1,) loss with lora.init.* adapters and use_rslora=True")
    for name, p in rs.named_parameters():
        if "lora_" in name and layer0(name, arch):
            rec.put(f"rslora.grad.{peft_name(name)}", p.grad, "d rslora.loss / d adapter weight (layer 0)")
    del rs

    save_file(rec.tensors, str(arch_dir / "reference.safetensors"), metadata={"format": "pt"})
    info = {
        "arch": arch,
        "generator": "scripts/reference/make_model_fixtures.py",
        "versions": versions(),
        "seed": SEEDS[arch],
        "model_dir": "model",
        "model_config": json.loads((model_dir / "config.json").read_text()),
        "model_files": sorted(f.name for f in model_dir.iterdir()),
        "attn_implementation": "eager",
        "settings": {
            "batch": B,
            "seq": T,
            "vocab": V,
            "pad_id": PAD_ID,
            "padding": f"right; row 1 has {PAD_ROW1} pad tokens",
            "prompt_tokens_masked": PROMPT_TOKENS,
            "ignore_index": -100,
            "init_std": INIT_STD,
            "norms_and_biases": "norm gains 1 + 0.1*N(0,1), every bias 0.1*N(0,1)",
            "loss": "HF ForCausalLM loss: logits[:, :-1] vs labels[:, 1:], mean over labels != -100",
            "lora": {
                "r": LORA_R,
                "lora_alpha": LORA_ALPHA,
                "lora_dropout": 0.0,
                "target_modules": LINEAR_TARGETS[arch],
                "fan_in_fan_out": arch == "gpt2",
                "scale": LORA_ALPHA / LORA_R,
                "rslora_scale": LORA_ALPHA / LORA_R**0.5,
                "lora_A_init": "PEFT default (kaiming uniform, a=sqrt(5))",
                "lora_B_init": f"{LORA_B_STD}*N(0,1) (PEFT would use zeros)",
                "names": "saved-adapter names (PEFT parameter names without '.default')",
            },
            "adamw": {**ADAMW, "betas": list(ADAMW["betas"]), "steps": 3, "param_groups": "one, all parameters"},
            "tied_embeddings": bool(getattr(model.config, "tie_word_embeddings", False)),
        },
        "tensors": rec.described,
    }
    (arch_dir / "reference.json").write_text(json.dumps(info, indent=2) + "\n")
    print(f"{arch}: loss {loss.item():.6f}, lora loss {lora_loss.item():.6f}, rslora {rs_loss.item():.6f}, "
          f"adamw losses {losses}, {len(rec.tensors)} tensors")


def make_layout_fixture(out):
    """A small mixed-dtype file written by `safetensors`, whose bytes our writer must reproduce."""
    from safetensors.torch import save_file

    d = out / "safetensors-layout"
    d.mkdir(parents=True, exist_ok=True)
    tensors = {
        "b.f32": torch.arange(6, dtype=torch.float32).reshape(2, 3) * 0.5,
        "a.bf16": (torch.arange(5, dtype=torch.float32) - 2).to(torch.bfloat16),
        "c.i32": torch.arange(3, dtype=torch.int32) * -7,
        "d.u8": torch.arange(7, dtype=torch.uint8) * 3,
        "e.f16": (torch.arange(3, dtype=torch.float32) * 0.25).to(torch.float16),
        "z.empty": torch.zeros(0, 4, dtype=torch.float32),
        "s.scalar": torch.tensor(1.5, dtype=torch.float32),
    }
    save_file(tensors, str(d / "python_written.safetensors"), metadata={"format": "pt"})
    (d / "layout.json").write_text(
        json.dumps(
            {
                "generator": "scripts/reference/make_model_fixtures.py",
                "versions": versions(),
                "layout": {
                    "b.f32": "F32 (2,3) = 0.5 * [0..5]",
                    "a.bf16": "BF16 (5,) = [-2..2]",
                    "c.i32": "I32 (3,) = -7 * [0..2]",
                    "d.u8": "U8 (7,) = 3 * [0..6]",
                    "e.f16": "F16 (3,) = 0.25 * [0..2]",
                    "z.empty": "F32 (0,4)",
                    "s.scalar": "F32 () = 1.5",
                },
                "metadata": {"format": "pt"},
            },
            indent=2,
        )
        + "\n"
    )


def versions():
    import peft
    import safetensors
    import transformers

    return {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "peft": peft.__version__,
        "safetensors": safetensors.__version__,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="entity-engine/src/test/resources/fixtures/hf")
    ap.add_argument("--arch", nargs="*", default=["llama", "qwen2", "gpt2"])
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for arch in args.arch:
        make_arch(arch, out)
    make_layout_fixture(out)
    total = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    digest = hashlib.sha256()
    for f in sorted(out.rglob("*")):
        if f.is_file():
            digest.update(f.read_bytes())
    print(f"wrote {total} bytes under {out}, sha256 of all files {digest.hexdigest()[:16]}")


if __name__ == "__main__":
    main()
