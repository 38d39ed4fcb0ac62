// assistant_bench_runs.mjs: the measured runs of tools/bench/assistant_bench.mjs
// (Node) and tools/bench/assistant_bench_browser.mjs (headless Chromium), with
// no file or process access, so the same code runs in both places.
export const Q1 = 'What is shown in this image?';
export const Q2 = 'How many polyps are visible?';
export const gaps = (times) => times.slice(1).map((t, i) => t - times[i]);
// Tokens per second of CPU time (or of wall time) between the first streamed token and the last: with
// drafts several tokens arrive from one decoder pass, so gaps between tokens say nothing; the whole answer does.
export const rateOver = (clock) => (clock.length - 1) / ((clock.at(-1) - clock[0]) / 1000);
// cpu: an optional clock of this process' CPU time in ms (Node: process.cpuUsage()); with one
// onnxruntime thread per session it measures the work itself, whatever else the machine runs.
const noCpu = () => NaN;

// Our runtime: rt an AssistantRuntime; labelSet from core.labelSetForClassification.
// imageBytes null: text-only (no image in the prompt).
// repetitionPenalty: the same for both engines (> 1 keeps a random model from repeating itself).
export async function runOurs({ rt, imageBytes, labelSet, repeat, tokens, cpu = noCpu, repetitionPenalty = 1 }) {
  const bytes = imageBytes;
  const args = { repeat, tokens };
  const runs = [];
  for (let r = 0; r < args.repeat; r++) {
    rt.imageFeatures.clear();  // every repeat encodes the image again (a new image)
    const conv = rt.newConversation();
    const encodes0 = rt.stats.imageEncodes;
    let t0 = performance.now(), first = null;
    const times = [], cpus = [], c0 = cpu();
    const img = bytes ? { key: `img${r}`, bytes } : null;
    const generation = { max_new_tokens: args.tokens, repetition_penalty: repetitionPenalty };
    const r1 = await rt.ask(conv, Q1, { image: img, generation,
      onToken: () => { const t = performance.now(); if (first === null) first = t; times.push(t); cpus.push(cpu()); } }).promise;
    const end1 = performance.now();
    const ttft1 = first - t0, ttft1Cpu = cpus[0] - c0;
    const decodeRate = (r1.ids.length - 1) / ((end1 - first) / 1000);
    t0 = performance.now(); first = null;
    const r2 = await rt.ask(conv, Q2, { image: img, generation,
      onToken: () => { if (first === null) first = performance.now(); } }).promise;
    const ttft2 = first - t0;
    const c = await rt.classify(labelSet, { image: img }).promise;
    runs.push({ ttft1, ttft1Cpu, decodeRate, decodeGaps: gaps(times), decodeCpuGaps: gaps(cpus), decodeCpuRate: rateOver(cpus),
      ttft2, classifyMs: c.totalMs, tokens1: r1.ids.length, prefill2: r2.prefilled, drafting: r1.drafting,
      imageEncodes: rt.stats.imageEncodes - encodes0, labels: c.labels.length, decoder: rt.decoderGraph, ep: rt.ep });
    conv.free();
  }
  return runs;
}

