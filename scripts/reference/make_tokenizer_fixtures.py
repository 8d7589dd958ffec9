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


# ---------------------------------------------------------------------------------------------
# Chat templates: rendered by transformers' apply_chat_template (Jinja2, trim_blocks,
# lstrip_blocks, HF globals) and tokenized with tokenize=True, for the Java ChatTemplate tests.

TEMPLATES = {
    "llama3": ("llama3", "<|begin_of_text|>", "<|eot_id|>",
               "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
               "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] "
               "| trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}"
               "{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}"
               "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"),
    "qwen2": ("qwen2", None, "<|im_end|>",
              "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
              "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
              "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
              "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"),
    "mistral": ("llama2", "<s>", "</s>",
                "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != "
                "(loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate "
                "user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}"
                "{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
                "{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant "
                "roles are supported!') }}{% endif %}{% endfor %}"),
    "zephyr": ("llama2", "<s>", "</s>",
               "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + "
               "message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' "
               "+ message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n"
               "{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n"
               "{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}"),
    "gemma": ("llama2", "<s>", "</s>",
              "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not "
              "supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != "
              "(loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate "
              "user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}"
              "{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}"
              "{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}"
              "{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}"),
    # Qwen3-style: namespace, reversed slice, str methods, `in`, split()[-1], thinking blocks
    "qwen3like": ("qwen2", None, "<|im_end|>", """{%- if messages[0].role == 'system' %}
    {{- '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' }}
{%- endif %}
{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}
{%- for message in messages[::-1] %}
    {%- set index = (messages|length - 1) - loop.index0 %}
    {%- if ns.multi_step_tool and message.role == "user" and not(message.content.startswith('<tool_response>') and message.content.endswith('</tool_response>')) %}
        {%- set ns.multi_step_tool = false %}
        {%- set ns.last_query_index = index %}
    {%- endif %}
{%- endfor %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) %}
        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
    {%- elif message.role == "assistant" %}
        {%- set content = message.content %}
        {%- set reasoning_content = '' %}
        {%- if '</think>' in content %}
            {%- set reasoning_content = content.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') %}
            {%- set content = content.split('</think>')[-1].lstrip('\\n') %}
        {%- endif %}
        {%- if loop.index0 > ns.last_query_index %}
            {%- if loop.last or (not loop.last and reasoning_content) %}
                {{- '<|im_start|>' + message.role + '\\n<think>\\n' + reasoning_content.strip('\\n') + '\\n</think>\\n\\n' + content.lstrip('\\n') }}
            {%- else %}
                {{- '<|im_start|>' + message.role + '\\n' + content }}
            {%- endif %}
        {%- else %}
            {{- '<|im_start|>' + message.role + '\\n' + content }}
        {%- endif %}
        {{- '<|im_end|>\\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
    {%- if enable_thinking is defined and enable_thinking is false %}
        {{- '<think>\\n\\n</think>\\n\\n' }}
    {%- endif %}
{%- endif %}
"""),
    # Llama-3.1-style block layout: indented tags with lstrip_blocks, set blocks, tojson, defined
    "blocks": ("llama3", "<|begin_of_text|>", "<|eot_id|>", """{{- bos_token }}
{%- if not date_string is defined %}
    {%- set date_string = "26 Jul 2024" %}
{%- endif %}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}
{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}
{{- "Cutting Knowledge Date: December 2023\\n" }}
{{- "Today Date: " + date_string + "\\n\\n" }}
{{- system_message }}
{{- "<|eot_id|>" }}
{%- for message in messages %}
    {%- if message.role == 'user' and loop.first %}
        {{- '<|start_header_id|>user<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}
    {%- else %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
{%- endif %}
  {% if messages | length > 100 %}
    {{ messages[0] | tojson }}
  {% endif %}
"""),
}

CONVERSATIONS = [
    ([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 2+2?"},
      {"role": "assistant", "content": "4."}, {"role": "user", "content": "And 3+3?"},
      {"role": "assistant", "content": "6, of course."}], False),
    ([{"role": "user", "content": "  Hi there!\n"}], True),
    ([{"role": "user", "content": "Écris un haïku 🌸"},
      {"role": "assistant", "content": "<think>\nshort\n</think>\n\nSakura tombe,\n  le vent\tsouffle."}],
     False),
    ([{"role": "user", "content": "x"}, {"role": "assistant", "content": ""},
      {"role": "user", "content": "y <|im_end|> z"}], True),
]


def chat_template_fixtures():
    from transformers import PreTrainedTokenizerFast

    here = os.path.dirname(__file__)
    builtin_dir = os.path.join(here, "..", "..", "entity-engine", "src", "main", "resources", "templates")
    templates = dict(TEMPLATES)
    for name, kind in [("alpaca", "llama2"), ("chatml", "qwen2"), ("llama3", "llama3"),
                       ("mistral", "llama2")]:
        with open(os.path.join(builtin_dir, name + ".jinja"), encoding="utf-8") as f:
            bos, eos = {"llama2": ("<s>", "</s>"), "qwen2": (None, "<|im_end|>"),
                        "llama3": ("<|begin_of_text|>", "<|eot_id|>")}[kind]
            templates["builtin-" + name] = (kind, bos, eos, f.read())
    out = []
    for name, (kind, bos, eos, src) in templates.items():
        tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(OUT, kind, "tokenizer.json"),
                                      bos_token=bos, eos_token=eos)
        renders = []
        for messages, gen in CONVERSATIONS:
            try:
                text = tok.apply_chat_template(messages, chat_template=src, tokenize=False,
                                               add_generation_prompt=gen)
                ids = tok.apply_chat_template(messages, chat_template=src, tokenize=True,
                                              add_generation_prompt=gen, return_dict=False)
                if isinstance(ids, dict):
                    ids = ids["input_ids"]
                renders.append({"messages": messages, "add_generation_prompt": gen,
                                "rendered": text, "ids": list(ids)})
            except Exception as e:  # raise_exception in the template
                renders.append({"messages": messages, "add_generation_prompt": gen,
                                "error": str(e)})
        out.append({"name": name, "tokenizer": kind, "bos_token": bos, "eos_token": eos,
                    "template": src, "renders": renders})
    with open(os.path.join(OUT, "chat_templates.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")


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

    chat_template_fixtures()

    total = 0
    for root, _, files in os.walk(OUT):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    print(f"fixtures written to {os.path.normpath(OUT)}: {total / 1e6:.2f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
