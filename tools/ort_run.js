#!/usr/bin/env node
'use strict';
// Run an ONNX model with ONNX Runtime (onnxruntime-node) — reference tool.
//
//   node tools/ort_run.js MODEL.onnx X.npy OUT.npy [--threads N]
//       Feeds the float32 C-order array X.npy to the model's first input and
//       writes its first output to OUT.npy (float32, .npy v1).
//   node tools/ort_run.js MODEL.onnx --bench B --iters K [--iters1 K1] [--threads N] [--warmup W]
//       Times random float32 inputs (shape from the model's first input; a
//       symbolic batch dimension is set to 1, then to B) and prints one JSON
//       line: {"latency_ms_b1": median ms of a batch-1 run,
//              "images_per_second": B / median seconds of a batch-B run, ...};
//       K runs of each (the batch-1 runs: K1 when given).
//
// --threads N sets ORT's intra-op thread count (default 1; inter-op is 1,
// sequential execution, all graph optimizations on).
//
// onnxruntime-node is looked up in third_party/node_modules (install it with
// tools/setup_ort.sh), then on node's normal path. When it cannot be loaded
// the script prints why on stderr and exits 77 (CTest SKIP_RETURN_CODE), so
// shell tests can skip instead of fail. Other errors exit 1, usage errors 2.

const path = require('path');
const { readNpy, writeNpyF32 } = require('./npy.js');

const EXIT_SKIP = 77;

function usage(msg) {
  if (msg) process.stderr.write(`ort_run: ${msg}\n`);
  process.stderr.write(
    'usage: node tools/ort_run.js MODEL.onnx X.npy OUT.npy [--threads N]\n' +
    '       node tools/ort_run.js MODEL.onnx --bench B --iters K [--iters1 K1] [--threads N] [--warmup W]\n');
  process.exit(2);
}

function loadOrt() {
  const local = path.join(__dirname, '..', 'third_party', 'node_modules', 'onnxruntime-node');
  const errors = [];
  for (const name of [local, 'onnxruntime-node']) {
    try {
      return require(name);
    } catch (e) {
      errors.push(`${name}: ${String(e.message).split('\n')[0]}`);
    }
  }
  process.stderr.write('ort_run: onnxruntime-node is not available (run tools/setup_ort.sh)\n');
  for (const e of errors) process.stderr.write(`  ${e}\n`);
  process.exit(EXIT_SKIP);
  return null;
}

function parseArgs(argv) {
  const opt = { pos: [], threads: 1, bench: 0, iters: 20, iters1: 0, warmup: 3 };
  const intOpt = (name, v, min) => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min) usage(`${name} needs an integer >= ${min}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--threads') opt.threads = intOpt(a, argv[++i], 1);
    else if (a === '--bench') opt.bench = intOpt(a, argv[++i], 1);
    else if (a === '--iters') opt.iters = intOpt(a, argv[++i], 1);
    else if (a === '--iters1') opt.iters1 = intOpt(a, argv[++i], 1);
    else if (a === '--warmup') opt.warmup = intOpt(a, argv[++i], 0);
    else if (a === '-h' || a === '--help') usage();
    else if (a.startsWith('--')) usage(`unknown option '${a}'`);
    else opt.pos.push(a);
  }
  if (opt.bench) {
    if (opt.pos.length !== 1) usage('--bench takes only MODEL.onnx');
  } else if (opt.pos.length !== 3) {
    usage('expected MODEL.onnx X.npy OUT.npy');
  }
  return opt;
}

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function inputShape(session, model, batch) {
  const md = session.inputMetadata && session.inputMetadata[0];
  if (!md || !Array.isArray(md.shape)) return [batch, 1, 28, 28];
  return md.shape.map((d, i) => {
    if (typeof d === 'number' && d > 0) {
      if (i === 0 && d !== batch) throw new Error(`model '${model}': input has fixed batch ${d}, cannot run batch ${batch}`);
      return d;
    }
    if (i === 0) return batch;
    throw new Error(`model '${model}': input dimension ${i} is symbolic ('${d}'); cannot pick a bench shape`);
  });
}

function randomInput(ort, shape) {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = (s >>> 8) / 16777216 * 2 - 1;
  }
  return new ort.Tensor('float32', data, shape);
}

async function timeRuns(session, feeds, warmup, iters) {
  for (let i = 0; i < warmup; i++) await session.run(feeds);
  const ms = [];
  for (let i = 0; i < iters; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(ms);
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  const ort = loadOrt();
  const model = opt.pos[0];
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: opt.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const inName = session.inputNames[0];
  const outName = session.outputNames[0];

  if (opt.bench) {
    const ms1 = await timeRuns(session, { [inName]: randomInput(ort, inputShape(session, model, 1)) },
      opt.warmup, opt.iters1 || opt.iters);
    const msB = opt.bench === 1 && !opt.iters1 ? ms1
      : await timeRuns(session, { [inName]: randomInput(ort, inputShape(session, model, opt.bench)) },
        opt.warmup, opt.iters);
    const res = {
      latency_ms_b1: Number(ms1.toFixed(4)),
      images_per_second: Number((opt.bench / (msB / 1000)).toFixed(1)),
      batch: opt.bench,
      iters: opt.iters,
      threads: opt.threads,
      engine: `onnxruntime-node ${ort.env.versions ? ort.env.versions.node : '?'}`,
    };
    process.stdout.write(`${JSON.stringify(res)}\n`);
    return;
  }

  const x = readNpy(opt.pos[1]);
  if (x.dtype !== 'f4') throw new Error(`npy file '${opt.pos[1]}': dtype ${x.dtype}, expected float32 (<f4)`);
  const results = await session.run({ [inName]: new ort.Tensor('float32', x.data, x.shape) });
  const y = results[outName];
  if (y.type !== 'float32') throw new Error(`model '${model}': output '${outName}' has type ${y.type}, expected float32`);
  writeNpyF32(opt.pos[2], y.dims.map(Number), y.data);
}

main().catch((e) => {
  process.stderr.write(`ort_run: ${e && e.message ? e.message : e}\n`);
  process.exit(1);
});
