package dev.entity.engine.tokenizer;

/**
 * The two BPE flavours the engine reads: byte-level BPE over the GPT-2 byte alphabet (GPT-2, Llama
 * 3, Qwen2; GGUF {@code tokenizer.ggml.model = "gpt2"}) and SentencePiece-style BPE over characters
 * with {@code ▁} for spaces and {@code <0xNN>} byte fallback (Llama 2, Mistral, TinyLlama; GGUF
 * {@code "llama"}).
 */
public enum TokenizerKind {
  BYTE_LEVEL_BPE,
  SENTENCEPIECE_BPE
}
