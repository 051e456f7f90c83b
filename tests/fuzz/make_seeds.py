#!/usr/bin/python3
"""make_seeds.py — writes the hand-made seeds of tests/fuzz/corpus/ (run once
by hand with Debian's /usr/bin/python3 + onnx; the files are committed, the
build never runs this). Offline: no download.

  /usr/bin/python3 tests/fuzz/make_seeds.py tests/fuzz/corpus

idx/ and npy/ inputs use the two-file layout of fuzz_common.h: a flags byte
(bit 0 gzip the first file, bit 1 the second, bits 2-4 the sample limit), the
first file's length (u16 LE), the first file, the second."""
import gzip, os, struct, sys
import numpy as np

out = sys.argv[1]


def pair(first, second, flags=0):
    return bytes([flags]) + struct.pack('<H', len(first)) + first + second


def put(sub, name, data):
    with open(os.path.join(out, sub, name), 'wb') as f:
        f.write(data)


def idx(dtype_code, dims, payload):
    return struct.pack('>BBBB', 0, 0, dtype_code, len(dims)) + b''.join(
        struct.pack('>I', d) for d in dims) + payload


def idx_seeds():
    img = idx(8, [3, 4, 4], bytes(range(48)))
    lab = idx(8, [3], bytes([0, 2, 1]))
    put('idx', 'raw', pair(img, lab))
    put('idx', 'gz_images', pair(img, lab, 1))
    put('idx', 'gz_both_limit2', pair(img, lab, 3 | 2 << 2))
    put('idx', 'pregz_labels', pair(img, gzip.compress(lab, mtime=0)))
    put('idx', 'empty', pair(idx(8, [0, 2, 2], b''), idx(8, [0], b'')))
    put('idx', 'i32_dtype', pair(idx(0x0C, [1, 2, 2], bytes(16)), lab))


def npy(arr):
    hdr = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (
        arr.dtype.str, repr(tuple(arr.shape)))
    pad = 64 - (10 + len(hdr) + 1) % 64
    hdr = (hdr + ' ' * pad + '\n').encode()
    return b'\x93NUMPY\x01\x00' + struct.pack('<H', len(hdr)) + hdr + arr.tobytes()


def npy_seeds():
    x4 = np.arange(2 * 1 * 3 * 3, dtype='<f4').reshape(2, 1, 3, 3) / 10
    put('npy', 'f32_rank4_u8', pair(npy(x4), npy(np.array([1, 0], dtype='u1'))))
    put('npy', 'f32_rank2_i8', pair(npy(x4.reshape(2, 9)), npy(np.array([3, 1], dtype='<i8')), 1))
    put('npy', 'u8_rank3_i4', pair(npy(np.arange(8, dtype='u1').reshape(2, 2, 2)),
                                   npy(np.array([0, 1], dtype='<i4')), 2))
    put('npy', 'gz_both_limit1', pair(npy(x4), npy(np.array([1, 0], dtype='<i4')), 3 | 1 << 2))
    put('npy', 'pregz_x', pair(gzip.compress(npy(x4), mtime=0), npy(np.array([1, 0], dtype='u1'))))
    put('npy', 'empty', pair(npy(np.zeros((0, 1, 2, 2), '<f4')), npy(np.zeros(0, 'u1'))))


