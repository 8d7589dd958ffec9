// Loads GGUF files in real llama.cpp (node-llama-cpp's prebuilt CPU binaries, offline) and prints,
// as JSON on stdout, how llama.cpp tokenizes the given strings and its logits at every position of
// the given token sequences. Used by the entity-training interop test; prints nothing else on
// stdout. One process serves many jobs, so llama.cpp is loaded once.
//
// usage: node eval-gguf.mjs request.json
// request: {"jobs": [{"model": "path.gguf", "lora": "adapter.gguf" (optional), "texts": ["..."],
//           "sequences": [[token ids]], "specialTokens": true}]}
// answer:  {"answers": [{"tokens": [[ids per text]], "logits": [[[vocab floats] per position]
//           per sequence]}]}
import {readFileSync} from "node:fs";
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const request = JSON.parse(readFileSync(process.argv[2], "utf8"));
const llama = await getLlama({gpu: false, build: "never", skipDownload: true, logLevel: LlamaLogLevel.error});
const answers = [];
for (const job of request.jobs) {
  const model = await llama.loadModel({modelPath: job.model, gpuLayers: 0});
  const tokens = (job.texts ?? []).map((t) => Array.from(model.tokenize(t, job.specialTokens ?? false)));
  const logits = [];
  for (const sequence of job.sequences ?? []) {
    const context = await model.createContext({
      contextSize: Math.max(32, sequence.length + 1),
      batchSize: Math.max(32, sequence.length + 1),
      sequences: 1,
      threads: 1,
      flashAttention: false,
      experimentalKvCacheKeyType: "F32",
      experimentalKvCacheValueType: "F32",
      ...(job.lora ? {lora: {adapters: [{filePath: job.lora, scale: 1}]}} : {}),
    });
    const out = await context.getSequence()
      .controlledEvaluate(sequence.map((t) => [t, {generateNext: {logits: true}}]));
    logits.push(out.map((o) => {
      const row = [];
      for (const [token, value] of o.next.logits) row[token] = value;
      return row;
    }));
    await context.dispose();
  }
  answers.push({tokens, logits});
  await model.dispose();
}
process.stdout.write(JSON.stringify({answers}));
await llama.dispose();
