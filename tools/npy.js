'use strict';
// Minimal .npy reader/writer for nnslim's reference tools (no dependencies).
//
// readNpy(path) -> { dtype: '<f4' | ..., shape: [..], data: TypedArray }
//   Accepts format versions 1.0, 2.0 and 3.0, C order only, little-endian
//   (or byte-order-free) dtypes f4, f8, i1, u1, i2, u2, i4, u4, i8, u8, b1.
//   i8/u8 are returned as BigInt64Array/BigUint64Array.
// writeNpyF32(path, shape, Float32Array) writes a version 1.0 '<f4' file.

const fs = require('fs');

const DTYPES = {
  f4: Float32Array, f8: Float64Array,
  i1: Int8Array, u1: Uint8Array, b1: Uint8Array,
  i2: Int16Array, u2: Uint16Array,
  i4: Int32Array, u4: Uint32Array,
  i8: BigInt64Array, u8: BigUint64Array,
};

function fail(path, msg) {
  throw new Error(`npy file '${path}': ${msg}`);
}

function parseHeader(path, text) {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr || !fortran || !shape) fail(path, `cannot parse header ${JSON.stringify(text)}`);
  if (fortran[1] === 'True') fail(path, 'fortran_order arrays are not supported');
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s.length > 0)
    .map((s) => {
      const v = Number(s.replace(/L$/, ''));
      if (!Number.isInteger(v) || v < 0) fail(path, `bad dimension '${s}' in shape`);
      return v;
    });
  return { descr: descr[1], shape: dims };
}

function readNpy(path) {
  let buf;
  try {
    buf = fs.readFileSync(path);
  } catch (e) {
    fail(path, e.code === 'ENOENT' ? 'no such file' : e.message);
  }
  if (buf.length < 10 || buf[0] !== 0x93 || buf.toString('latin1', 1, 6) !== 'NUMPY') {
    fail(path, 'missing \\x93NUMPY magic');
  }
  const major = buf[6];
  let hlen;
  let off;
  if (major === 1) {
    hlen = buf.readUInt16LE(8);
    off = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) fail(path, 'truncated header');
    hlen = buf.readUInt32LE(8);
    off = 12;
  } else {
    fail(path, `unsupported format version ${major}.${buf[7]}`);
  }
  if (off + hlen > buf.length) fail(path, 'truncated header');
  const { descr, shape } = parseHeader(path, buf.toString(major === 3 ? 'utf8' : 'latin1', off, off + hlen));
  const m = /^([<>|=]?)([a-z]\d+)$/.exec(descr);
  if (!m || !DTYPES[m[2]]) fail(path, `unsupported dtype '${descr}'`);
  if (m[1] === '>' && m[2] !== 'i1' && m[2] !== 'u1' && m[2] !== 'b1') fail(path, `big-endian dtype '${descr}' is not supported`);
  const T = DTYPES[m[2]];
  const count = shape.reduce((a, b) => a * b, 1);
  const start = off + hlen;
  const need = count * T.BYTES_PER_ELEMENT;
  if (buf.length - start < need) fail(path, `data has ${buf.length - start} bytes, shape [${shape}] needs ${need}`);
  // copy to an aligned buffer
  const ab = new ArrayBuffer(need);
  new Uint8Array(ab).set(buf.subarray(start, start + need));
  return { dtype: m[2], shape, data: new T(ab) };
}

function writeNpyF32(path, shape, data) {
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new Error(`npy file '${path}': ${data.length} values for shape [${shape}]`);
  const shp = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shp}, }`;
  // total header (magic 6 + version 2 + len 2 + text + '\n') padded to 64 bytes
  const base = 10 + header.length + 1;
  header += ' '.repeat((64 - (base % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre[0] = 0x93;
  pre.write('NUMPY', 1, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const f32 = data instanceof Float32Array ? data : Float32Array.from(data);
  const body = Buffer.from(f32.buffer, f32.byteOffset, f32.byteLength);
  const tmp = `${path}.tmp${process.pid}`;
  fs.writeFileSync(tmp, Buffer.concat([pre, Buffer.from(header, 'latin1'), body]));
  fs.renameSync(tmp, path);
}

function toFloat64(arr) {
  const out = new Float64Array(arr.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Number(arr.data[i]);
  return out;
}

module.exports = { readNpy, writeNpyF32, toFloat64 };
