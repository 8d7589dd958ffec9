package dev.entity.engine.model;

/**
 * GPT-2: LayerNorm with bias, learned positions, GELU (tanh), and Conv1D linears whose weights
 * files hold as (C, OC) — fused {@code c_attn} included.
 */
public record Gpt2Family() implements Family {

  @Override
  public String tokenEmbedding() {
    return "transformer.wte.weight";
  }

  @Override
  public String positionEmbedding() {
    return "transformer.wpe.weight";
  }

  @Override
  public String layerPrefix(int layer) {
    return "transformer.h." + layer + ".";
  }

  @Override
  public String attentionNorm() {
    return "ln_1";
  }

  @Override
  public String mlpNorm() {
    return "ln_2";
  }

  @Override
  public String finalNorm() {
    return "transformer.ln_f";
  }

  @Override
  public boolean layerNorm() {
    return true;
  }

  @Override
  public boolean rotary() {
    return false;
  }

  @Override
  public boolean swiglu() {
    return false;
  }

  @Override
  public boolean linearsTransposedInFiles() {
    return true;
  }

  @Override
  public String basePrefix() {
    return "transformer.";
  }

  @Override
  public boolean isBuffer(String fileName) {
    return fileName.endsWith(".attn.bias") || fileName.endsWith(".attn.masked_bias");
  }
}