def onnx_seeds():
    import onnx
    from onnx import helper as h, TensorProto as T, numpy_helper as nh
    rng = np.random.default_rng(1)

    def w(name, *shape):
        return nh.from_array(rng.standard_normal(shape).astype(np.float32) * 0.1, name)

    def model(name, nodes, inits, in_shape, out_shape, sparse=()):
        g = h.make_graph(nodes, name, [h.make_tensor_value_info('x', T.FLOAT, in_shape)],
                         [h.make_tensor_value_info('y', T.FLOAT, out_shape)], inits,
                         sparse_initializer=list(sparse))
        m = h.make_model(g, opset_imports=[h.make_opsetid('', 13)], ir_version=7)
        put('onnx', name + '.onnx', m.SerializeToString())

    N = 'N'
    model('convnet', [
        h.make_node('Conv', ['x', 'cw', 'cb'], ['c'], pads=[1, 1, 1, 1], name='conv'),
        h.make_node('BatchNormalization', ['c', 'g', 'b', 'm', 'v'], ['bn'], name='bn'),
        h.make_node('Relu', ['bn'], ['r'], name='relu'),
        h.make_node('MaxPool', ['r'], ['p'], kernel_shape=[2, 2], strides=[2, 2], name='pool'),
        h.make_node('Flatten', ['p'], ['f'], axis=1, name='flat'),
        h.make_node('Gemm', ['f', 'fw', 'fb'], ['z'], transB=1, name='fc'),
        h.make_node('Softmax', ['z'], ['y'], axis=1, name='sm')],
        [w('cw', 2, 1, 3, 3), w('cb', 2), w('g', 2), w('b', 2), w('m', 2),
         nh.from_array(np.ones(2, np.float32), 'v'), w('fw', 3, 8), w('fb', 3)],
        [N, 1, 4, 4], [N, 3])
    model('residual', [
        h.make_node('Conv', ['x', 'dw'], ['d'], group=2, pads=[1, 1, 1, 1], name='dw'),
        h.make_node('Clip', ['d', 'lo', 'hi'], ['cl'], name='clip'),
        h.make_node('Add', ['cl', 'x'], ['a'], name='add'),
        h.make_node('Concat', ['a', 'x'], ['cc'], axis=1, name='cat'),
        h.make_node('AveragePool', ['cc'], ['ap'], kernel_shape=[2, 2], name='avg'),
        h.make_node('GlobalAveragePool', ['ap'], ['gp'], name='gap'),
        h.make_node('Reshape', ['gp', 'shape'], ['y'], name='reshape')],
        [w('dw', 2, 1, 3, 3), nh.from_array(np.float32(0), 'lo'), nh.from_array(np.float32(6), 'hi'),
         nh.from_array(np.array([0, -1], np.int64), 'shape')],
        [N, 2, 3, 3], [N, 4])
    sp_vals = nh.from_array(np.array([0.5, -1.0], np.float32), 'mw')
    sp_idx = nh.from_array(np.array([1, 6], np.int64), 'mw_idx')
    model('sparse_matmul', [
        h.make_node('MatMul', ['x', 'mw'], ['mm'], name='mm'),
        h.make_node('Sigmoid', ['mm'], ['s'], name='sig'),
        h.make_node('Mul', ['s', 'k'], ['y'], name='mul')],
        [nh.from_array(np.array([2.0], np.float32), 'k')],
        [N, 4], [N, 2], sparse=[h.make_sparse_tensor(sp_vals, sp_idx, [4, 2])])
    model('transpose_shape', [
        h.make_node('Transpose', ['x'], ['t'], perm=[0, 2, 1], name='tr'),
        h.make_node('Shape', ['t'], ['sh'], name='shape'),
        h.make_node('Gather', ['sh', 'i0'], ['n'], axis=0, name='gather'),
        h.make_node('Unsqueeze', ['n', 'ax0'], ['nu'], name='unsq'),
        h.make_node('Concat', ['nu', 'm1'], ['tgt'], axis=0, name='cat'),
        h.make_node('Reshape', ['t', 'tgt'], ['rs'], name='reshape'),
        h.make_node('LeakyRelu', ['rs'], ['lr'], alpha=0.1, name='lrelu'),
        h.make_node('Dropout', ['lr'], ['dr'], name='drop'),
        h.make_node('HardSwish', ['dr'], ['hs'], name='hswish'),
        h.make_node('LogSoftmax', ['hs'], ['y'], axis=1, name='lsm')],
        [nh.from_array(np.array(0, np.int64), 'i0'), nh.from_array(np.array([0], np.int64), 'ax0'),
         nh.from_array(np.array([-1], np.int64), 'm1')],
        [N, 2, 3], [N, 6])
    model('constant_div', [
        h.make_node('Constant', [], ['c'], value=nh.from_array(np.array([2.0, 4.0], np.float32)), name='const'),
        h.make_node('Div', ['x', 'c'], ['d'], name='div'),
        h.make_node('Sub', ['d', 'c'], ['s'], name='sub'),
        h.make_node('HardSigmoid', ['s'], ['hsg'], name='hsig'),
        h.make_node('Identity', ['hsg'], ['y'], name='id')],
        [], [N, 2], [N, 2])