// transformers.js: tjs the module (env already set); model a path or id it can load; image a RawImage (null: text only).
// Its best configuration: generate() with its KV cache, greedy, same dtype and execution provider as ours,
// warmed up (the first run of each child is not counted).
export async function runTjs({ tjs, model: modelPath, device, dtype, image, labelsJson, repeat, tokens, tjsLabels = 23,
  sessionOptions = undefined, cpu = noCpu, repetitionPenalty = 1 }) {
  const { AutoProcessor, Gemma3ForConditionalGeneration, Tensor } = tjs;
  const args = { repeat, tokens, tjsLabels };
  const tLoad = performance.now();
  const processorRaw = await AutoProcessor.from_pretrained(modelPath);
  const model = await Gemma3ForConditionalGeneration.from_pretrained(modelPath, { dtype, device,
    ...(sessionOptions ? { session_options: sessionOptions } : {}) });
  const loadMs = performance.now() - tLoad;
  // Count what a follow-up re-does: vision encoder runs, decoder prefill rows.
  const stats = { vision: 0, prefillTokens: [] };
  const wrap = (name, fn) => {
    const s = model.sessions[name];
    const run = s.run.bind(s);
    s.run = (feeds, ...rest) => { fn(feeds); return run(feeds, ...rest); };
  };
  wrap('vision_encoder', () => stats.vision++);
  wrap('decoder_model_merged', (f) => { const n = f.inputs_embeds?.dims?.[1] ?? 0; if (n > 1) stats.prefillTokens.push(n); });
  const tok = processorRaw.tokenizer;
  const streamer = () => {
    const s = { times: [], cpus: [], put() { s.times.push(performance.now()); s.cpus.push(cpu()); }, end() {} };
    return s;
  };
  const ids = (a) => new Tensor('int64', BigInt64Array.from(a.map(BigInt)), [1, a.length]);
  // A synthetic full-width checkpoint keeps the tiny oracle's tokenizer, whose
  // image soft token id differs from config.image_token_index: map it.
  const imageTokenId = model.config.image_token_index ?? model.config.image_token_id;
  const softIds = Array.from(tok('<image_soft_token>', { add_special_tokens: false }).input_ids.data, Number);
  const softId = softIds.length === 1 ? softIds[0] : undefined;
  const processor = async (text, img, opts) => {
    const inp = img ? await processorRaw(text, img, opts) : tok(text, opts);
    if (softId !== undefined && softId !== imageTokenId) {
      const d = inp.input_ids.data;
      for (let i = 0; i < d.length; i++) if (Number(d[i]) === softId) d[i] = BigInt(imageTokenId);
    }
    return inp;
  };
  const boi = image ? '<start_of_image>' : '';
  const ones = (n) => new Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]);
  const labels = JSON.parse(labelsJson);
  const runs = [];
  for (let r = 0; r < args.repeat; r++) {
    stats.vision = 0; stats.prefillTokens = [];
    const text1 = processorRaw.apply_chat_template([{ role: 'user', content: `${boi}${Q1}` }], { add_generation_prompt: true });
    let t0 = performance.now();
    const c0 = cpu();
    const inp = await processor(text1, image, { add_special_tokens: false });
    let st = streamer();
    const out1 = await model.generate({ ...inp, max_new_tokens: args.tokens, do_sample: false, repetition_penalty: repetitionPenalty, streamer: st });
    const end1 = performance.now();
    const ttft1 = st.times[1] - t0, ttft1Cpu = st.cpus[1] - c0;
    const n1 = out1.dims[1] - inp.input_ids.dims[1];
    const decodeRate = (n1 - 1) / ((end1 - st.times[1]) / 1000);
    const decodeGaps = gaps(st.times.slice(1)), decodeCpuGaps = gaps(st.cpus.slice(1));
    const answer = tok.decode(Array.from(out1.data, Number).slice(inp.input_ids.dims[1]), { skip_special_tokens: true });
    // The follow-up: the whole conversation again (transformers.js keeps no KV cache between generate() calls).
    const text2 = processorRaw.apply_chat_template([
      { role: 'user', content: `${boi}${Q1}` }, { role: 'assistant', content: answer },
      { role: 'user', content: Q2 }], { add_generation_prompt: true });
    const vision0 = stats.vision, prefills0 = stats.prefillTokens.length;
    t0 = performance.now();
    const inp2 = await processor(text2, image, { add_special_tokens: false });
    st = streamer();
    await model.generate({ ...inp2, max_new_tokens: args.tokens, do_sample: false, repetition_penalty: repetitionPenalty, streamer: st });
    const ttft2 = st.times[1] - t0;
    const followVision = stats.vision - vision0;
    const followPrefill = stats.prefillTokens.slice(prefills0)[0];
    // Classification: one forward per label over prompt + label tokens.
    const leaves = labels.labels ? labels.labels : [];
    // --tjs-labels N < 23 scores the first N labels and scales the time to 23
    // (each label costs the same full forward pass; the image is encoded each time).
    const allNames = (leaves.length ? leaves : []).map((l) => l.name);
    const names = allNames.slice(0, args.tjsLabels);
    t0 = performance.now();
    const q = `Which one of these best describes the image: ${names.join(', ')}? Answer with the name only.`;
    const textC = processorRaw.apply_chat_template([{ role: 'user', content: `${boi}${q}` }], { add_generation_prompt: true });
    const inpC = await processor(textC, image, { add_special_tokens: false });
    const prefix = Array.from(inpC.input_ids.data, Number);
    let scored = 0;
    for (const name of names) {
      const lab = Array.from(tok(name, { add_special_tokens: false }).input_ids.data, Number);
      const all = [...prefix, ...lab];
      const o = await model({ input_ids: ids(all), attention_mask: ones(all.length), ...(image ? { pixel_values: inpC.pixel_values } : {}) });
      scored += o.logits.dims[1] > 0 ? 1 : 0;
    }
    const classifyMs = (performance.now() - t0) * (allNames.length / names.length);
    runs.push({ ttft1, ttft1Cpu, decodeRate, decodeGaps, decodeCpuGaps, decodeCpuRate: rateOver(st.cpus.slice(1)), ttft2, classifyMs,
      tokens1: n1, prefill2: followPrefill,
      imageEncodes: stats.vision, followUpVisionRuns: followVision, labels: scored, loadMs });
  }
  await model.dispose();
  return runs;
}
