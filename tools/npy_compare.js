#!/usr/bin/env node
'use strict';
// Compare two .npy arrays element-wise (reference tool, no dependencies).
//
//   node tools/npy_compare.js A.npy B.npy [--tol T] [--rel] [--argmax]
//
// Prints one line: max_abs_diff=... max_rel_diff=... (and argmax_agree=k/n
// with --argmax, rows = first dimension, argmax over the rest). Exits 1 when
// the shapes differ, a value is NaN in one array and not the other, or the
// max abs diff exceeds --tol (default 1e-4). With --rel the test is
// |a-b| <= tol * max(1, |b|) instead. Exits 2 on usage or read errors.
// Any numeric dtype is accepted; values are compared as float64.

const { readNpy, toFloat64 } = require('./npy.js');

function usage(msg) {
  if (msg) process.stderr.write(`npy_compare: ${msg}\n`);
  process.stderr.write('usage: node tools/npy_compare.js A.npy B.npy [--tol T] [--rel] [--argmax]\n');
  process.exit(2);
}

function argmaxAgreement(a, b, rows) {
  const cols = a.length / rows;
  let agree = 0;
  for (let r = 0; r < rows; r++) {
    let ia = 0;
    let ib = 0;
    for (let c = 1; c < cols; c++) {
      if (a[r * cols + c] > a[r * cols + ia]) ia = c;
      if (b[r * cols + c] > b[r * cols + ib]) ib = c;
    }
    if (ia === ib) agree++;
  }
  return agree;
}

function main() {
  const argv = process.argv.slice(2);
  const files = [];
  let tol = 1e-4;
  let rel = false;
  let argmax = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--tol') {
      tol = Number(argv[++i]);
      if (!Number.isFinite(tol) || tol < 0) usage('--tol needs a number >= 0');
    } else if (argv[i] === '--rel') rel = true;
    else if (argv[i] === '--argmax') argmax = true;
    else if (argv[i].startsWith('--')) usage(`unknown option '${argv[i]}'`);
    else files.push(argv[i]);
  }
  if (files.length !== 2) usage('expected two .npy files');
  let A;
  let B;
  try {
    A = readNpy(files[0]);
    B = readNpy(files[1]);
  } catch (e) {
    process.stderr.write(`npy_compare: ${e.message}\n`);
    process.exit(2);
  }
  if (A.shape.length !== B.shape.length || A.shape.some((d, i) => d !== B.shape[i])) {
    process.stdout.write(`shape mismatch: '${files[0]}' [${A.shape}] vs '${files[1]}' [${B.shape}]\n`);
    process.exit(1);
  }
  const a = toFloat64(A);
  const b = toFloat64(B);
  let maxAbs = 0;
  let maxRel = 0;
  let worst = -1;
  let nanMismatch = 0;
  let fails = 0;
  for (let i = 0; i < a.length; i++) {
    const an = Number.isNaN(a[i]);
    const bn = Number.isNaN(b[i]);
    if (an || bn) {
      if (an !== bn) nanMismatch++;
      continue;
    }
    const d = a[i] === b[i] ? 0 : Math.abs(a[i] - b[i]); // equal infinities -> 0
    const r = d / Math.max(1, Math.abs(b[i]));
    if (d > maxAbs || Number.isNaN(d)) {
      maxAbs = Number.isNaN(d) ? Infinity : d;
      worst = i;
    }
    if (r > maxRel) maxRel = r;
    if ((rel ? r : d) > tol || Number.isNaN(d)) fails++;
  }
  let line = `max_abs_diff=${maxAbs.toExponential(3)} max_rel_diff=${maxRel.toExponential(3)}` +
    ` n=${a.length} tol=${tol}${rel ? ' (rel)' : ''}`;
  if (worst >= 0) line += ` worst_index=${worst} (${a[worst]} vs ${b[worst]})`;
  if (nanMismatch) line += ` nan_mismatch=${nanMismatch}`;
  if (argmax && A.shape.length >= 1 && A.shape[0] > 0) {
    line += ` argmax_agree=${argmaxAgreement(a, b, A.shape[0])}/${A.shape[0]}`;
  }
  const ok = fails === 0 && nanMismatch === 0;
  process.stdout.write(`${line} ${ok ? 'OK' : 'FAIL'}\n`);
  process.exit(ok ? 0 : 1);
}

main();
