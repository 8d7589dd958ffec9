package dev.entity.training.cli;

import dev.entity.core.EntityException;
import dev.entity.engine.EngineException;
import dev.entity.engine.backend.Backend;
import dev.entity.engine.generate.ChatModel;
import dev.entity.engine.tensor.DType;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The options of the commands that run a model ({@code generate}, {@code chat}, {@code benchmark
 * infer}): the model folder or GGUF file, an optional LoRA adapter, the device, threads and weight
 * dtype.
 */
final class InferenceModelOptions {

  @Option(
      names = "--model",
      paramLabel = "DIR|FILE.gguf",
      required = true,
      description =
          "Hugging Face model folder (config.json, safetensors, tokenizer files) or a GGUF model"
              + " file (F32, F16, BF16, Q8_0, Q4_0, Q5_1; dequantized on load).")
  Path model;

  @Option(
      names = "--adapter",
      paramLabel = "DIR",
      description = "PEFT LoRA adapter folder to apply on top of the model.")
  Path adapter;

  @Option(
      names = "--device",
      paramLabel = "auto|cpu|cuda",
      defaultValue = "cpu",
      description = "Backend to run on (default: ${DEFAULT-VALUE}).")
  String device;

  @Option(
      names = "--threads",
      paramLabel = "N",
      defaultValue = "0",
      description = "Worker threads (default: 0 = every core).")
  int threads;

  @Option(
      names = "--bf16",
      description = "Keep the weights in BF16 (half the memory; F32 otherwise).")
  boolean bf16;

  /** The chosen backend; the caller closes it. */
  Backend backend() {
    return openBackend(device, threads);
  }

  /** The model (and adapter) on {@code backend}. */
  ChatModel open(Backend backend) {
    return ChatModel.open(backend, model, adapter, bf16 ? DType.BF16 : DType.F32);
  }

  /** The backend called {@code name} ("cpu", "cuda"), as a user error when there is none. */
  static Backend openBackend(String name, int threads) {
    try {
      return ChatModel.openBackend(name, threads);
    } catch (EngineException e) {
      throw new EntityException("--device " + e.getMessage(), e);
    }
  }
}
