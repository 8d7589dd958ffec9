package dev.entity.engine.model;

/** Llama, Mistral, TinyLlama, SmolLM and Qwen2: RMSNorm, RoPE, SwiGLU, grouped-query attention. */
public record LlamaFamily() implements Family {

  @Override
  public String tokenEmbedding() {
    return "model.embed_tokens.weight";
  }

  @Override
  public String positionEmbedding() {
    return null;
  }

  @Override
  public String layerPrefix(int layer) {
    return "model.layers." + layer + ".";
  }

  @Override
  public String attentionNorm() {
    return "input_layernorm";
  }

  @Override
  public String mlpNorm() {
    return "post_attention_layernorm";
  }

  @Override
  public String finalNorm() {
    return "model.norm";
  }

  @Override
  public boolean layerNorm() {
    return false;
  }

  @Override
  public boolean rotary() {
    return true;
  }

  @Override
  public boolean swiglu() {
    return true;
  }

  @Override
  public boolean linearsTransposedInFiles() {
    return false;
  }

  @Override
  public String basePrefix() {
    return "model.";
  }

  @Override
  public boolean isBuffer(String fileName) {
    return fileName.endsWith(".rotary_emb.inv_freq");
  }
}
