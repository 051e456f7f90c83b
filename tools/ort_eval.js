#!/usr/bin/env node
'use strict';
// Accuracy of an ONNX model in ONNX Runtime on an MNIST-layout test set —
// reference tool for the check that a model nnslim saves (quantized ones
// included) gives in ONNX Runtime the accuracy nnslim reports.
//
//   node tools/ort_eval.js MODEL.onnx [--data DIR] [--mean M --std S] [--limit N] [--threads T]
//
// Reads DIR/t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz]
// (default DIR /usr/share/datasets/fashion-mnist), scales the pixels to [0, 1]
// and normalises them as nnslim does ((x - mean) / std; give the model's
// values, which `nnslim train --json` prints; default 0 and 1), runs the model's first
// input on batches of 250 and prints one JSON line:
//   {"images": N, "correct": K, "accuracy": K / N}
// Exit 77 when onnxruntime-node is not installed, 1 on errors, 2 on usage.

const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

function usage(msg) {
  process.stderr.write(`ort_eval: ${msg}\nusage: node tools/ort_eval.js MODEL.onnx [--data DIR] [--mean M --std S] [--limit N] [--threads T]\n`);
  process.exit(2);
}

function loadOrt() {
  for (const name of [path.join(__dirname, '..', 'third_party', 'node_modules', 'onnxruntime-node'), 'onnxruntime-node']) {
    try { return require(name); } catch (e) { /* try the next */ }
  }
  process.stderr.write('ort_eval: onnxruntime-node is not available (run tools/setup_ort.sh)\n');
  process.exit(77);
  return null;
}

function readIdx(dir, base) {
  for (const f of [path.join(dir, base), path.join(dir, base + '.gz')]) {
    if (!fs.existsSync(f)) continue;
    let b = fs.readFileSync(f);
    if (f.endsWith('.gz')) b = zlib.gunzipSync(b);
    const nd = b[3];
    const dims = [];
    for (let i = 0; i < nd; i++) dims.push(b.readUInt32BE(4 + 4 * i));
    return { dims, data: b.subarray(4 + 4 * nd) };
  }
  throw new Error(`no ${base}[.gz] in ${dir}`);
}

function parseArgs(argv) {
  const o = { data: '/usr/share/datasets/fashion-mnist', mean: null, std: null, limit: 0, threads: 1 };
  if (!argv.length || argv[0].startsWith('--')) usage('give MODEL.onnx');
  o.model = argv[0];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i], v = argv[++i];
    if (v === undefined) usage(`${a} needs a value`);
    if (a === '--data') o.data = v;
    else if (a === '--mean') o.mean = Number(v);
    else if (a === '--std') o.std = Number(v);
    else if (a === '--limit') o.limit = Number(v);
    else if (a === '--threads') o.threads = Number(v);
    else usage(`unknown option ${a}`);
  }
  return o;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const ort = loadOrt();
  const sess = await ort.InferenceSession.create(o.model, { intraOpNumThreads: o.threads, interOpNumThreads: 1 });
  const mean = o.mean !== null ? o.mean : 0;
  const std = o.std !== null ? o.std : 1;
  const img = readIdx(o.data, 't10k-images-idx3-ubyte'), lab = readIdx(o.data, 't10k-labels-idx1-ubyte');
  const per = img.dims[1] * img.dims[2];
  const n = o.limit > 0 ? Math.min(o.limit, img.dims[0]) : img.dims[0];
  let correct = 0;
  for (let b0 = 0; b0 < n; b0 += 250) {
    const nb = Math.min(250, n - b0);
    const x = new Float32Array(nb * per);
    for (let i = 0; i < nb * per; i++) x[i] = (img.data[b0 * per + i] / 255 - mean) / std;
    const feeds = { [sess.inputNames[0]]: new ort.Tensor('float32', x, [nb, 1, img.dims[1], img.dims[2]]) };
    const out = (await sess.run(feeds))[sess.outputNames[0]];
    const k = out.data.length / nb;
    for (let i = 0; i < nb; i++) {
      let a = 0;
      for (let j = 1; j < k; j++) if (out.data[i * k + j] > out.data[i * k + a]) a = j;
      correct += a === lab.data[b0 + i];
    }
  }
  process.stdout.write(JSON.stringify({ images: n, correct, accuracy: correct / n, mean, std }) + '\n');
}

main().catch((e) => { process.stderr.write(`ort_eval: ${e.message}\n`); process.exit(1); });
