// Measures llama.cpp's prefill and decode speed on a GGUF (node-llama-cpp's prebuilt CPU binaries,
// offline), the same way `entity-train benchmark infer` measures ours: a prompt of fixed token ids,
// then greedy generation of a fixed number of tokens, medians over runs after one warm-up.
//
// usage: node bench-decode.mjs model.gguf [promptLen=128] [gen=64] [threads=0: all] [runs=3]
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const [modelPath, promptLen = "128", gen = "64", threads = "0", runs = "3"] = process.argv.slice(2);
if (!modelPath) {
  console.error("usage: node bench-decode.mjs model.gguf [promptLen] [gen] [threads] [runs]");
  process.exit(2);
}
const p = Number(promptLen), g = Number(gen), r = Number(runs);
const llama = await getLlama({gpu: false, build: "never", skipDownload: true, logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath, gpuLayers: 0});
// ids valid in any vocabulary of 256 or more, away from the usual special ids at the start
const prompt = Array.from({length: p}, (_, i) => 3 + ((i * 7919 + 13) % 250));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const prefill = [], decode = [], first = [];
for (let run = -1; run < r; run++) {
  const context = await model.createContext({
    contextSize: p + g + 8, batchSize: p, sequences: 1, flashAttention: false,
    ...(Number(threads) > 0 ? {threads: Number(threads)} : {}),
  });
  const sequence = context.getSequence();
  const start = performance.now();
  let firstAt = 0, count = 0;
  for await (const token of sequence.evaluate(prompt, {temperature: 0})) {
    count++;
    if (count === 1) firstAt = performance.now();
    if (count >= g) break;
  }
  const end = performance.now();
  if (run >= 0) {
    first.push(firstAt - start);
    prefill.push(p / ((firstAt - start) / 1000));
    decode.push((count - 1) / ((end - firstAt) / 1000));
  }
  await context.dispose();
}
console.log(`llama.cpp: prompt ${p} tokens, ${g} generated, median of ${r} runs`);
console.log(`prefill: ${median(prefill).toFixed(1)} tokens/s (first token after ${median(first).toFixed(1)} ms)`);
console.log(`decode: ${median(decode).toFixed(2)} tokens/s`);
await model.dispose();
await llama.dispose();
