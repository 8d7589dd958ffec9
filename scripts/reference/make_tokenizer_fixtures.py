#!/usr/bin/env python3
"""Reference fixtures for the Java tokenizer (dev.entity.engine.tokenizer).

Trains small tokenizers of each supported kind with the real Hugging Face `tokenizers` library,
saves them as tokenizer.json + tokenizer_config.json, and records, for a corpus of tricky strings,
what `tokenizers` produces: ids with and without special tokens, ids with special tokens treated as
text, offsets (converted to UTF-16 units, Java String indexes) and decoded text.

Run:  /work/venv/bin/python scripts/reference/make_tokenizer_fixtures.py
Out:  entity-engine/src/test/resources/fixtures/tokenizers/<kind>/{tokenizer.json,
      tokenizer_config.json,cases.json}

Expected values are computed by re-loading each saved tokenizer.json from disk, so the fixtures
check exactly what the committed files mean. Training is deterministic (single corpus, fixed order).
"""
import json
import os
import sys

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers
from tokenizers import pre_tokenizers, processors, trainers

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "entity-engine", "src", "test",
                   "resources", "fixtures", "tokenizers")

LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
                  r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"
                 r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

CORPUS = [
    "The quick brown fox jumps over the lazy dog. The dog doesn't care; it's sleeping.",
    "Hello, world! Hello again, World. HELLO WORLD!!!",
    "I'm here, you're there, we've been everywhere, they'll come, he'd go, she's gone.",
    "Fine-tuning large language models needs data, patience and a good tokenizer.",
    "def train(model, data, epochs=3):\n    for epoch in range(epochs):\n        loss = model.step(data)\n        print(f\"epoch {epoch}: loss={loss:.4f}\")\n",
    "public static void main(String[] args) {\n\tSystem.out.println(\"Hello\");\n}\n",
    "if (x != null && x.size() > 0) { return x.get(0); } else { return -1; }",
    "SELECT name, count(*) FROM users WHERE age >= 21 GROUP BY name ORDER BY 2 DESC;",
    "Numbers: 0 1 2 3 4 5 6 7 8 9 10 42 100 256 1024 2048 65536 3.14159 2026-11-25 12:48:53",
    "The year 1999 was followed by 2000, then 2001; prices rose 12.5% to $1,234.56.",
    "今天天气很好。我们去公园散步吧。机器学习和自然语言处理很有趣。",
    "日本語のテキストも少し含めます。東京は大きな都市です。",
    "한국어 문장도 있습니다. 안녕하세요!",
    "Emoji time: 😀 😃 😄 👍 🎉 ❤️ 🚀 and a family 👨‍👩‍👧‍👦 plus flags 🇫🇷 🇯🇵.",
    "Café, naïve, résumé, façade, coöperate, Ångström, Zürich, São Paulo, Kraków.",
    "Ελληνικά κείμενα και русский текст тоже здесь.",
    "Tabs\tand\tnewlines\nare\n\nwhitespace   too, as are     runs of spaces.",
    "user: What is the capital of France?\nassistant: The capital of France is Paris.",
    "user: Write a haiku about autumn.\nassistant: Crisp leaves drift and fall, / golden light on quiet paths, / the year breathes slowly.",
    "Q: How many legs does a spider have? A: Eight. Q: And an ant? A: Six.",
    "# Markdown heading\n\n- item one\n- item two\n\n```python\nprint('hi')\n```\n",
    "<html><body><p class=\"note\">Hello &amp; welcome</p></body></html>",
    "JSON: {\"name\": \"Ada\", \"age\": 36, \"tags\": [\"math\", \"code\"], \"ok\": true}",
    "URLs like https://example.com/path?query=1&lang=en and emails like a.b@example.org.",
    "She said: \"Don't stop!\" -- and he replied, 'I won't.'",
]


def corpus():
    # fixed repetition counts give merges a clear frequency order
    for i, line in enumerate(CORPUS):
        for _ in range(1 + (i % 4)):
            yield line


LONG = " ".join(CORPUS) * 2