def plan_seeds():
    """Models whose session runs the int8 plan's rewrites and the 16-bit
    weights: a Cast of f16 and bf16 initializers, 16-bit activations (Cast
    pairs, fused into Round16), Gemms on float16 and grouped 4-bit weights
    (GemmF16, GemmW4), chains of the elementwise ops (Abs ... Selu, Pow, Min,
    Max; Round ... ThresholdedRelu, PRelu), the ten reductions, Unsqueeze,
    Squeeze, Slice and Split of an activation,
    and a QDQ graph with a
    pool between a DequantizeLinear and a QuantizeLinear of another scale
    (Int8Lut) and an Add of two dequantized activations (Int8Add)."""
    import onnx
    from onnx import helper as h, TensorProto as T, numpy_helper as nh
    rng = np.random.default_rng(2)

    def model(name, nodes, inits, in_shape, out_shape, opset=13):
        g = h.make_graph(nodes, name, [h.make_tensor_value_info('x', T.FLOAT, in_shape)],
                         [h.make_tensor_value_info('y', T.FLOAT, out_shape)], inits)
        m = h.make_model(g, opset_imports=[h.make_opsetid('', opset)], ir_version=7)
        put('onnx', name + '.onnx', m.SerializeToString())

    w16 = nh.from_array(rng.standard_normal((4, 3)).astype(np.float16), 'w16')
    model('cast_f16_matmul', [h.make_node('Cast', ['w16'], ['w'], to=1, name='cast'),
                              h.make_node('MatMul', ['x', 'w'], ['y'], name='mm')], [w16], ['N', 4], ['N', 3])
    g16 = nh.from_array(np.random.default_rng(5).standard_normal((3, 4)).astype(np.float16), 'g16')
    model('cast_f16_gemm', [h.make_node('Cast', ['g16'], ['w'], to=1, name='cast'),
                            h.make_node('Gemm', ['x', 'w'], ['y'], transB=1, name='fc')], [g16], ['N', 4], ['N', 3])
    bits = (rng.standard_normal((2, 1, 3, 3)).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
    wb = h.make_tensor('wb', T.BFLOAT16, [2, 1, 3, 3], bits.tobytes(), raw=True)
    model('cast_bf16_conv', [h.make_node('Cast', ['wb'], ['w'], to=1, name='cast'),
                             h.make_node('Conv', ['x', 'w'], ['y'], pads=[1, 1, 1, 1], name='conv')],
          [wb], ['N', 1, 4, 4], ['N', 2, 4, 4])
    model('cast16_acts', [h.make_node('Cast', ['x'], ['xb'], to=16, name='to_bf16'),
                          h.make_node('Cast', ['xb'], ['xr'], to=1, name='back1'),
                          h.make_node('Cast', ['wb'], ['w'], to=1, name='cast'),
                          h.make_node('Conv', ['xr', 'w'], ['c'], pads=[1, 1, 1, 1], name='conv'),
                          h.make_node('Cast', ['c'], ['ch'], to=10, name='to_f16'),
                          h.make_node('Cast', ['ch'], ['y'], to=1, name='back2')],
          [wb], ['N', 1, 4, 4], ['N', 2, 4, 4])
    codes = rng.integers(-8, 8, (3, 40)).astype(np.int64)
    q4 = onnx.TensorProto(name='q4', data_type=22, dims=[3, 40])  # INT4 (opset 21), two codes per byte, low first
    nib = (codes.flatten() & 15).astype(np.uint8)
    q4.raw_data = (nib[0::2] | (nib[1::2] << 4)).astype(np.uint8).tobytes()
    s4 = nh.from_array(rng.uniform(0.01, 0.1, (3, 2)).astype(np.float32), 's4')
    b4 = nh.from_array(rng.standard_normal(3).astype(np.float32), 'b4')
    model('w4_gemm', [h.make_node('DequantizeLinear', ['q4', 's4'], ['w'], axis=1, block_size=32, name='dq'),
                      h.make_node('Gemm', ['x', 'w', 'b4'], ['y'], transB=1, name='fc')],
          [q4, s4, b4], ['N', 40], ['N', 3], opset=21)
    chain, prev = [], 'x'
    for i, op in enumerate(['Abs', 'Sqrt', 'Neg', 'Exp', 'Log', 'Tanh', 'Erf', 'Reciprocal', 'Floor', 'Ceil',
                            'Softplus', 'Elu', 'Selu']):
        chain.append(h.make_node(op, [prev], ['u%d' % i], name=op.lower()))
        prev = 'u%d' % i
    pw = nh.from_array(np.array([2.0, 0.5, 1.0], np.float32), 'pw')
    chain += [h.make_node('Pow', [prev, 'pw'], ['p'], name='pow'), h.make_node('Min', ['p', 'x'], ['m'], name='min'),
              h.make_node('Max', ['m', 'pw'], ['y'], name='max')]
    model('elementwise', chain, [pw], ['N', 3], ['N', 3])
    chain, prev = [], 'x'
    for i, op in enumerate(['Round', 'Sign', 'Sin', 'Cos', 'Tan', 'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Asinh',
                            'Acosh', 'Atanh', 'Softsign', 'Mish', 'Celu', 'ThresholdedRelu']):
        chain.append(h.make_node(op, [prev], ['v%d' % i], name=op.lower()))
        prev = 'v%d' % i
    chain.append(h.make_node('PRelu', [prev, 'pw'], ['y'], name='prelu'))
    model('elementwise2', chain, [pw], ['N', 3], ['N', 3], opset=18)
    ax = nh.from_array(np.array([1, -1], np.int64), 'ax')
    ra = nh.from_array(np.array([1], np.int64), 'ra')
    chain, prev = [], 'x'
    for i, op in enumerate(['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1',
                            'ReduceL2', 'ReduceSumSquare', 'ReduceLogSum', 'ReduceLogSumExp']):
        chain.append(h.make_node(op, [prev, 'ra'], ['r%d' % i], keepdims=1, name=op.lower()))
        prev = 'r%d' % i
    chain.append(h.make_node('Add', ['x', prev], ['y'], name='add'))
    model('reduce_ops', chain, [ra], ['N', 3], ['N', 3], opset=18)
    i64 = lambda n, v: nh.from_array(np.array(v, np.int64), n)
    sc_ = lambda n, v: nh.from_array(np.array(v, np.float32), n)
    model('slice_acts', [h.make_node('Relu', ['x'], ['r'], name='relu'),
                         h.make_node('Slice', ['r', 'st', 'en', 'sa', 'ss'], ['s'], name='slice'),
                         h.make_node('Slice', ['s', 'st2', 'en2', 'sa'], ['y'], name='slice2')],
          [i64('st', [-1]), i64('en', [-100]), i64('sa', [1]), i64('ss', [-1]), i64('st2', [0]), i64('en2', [2])],
          ['N', 3], ['N', 2])
    model('split_acts', [h.make_node('Split', ['x', 'sp'], ['s1', 's2'], axis=1, name='split'),
                         h.make_node('Add', ['s1', 's2'], ['y'], name='add')], [i64('sp', [2, 2])], ['N', 4], ['N', 2])
    model('pad_modes', [h.make_node('Pad', ['x', 'pp', 'pv'], ['p1'], mode='constant', name='pad'),
                        h.make_node('Pad', ['p1', 'pr'], ['p2'], mode='reflect', name='pad_reflect'),
                        h.make_node('Pad', ['p2', 'pe'], ['y'], mode='edge', name='pad_edge')],
          [i64('pp', [0, 1, 0, 2]), sc_('pv', 0.5), i64('pr', [0, 2, 0, -1]), i64('pe', [0, 0, 0, -2])],
          ['N', 3], ['N', 5])
    model('layernorm_trilu', [h.make_node('LayerNormalization', ['x', 'lns', 'lnb'], ['l'], axis=-1, epsilon=1e-3,
                                          name='ln'),
                              h.make_node('Unsqueeze', ['l', 'ax'], ['u'], name='unsq'),
                              h.make_node('Trilu', ['u', 'tk'], ['y2'], upper=0, name='tril'),
                              h.make_node('Squeeze', ['y2', 'ax'], ['y'], name='sq')],
          [sc_('lns', [1.0, 0.5, 2.0]), sc_('lnb', [0.0, 0.1, -0.1]), ax, i64('tk', 1)], ['N', 3], ['N', 3],
          opset=17)
    model('logic_where', [h.make_node('Less', ['x', 'lc'], ['lt'], name='less'),
                          h.make_node('Equal', ['x', 'lc'], ['eq'], name='eq'),
                          h.make_node('Or', ['lt', 'eq'], ['le'], name='or'),
                          h.make_node('Not', ['le'], ['gt'], name='not'),
                          h.make_node('Where', ['gt', 'x', 'lc'], ['w'], name='where'),
                          h.make_node('Mean', ['w', 'x', 'lc'], ['y'], name='mean')],
          [sc_('lc', [0.0, 0.5, -0.5])], ['N', 3], ['N', 3])
    model('argmax_losses', [h.make_node('ArgMin', ['x'], ['am'], axis=1, keepdims=0, name='argmin'),
                            h.make_node('SoftmaxCrossEntropyLoss', ['x', 'am'], ['l1', 'lp'], reduction='none',
                                        name='sce'),
                            h.make_node('NegativeLogLikelihoodLoss', ['lp', 'am', 'lw'], ['l2'], reduction='none',
                                        ignore_index=2, name='nll'),
                            h.make_node('Add', ['l1', 'l2'], ['y'], name='add')],
          [sc_('lw', [1.0, 0.5, 2.0])], ['N', 3], ['N'])
    model('resize_modes', [h.make_node('Unsqueeze', ['x', 'ax2'], ['u'], name='unsq'),
                           h.make_node('Resize', ['u', '', 'rs'], ['r1'], mode='linear', name='resize_lin'),
                           h.make_node('Resize', ['r1', '', 'rs2'], ['r2'], mode='nearest',
                                       coordinate_transformation_mode='asymmetric', nearest_mode='floor',
                                       name='resize_near'),
                           h.make_node('ReduceMean', ['r2'], ['y'], axes=[2, 3], keepdims=0, name='mean')],
          [i64('ax2', [2, 3]), sc_('rs', [1.0, 1.0, 2.0, 2.0]), sc_('rs2', [1.0, 1.0, 0.5, 0.5])], ['N', 3], ['N', 3])
    model('convtranspose', [h.make_node('Unsqueeze', ['x', 'ax2'], ['u'], name='unsq'),
                            h.make_node('ConvTranspose', ['u', 'ctw', 'ctb'], ['c'], strides=[2, 2], pads=[0, 1, 1, 0],
                                        output_padding=[1, 0], name='convt'),
                            h.make_node('ReduceMean', ['c'], ['y'], axes=[2, 3], keepdims=0, name='mean')],
          [i64('ax2', [2, 3]), sc_('ctw', np.linspace(-1, 1, 3 * 2 * 3 * 3).reshape(3, 2, 3, 3)),
           sc_('ctb', [0.5, -0.25])], ['N', 3], ['N', 2])
    model('conv1d', [h.make_node('Unsqueeze', ['x', 'ax1'], ['u'], name='unsq'),
                     h.make_node('Conv', ['u', 'c1w', 'c1b'], ['c'], pads=[1, 0], strides=[1], name='conv1d'),
                     h.make_node('MaxPool', ['c'], ['m'], kernel_shape=[2], pads=[0, 1], name='max1d'),
                     h.make_node('AveragePool', ['m'], ['a'], kernel_shape=[3], strides=[3], name='avg1d'),
                     h.make_node('Squeeze', ['a', 'ax2b'], ['y'], name='sq')],
          [i64('ax1', [1]), i64('ax2b', [2]), sc_('c1w', [[[0.5, -1.0]], [[1.5, 0.25]]]), sc_('c1b', [0.1, -0.2])],
          ['N', 3], ['N', 2])
    model('norms_d2s', [h.make_node('Reshape', ['x', 'rs4'], ['r'], name='reshape'),
                        h.make_node('Concat', ['r', 'r', 'r', 'r'], ['cc'], axis=1, name='concat'),
                        h.make_node('InstanceNormalization', ['cc', 'ins', 'inb'], ['i'], epsilon=1e-3, name='inorm'),
                        h.make_node('LRN', ['i'], ['l'], size=3, name='lrn'),
                        h.make_node('DepthToSpace', ['l', ], ['d'], blocksize=2, mode='CRD', name='d2s'),
                        h.make_node('SpaceToDepth', ['d'], ['s2'], blocksize=2, name='s2d'),
                        h.make_node('ReduceMean', ['s2'], ['m'], axes=[1, 2], keepdims=0, name='mean'),
                        h.make_node('Flatten', ['m'], ['y'], axis=1, name='flat')],
          [i64('rs4', [0, 1, 1, 3]), sc_('ins', [1.0, 0.5, 2.0, -1.0]), sc_('inb', [0.0, 0.1, -0.1, 0.2])],
          ['N', 3], ['N', 3])
    model('gather_expand_tile', [h.make_node('Gather', ['x', 'gix'], ['g'], axis=1, name='gather'),
                                 h.make_node('Unsqueeze', ['g', 'ax1'], ['u'], name='unsq'),
                                 h.make_node('Expand', ['u', 'exs'], ['e'], name='expand'),
                                 h.make_node('Tile', ['e', 'trep'], ['t'], name='tile'),
                                 h.make_node('ReduceSum', ['t', 'ax1'], ['y'], keepdims=0, name='sum')],
          [i64('gix', [2, 0, -1]), i64('ax1', [1]), i64('exs', [1, 2, 1]), i64('trep', [1, 1, 2])],
          ['N', 3], ['N', 6])
    model('shrink_hardmax', [h.make_node('Shrink', ['x'], ['s'], lambd=0.3, bias=0.1, name='shrink'),
                             h.make_node('Hardmax', ['s'], ['hm'], axis=1, name='hardmax'),
                             h.make_node('IsNaN', ['x'], ['nan'], name='isnan'),
                             h.make_node('IsInf', ['x'], ['inf'], name='isinf'),
                             h.make_node('Or', ['nan', 'inf'], ['bad'], name='or'),
                             h.make_node('Where', ['bad', 'hm', 's'], ['y'], name='where')], [], ['N', 3], ['N', 3])
    model('squeeze_acts', [h.make_node('Unsqueeze', ['x', 'ax'], ['u'], name='unsq'),
                           h.make_node('Relu', ['u'], ['r'], name='relu'),
                           h.make_node('Squeeze', ['r', 'ax'], ['y'], name='sq')], [ax], ['N', 3], ['N', 3])
    sc = lambda n, v: nh.from_array(np.array(v, np.float32), n)
    zp = lambda n, v: nh.from_array(np.array(v, np.uint8), n)
    model('qdq_pool_add', [
        h.make_node('QuantizeLinear', ['x', 's1', 'z1'], ['xq'], name='q1'),
        h.make_node('DequantizeLinear', ['xq', 's1', 'z1'], ['xd'], name='d1'),
        h.make_node('MaxPool', ['xd'], ['p'], kernel_shape=[2, 2], strides=[1, 1], pads=[0, 0, 1, 1], name='pool'),
        h.make_node('Relu', ['p'], ['pr'], name='relu'),
        h.make_node('QuantizeLinear', ['pr', 's2', 'z2'], ['pq'], name='q2'),
        h.make_node('DequantizeLinear', ['pq', 's2', 'z2'], ['pd'], name='d2'),
        h.make_node('DequantizeLinear', ['xq', 's1', 'z1'], ['xd2'], name='d3'),
        h.make_node('Add', ['pd', 'xd2'], ['a'], name='add'),
        h.make_node('QuantizeLinear', ['a', 's3', 'z3'], ['aq'], name='q3'),
        h.make_node('DequantizeLinear', ['aq', 's3', 'z3'], ['y'], name='d4')],
        [sc('s1', 0.02), zp('z1', 128), sc('s2', 0.03), zp('z2', 0), sc('s3', 0.05), zp('z3', 10)],
        ['N', 2, 4, 4], ['N', 2, 4, 4])


def dynamic_seeds():
    """A dynamic-quantization graph: DynamicQuantizeLinear, ConvInteger
    (grouped, a weight zero point per channel) and MatMulInteger, their
    int32 sums Cast to float and scaled."""
    from onnx import helper as h, TensorProto as T, numpy_helper as nh
    rng = np.random.default_rng(3)
    w = nh.from_array(rng.integers(-127, 128, (4, 1, 3, 3)).astype(np.int8), 'w')
    wz = nh.from_array(rng.integers(-3, 4, 4).astype(np.int8), 'wz')
    b = nh.from_array(rng.integers(0, 256, (64, 3)).astype(np.uint8), 'b')
    bz = nh.from_array(np.array(128, np.uint8), 'bz')
    nodes = [h.make_node('DynamicQuantizeLinear', ['x'], ['xq', 'xs', 'xz'], name='dq1'),
             h.make_node('ConvInteger', ['xq', 'w', 'xz', 'wz'], ['c'], pads=[1, 1, 1, 1], group=2, name='conv'),
             h.make_node('Cast', ['c'], ['cf'], to=1, name='cast1'),
             h.make_node('Mul', ['cf', 'xs'], ['cm'], name='mul1'),
             h.make_node('Flatten', ['cm'], ['f'], name='flat'),
             h.make_node('DynamicQuantizeLinear', ['f'], ['fq', 'fs', 'fz'], name='dq2'),
             h.make_node('MatMulInteger', ['fq', 'b', 'fz', 'bz'], ['m'], name='mm'),
             h.make_node('Cast', ['m'], ['mf'], to=1, name='cast2'),
             h.make_node('Mul', ['mf', 'fs'], ['y'], name='mul2')]
    g = h.make_graph(nodes, 'dynamic', [h.make_tensor_value_info('x', T.FLOAT, ['N', 2, 4, 4])],
                     [h.make_tensor_value_info('y', T.FLOAT, ['N', 3])], [w, wz, b, bz])
    m = h.make_model(g, opset_imports=[h.make_opsetid('', 13)], ir_version=7)
    put('onnx', 'dynamic_integer.onnx', m.SerializeToString())


for sub in ('onnx', 'idx', 'npy'):
    os.makedirs(os.path.join(out, sub), exist_ok=True)
idx_seeds()
npy_seeds()
onnx_seeds()
plan_seeds()
dynamic_seeds()