CASES = [
    "",
    " ",
    "  ",
    "Hello world",
    " Hello world",
    "Hello world ",
    "   leading and trailing   ",
    "Hello\nworld",
    "line one\n\nline three\n",
    "\n\n\n",
    "tabs\there\t\tand\t",
    "a  b   c    d",
    "mixed \t \n whitespace \r\n end",
    "I'M HERE, YOU'RE THERE, IT'S FINE, WE'LL SEE, THEY'D GO, I'VE DONE",
    "it's don't we'll they'd I'm you've",
    "'s 't 're",
    "0123456789",
    "1234567890123 and 42 and 7",
    "3.14159 2026-11-25",
    "😀",
    "😀😃😄",
    "👨‍👩‍👧‍👦 family",
    "❤️ heart 🇫🇷 flag",
    "今天天气很好",
    "東京は大きな都市です",
    "안녕하세요",
    "e\u0301 combining, cafe\u0301, n\u0303",
    "Café naïve",
    "Ελληνικά русский",
    "nbsp\u00a0here, ideographic\u3000space, em\u2003space",
    "unseen: ʕ•ᴥ•ʔ ∑∫√ ☃ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "zero\u200bwidth and soft\u00adhyphen",
    "crlf\r\nline\rcr\u2028ls\u0085nel\x1cfs",
    "Arabic-Indic \u0661\u0662\u0663\u0664, roman \u216b\u2166, fraction \u00bd\u00b2",
    "kelvin '\u212a and long s '\u017f, caps 'S 'T 'RE 'LL 'D 'M 'VE",
    "tail spaces before newline   \n   next",
    "x  \n\n  y \t\n z",
    "!!! ??? ... --- ***",
    "a\u0300\u0301\u0302 stacked marks, Hangul \u1100\u1161\u11a8 jamo",
    "\U0001F3F3\uFE0F\u200D\U0001F308 rainbow flag, \U0001F44B\U0001F3FD wave",
    "def f(x):\n    return x * 2\n",
    "{\"key\": [1, 2, 3]}",
    "<html><p>hi</p></html>",
    "C++ and C# and F#",
    LONG,
]


def special_cases(specials):
    a, b = specials[0], specials[-1]
    return [
        f"{a}Hello",
        f"Hello{b}",
        f"{a} Hello {b} world",
        f"x{a}{b}y",
        f"{a}\n{b}\n",
        f"text {a}",
        f"<|not_a_token|> and {a[:-1]}",
    ]


def utf16_offsets(text, offsets):
    # Python offsets are code point indexes; Java uses UTF-16 units
    prefix = [0]
    for ch in text:
        prefix.append(prefix[-1] + (2 if ord(ch) > 0xFFFF else 1))
    return [prefix[s] for s, _ in offsets], [prefix[e] for _, e in offsets]


def record(kind, tok_dir, extra_cases):
    tok = Tokenizer.from_file(os.path.join(tok_dir, "tokenizer.json"))
    cases = []
    for text in CASES + extra_cases:
        enc = tok.encode(text, add_special_tokens=False)
        enc_special = tok.encode(text, add_special_tokens=True)
        tok.encode_special_tokens = True
        as_text = tok.encode(text, add_special_tokens=False).ids
        tok.encode_special_tokens = False
        starts, ends = utf16_offsets(text, enc.offsets)
        cases.append({
            "text": text,
            "ids": enc.ids,
            "starts": starts,
            "ends": ends,
            "ids_with_special": enc_special.ids,
            "ids_special_as_text": as_text,
            "decoded": tok.decode(enc_special.ids, skip_special_tokens=False),
            "decoded_skip_special": tok.decode(enc_special.ids, skip_special_tokens=True),
        })
    with open(os.path.join(tok_dir, "cases.json"), "w", encoding="utf-8") as f:
        json.dump({"kind": kind, "vocab_size": tok.get_vocab_size(with_added_tokens=True),
                   "cases": cases}, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


def save(kind, tok, config, edit=None):
    d = os.path.join(OUT, kind)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "tokenizer.json")
    tok.save(path)
    if edit is not None:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        edit(data)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1)
    with open(os.path.join(d, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, ensure_ascii=False, indent=2)
    return d


def byte_level(kind, pre, specials, post, vocab_size, config, normalizer=None, bpe_args=None,
               added=()):
    tok = Tokenizer(models.BPE(**(bpe_args or {})))
    if normalizer is not None:
        tok.normalizer = normalizer
    tok.pre_tokenizer = pre
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(corpus(), trainer=trainer)
    if added:
        tok.add_tokens(list(added))
    tok.post_processor = post(tok)
    return save(kind, tok, config)


def sentencepiece(kind, specials, vocab_size, config, setup, edit=None):
    byte_tokens = [f"<0x{b:02X}>" for b in range(256)]
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    # train on ▁-prefixed words (as SentencePiece does), then install the runtime pipeline
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="never", split=True)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials + byte_tokens,
                                  show_progress=False)
    tok.train_from_iterator(corpus(), trainer=trainer)
    tok.normalizer = None
    tok.pre_tokenizer = None
    setup(tok)
    bos = tok.token_to_id("<s>")
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", bos)])

    def drop_byte_tokens(data):
        # Llama keeps <0xNN> as plain vocabulary entries, not added tokens
        data["added_tokens"] = [t for t in data["added_tokens"] if t["content"] not in byte_tokens]
        if edit is not None:
            edit(data)

    return save(kind, tok, config, drop_byte_tokens)


def main():
    # GPT-2: ByteLevel pre-tokenizer with its built-in regex; trim_offsets on (the library default)
    d = byte_level(
        "gpt2", pre_tokenizers.ByteLevel(add_prefix_space=False),
        ["<|endoftext|>"],
        lambda t: processors.ByteLevel(trim_offsets=True, add_prefix_space=False),
        600,
        {"tokenizer_class": "GPT2Tokenizer", "bos_token": "<|endoftext|>",
         "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>", "model_max_length": 1024},
        added=[AddedToken("<|im_start|>", special=True, normalized=False),
               AddedToken("<|im_end|>", special=True, normalized=False),
               AddedToken("<mask>", special=True, lstrip=True, normalized=False)])
    record("gpt2", d, special_cases(["<|im_start|>", "<|im_end|>"]) +
           ["Fill  <mask> here", "a<mask>b", "<mask>  <mask>"])

    # RoBERTa-like: ByteLevel with add_prefix_space (per pre-token split), trimmed offsets
    d = byte_level(
        "gpt2prefix", pre_tokenizers.ByteLevel(add_prefix_space=True),
        ["<|endoftext|>"],
        lambda t: processors.ByteLevel(trim_offsets=True, add_prefix_space=True),
        500,
        {"tokenizer_class": "GPT2Tokenizer", "bos_token": "<|endoftext|>",
         "eos_token": "<|endoftext|>"},
        added=[AddedToken("<|im_start|>", special=True, normalized=False),
               AddedToken("<|im_end|>", special=True, normalized=False, rstrip=True)])
    record("gpt2prefix", d, special_cases(["<|im_start|>", "<|im_end|>"]) +
           ["<|im_end|>   after", "a <|im_end|>\n b"])

    # Llama 3: Split(regex) + ByteLevel(no regex), ignore_merges, BOS by TemplateProcessing
    llama3_specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
                       "<|end_header_id|>", "<|eot_id|>"]
    d = byte_level(
        "llama3",
        pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False)]),
        llama3_specials,
        lambda t: processors.Sequence([
            processors.ByteLevel(trim_offsets=False),
            processors.TemplateProcessing(
                single="<|begin_of_text|> $A",
                special_tokens=[("<|begin_of_text|>", t.token_to_id("<|begin_of_text|>"))])]),
        700,
        {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<|begin_of_text|>",
         "eos_token": "<|eot_id|>", "model_max_length": 131072},
        bpe_args={"ignore_merges": True})
    record("llama3", d, special_cases(["<|begin_of_text|>", "<|eot_id|>"]) +
           ["<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>"])

    # Qwen2: NFC + Split(regex) + ByteLevel, a normalized non-special single-word added token
    d = byte_level(
        "qwen2",
        pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]),
        ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        lambda t: processors.ByteLevel(trim_offsets=False),
        650,
        {"tokenizer_class": "Qwen2Tokenizer", "bos_token": None, "eos_token": "<|im_end|>",
         "pad_token": "<|endoftext|>", "add_prefix_space": False, "model_max_length": 32768},
        normalizer=normalizers.NFC(),
        added=[AddedToken("[CUSTOM]", single_word=True, normalized=True, special=False)])
    record("qwen2", d, special_cases(["<|im_start|>", "<|im_end|>"]) +
           ["<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
            "a [CUSTOM] b", "a[CUSTOM]b", "[CUSTOM]", "cafe\u0301 [CUSTOM]"])

    sp_specials = ["<unk>", "<s>", "</s>"]
    sp_config = {"tokenizer_class": "LlamaTokenizer", "bos_token": "<s>", "eos_token": "</s>",
                 "unk_token": "<unk>", "add_bos_token": True, "add_eos_token": False,
                 "legacy": True, "model_max_length": 2048}
    sp_cases = special_cases(["<s>", "</s>"]) + ["[INST] Hi [/INST] Hello</s>"]

    # Llama 2 / TinyLlama: Prepend + Replace normalizer, no pre-tokenizer, Strip decoder
    def llama2(tok):
        tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"),
                                               normalizers.Replace(" ", "▁")])
        tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(),
                                         decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    d = sentencepiece("llama2", sp_specials, 900, sp_config, llama2)
    record("llama2", d, sp_cases)

    # Mistral (newer conversions): Metaspace(prepend_scheme=first, split=false), no normalizer
    def mistral(tok):
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first",
                                                     split=False)
        tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(),
                                         decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    d = sentencepiece("mistral", sp_specials, 900, dict(sp_config, legacy=False), mistral)
    record("mistral", d, sp_cases)

    # legacy Metaspace (tokenizers < 0.14 files): add_prefix_space, split on ▁, Metaspace decoder
    def legacy(tok):
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always",
                                                     split=True)
        tok.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Metaspace(
            replacement="▁", prepend_scheme="always", split=True)])

    def legacy_json(data):
        for node in (data["pre_tokenizer"], data["decoder"]["decoders"][1]):
            node.pop("prepend_scheme", None)
            node.pop("split", None)
            node["add_prefix_space"] = True
        data["model"]["merges"] = [" ".join(m) if isinstance(m, list) else m
                                   for m in data["model"]["merges"]]
    d = sentencepiece("metaspace", sp_specials, 900, sp_config, legacy, legacy_json)
    record("metaspace", d, sp_cases)

    total = 0
    for root, _, files in os.walk(OUT):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    print(f"fixtures written to {os.path.normpath(OUT)}: {total / 1e6:.2f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
