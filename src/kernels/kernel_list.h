/* kernel_list.h — the one list of dispatched kernels (an X-macro file: no
 * include guard; define the macros you need, then include it).
 *
 * NNS_KERNEL(family, type, ref): a family, i.e. a field `type *family` of
 *   nns_kernels; `type` is the function type (kernels.h documents the
 *   contract on it); `ref` the portable reference, used where no variant is
 *   eligible.
 * NNS_VARIANT(family, suffix, symbol): an ISA variant of the family above
 *   it, defined in src/kernels/x86/<symbol>.c (named ..._<tile>__<suffix>),
 *   compiled with the flags of `suffix` (isa.def) and eligible when the table's
 *   features include all of that suffix's. A family's variants are listed
 *   best first: a table takes the first eligible one.
 *
 * This list feeds the prototypes and the nns_kernels struct (kernels.h), the
 * filling of every table (dispatch.c), the kernel tests (tests/test_kernels.c
 * runs every variant the CPU can run against its reference; a family needs
 * a test_<family> function there) and the listing of bench/bench_conv.c.
 * Adding an AVX-512 VNNI variant of an existing family is one line here,
 * NNS_VARIANT(f32_wgemm8, avx512vnni, nns_f32_wgemm8_4x16__avx512vnni), and
 * the file src/kernels/x86/f32_wgemm8_4x16__avx512vnni.c (kernel files are
 * named after their symbol without the nns_ prefix).
 */
#ifndef NNS_KERNEL
#define NNS_KERNEL(family, type, ref)
#endif
#ifndef NNS_VARIANT
#define NNS_VARIANT(family, suffix, symbol)
#endif

NNS_KERNEL(f32_dwconv2d, nns_f32_dwconv2d_kernel, nns_f32_dwconv2d__ref)
NNS_VARIANT(f32_dwconv2d, avx512, nns_f32_dwconv2d__avx512)
NNS_VARIANT(f32_dwconv2d, avx2, nns_f32_dwconv2d__avx2)
NNS_KERNEL(f32_dwconv2d_bwd, nns_f32_dwconv2d_bwd_kernel, nns_f32_dwconv2d_bwd__ref)
NNS_VARIANT(f32_dwconv2d_bwd, avx2, nns_f32_dwconv2d_bwd__avx2)
NNS_KERNEL(f32_conv2d_1ch, nns_f32_conv2d_1ch_kernel, nns_f32_conv2d_1ch__ref)
NNS_VARIANT(f32_conv2d_1ch, avx512, nns_f32_conv2d_1ch__avx512)
NNS_VARIANT(f32_conv2d_1ch, avx2, nns_f32_conv2d_1ch__avx2)
/* only where nns_f32_conv2d_fewch_fits */
NNS_KERNEL(f32_conv2d_fewch, nns_f32_conv2d_fewch_kernel, nns_f32_conv2d_fewch__ref)
NNS_VARIANT(f32_conv2d_fewch, avx512, nns_f32_conv2d_fewch__avx512)
/* only where nns_f32_conv2d_same_fits */
NNS_KERNEL(f32_conv2d_same, nns_f32_conv2d_same_kernel, nns_f32_conv2d_same__ref)
NNS_VARIANT(f32_conv2d_same, avx512, nns_f32_conv2d_same__avx512)
/* only where nns_f32_conv2d_s2_fits; the kernel on the split's layout */
NNS_KERNEL(f32_conv2d_s2_split, nns_f32_conv2d_s2_split_kernel, nns_f32_conv2d_s2_split__ref)
NNS_VARIANT(f32_conv2d_s2_split, avx512, nns_f32_conv2d_s2_split__avx512)
NNS_KERNEL(f32_conv2d_s2, nns_f32_conv2d_s2_kernel, nns_f32_conv2d_s2__ref)
NNS_VARIANT(f32_conv2d_s2, avx512, nns_f32_conv2d_s2__avx512)
NNS_KERNEL(f32_conv2d_1ch_wgrad, nns_f32_conv2d_1ch_wgrad_kernel, nns_f32_conv2d_1ch_wgrad__ref)
NNS_VARIANT(f32_conv2d_1ch_wgrad, avx512, nns_f32_conv2d_1ch_wgrad__avx512)
NNS_VARIANT(f32_conv2d_1ch_wgrad, avx2, nns_f32_conv2d_1ch_wgrad__avx2)
NNS_KERNEL(f32_maxpool2d, nns_f32_maxpool2d_kernel, nns_f32_maxpool2d__ref)
NNS_VARIANT(f32_maxpool2d, avx2, nns_f32_maxpool2d__avx2)
/* only where nns_f32_maxpool2d_2x2s2_fits */
NNS_KERNEL(f32_maxpool2d_2x2s2, nns_f32_maxpool2d_kernel, nns_f32_maxpool2d__ref)
NNS_VARIANT(f32_maxpool2d_2x2s2, avx512, nns_f32_maxpool2d_2x2s2__avx512)
NNS_VARIANT(f32_maxpool2d_2x2s2, avx2, nns_f32_maxpool2d_2x2s2__avx2)
/* only where nns_f32_maxpool2d_stack_fits */
NNS_KERNEL(f32_maxpool2d_stack, nns_f32_maxpool2d_stack_kernel, nns_f32_maxpool2d_stack__ref)
NNS_VARIANT(f32_maxpool2d_stack, avx2, nns_f32_maxpool2d_stack__avx2)
/* only where nns_f32_maxpool2d_rows_fits */
NNS_KERNEL(f32_maxpool2d_rows, nns_f32_maxpool2d_stack_kernel, nns_f32_maxpool2d_stack__ref)
NNS_VARIANT(f32_maxpool2d_rows, avx512, nns_f32_maxpool2d_rows__avx512)
NNS_KERNEL(q8_maxpool2d, nns_q8_maxpool2d_kernel, nns_q8_maxpool2d__ref)
/* only where nns_f32_maxpool2d_2x2s2_fits */
NNS_KERNEL(q8_maxpool2d_2x2s2, nns_q8_maxpool2d_kernel, nns_q8_maxpool2d__ref)
NNS_VARIANT(q8_maxpool2d_2x2s2, avx512, nns_q8_maxpool2d_2x2s2__avx512)
NNS_VARIANT(q8_maxpool2d_2x2s2, avx2, nns_q8_maxpool2d_2x2s2__avx2)
NNS_KERNEL(f32_round16, nns_f32_round16_kernel, nns_f32_round16__ref)
NNS_VARIANT(f32_round16, avx512, nns_f32_round16__avx512)
NNS_VARIANT(f32_round16, avx2, nns_f32_round16__avx2)
NNS_KERNEL(f32_sigmoid, nns_f32_sigmoid_kernel, nns_f32_sigmoid__ref)
NNS_VARIANT(f32_sigmoid, avx512, nns_f32_sigmoid__avx512)
NNS_VARIANT(f32_sigmoid, avx2, nns_f32_sigmoid__avx2)
/* the four BatchNormalization row families: each ISA's variants in one
 * file, src/kernels/x86/f32_bn_rows__<suffix>.c (src/kernels/bn_rows.h) */
NNS_KERNEL(f32_bn_stats, nns_f32_bn_stats_kernel, nns_f32_bn_stats__ref)
NNS_VARIANT(f32_bn_stats, avx512, nns_f32_bn_stats__avx512)
NNS_VARIANT(f32_bn_stats, avx2, nns_f32_bn_stats__avx2)
NNS_KERNEL(f32_bn_apply, nns_f32_bn_apply_kernel, nns_f32_bn_apply__ref)
NNS_VARIANT(f32_bn_apply, avx512, nns_f32_bn_apply__avx512)
NNS_VARIANT(f32_bn_apply, avx2, nns_f32_bn_apply__avx2)
NNS_KERNEL(f32_bn_grad_sums, nns_f32_bn_grad_sums_kernel, nns_f32_bn_grad_sums__ref)
NNS_VARIANT(f32_bn_grad_sums, avx512, nns_f32_bn_grad_sums__avx512)
NNS_VARIANT(f32_bn_grad_sums, avx2, nns_f32_bn_grad_sums__avx2)
NNS_KERNEL(f32_bn_grad_row, nns_f32_bn_grad_row_kernel, nns_f32_bn_grad_row__ref)
NNS_VARIANT(f32_bn_grad_row, avx512, nns_f32_bn_grad_row__avx512)
NNS_VARIANT(f32_bn_grad_row, avx2, nns_f32_bn_grad_row__avx2)
NNS_KERNEL(f32_transpose, nns_f32_transpose_kernel, nns_f32_transpose__ref)
NNS_VARIANT(f32_transpose, avx512, nns_f32_transpose__avx512)
NNS_VARIANT(f32_transpose, avx2, nns_f32_transpose__avx2)
NNS_KERNEL(bf16_pack_pairs, nns_bf16_pack_pairs_kernel, nns_bf16_pack_pairs__ref)
NNS_VARIANT(bf16_pack_pairs, avx512, nns_bf16_pack_pairs__avx512)
NNS_KERNEL(bf16_gemm, nns_bf16_gemm_kernel, nns_bf16_gemm__ref)
NNS_VARIANT(bf16_gemm, avx512bf16, nns_bf16_gemm_8x48__avx512bf16)
NNS_KERNEL(f32_gemm, nns_f32_gemm_kernel, nns_f32_gemm__ref)
NNS_VARIANT(f32_gemm, avx512, nns_f32_gemm_8x48__avx512)
NNS_VARIANT(f32_gemm, avx2, nns_f32_gemm_4x24__avx2)
NNS_KERNEL(f16_gemm, nns_f16_gemm_kernel, nns_f16_gemm__ref)
NNS_VARIANT(f16_gemm, avx512, nns_f16_gemm_4x16__avx512)
NNS_VARIANT(f16_gemm, avx2, nns_f16_gemm_4x8__avx2)
NNS_KERNEL(s4_gemm, nns_s4_gemm_kernel, nns_s4_gemm__ref)
NNS_VARIANT(s4_gemm, avx512, nns_s4_gemm_4x16__avx512)
NNS_VARIANT(s4_gemm, avx2, nns_s4_gemm_4x8__avx2)
NNS_KERNEL(q8_add, nns_q8_add_kernel, nns_q8_add__ref)
NNS_VARIANT(q8_add, avx512, nns_q8_add__avx512)
NNS_VARIANT(q8_add, avx2, nns_q8_add__avx2)
NNS_KERNEL(qgemv_u8s8, nns_qgemv_u8s8_kernel, nns_qgemv_u8s8__ref)
NNS_VARIANT(qgemv_u8s8, avx512vnni, nns_qgemv_u8s8_4x64__avx512vnni)
NNS_VARIANT(qgemv_u8s8, avx2, nns_qgemv_u8s8_4x16__avx2)
NNS_KERNEL(f32_im2col, nns_f32_im2col_kernel, nns_f32_im2col__ref)
NNS_VARIANT(f32_im2col, avx512, nns_f32_im2col__avx512)
NNS_VARIANT(f32_im2col, avx2, nns_f32_im2col__avx2)
NNS_KERNEL(f32_col2im, nns_f32_col2im_kernel, nns_f32_col2im__ref)
NNS_VARIANT(f32_col2im, avx512, nns_f32_col2im__avx512)
NNS_VARIANT(f32_col2im, avx2, nns_f32_col2im__avx2)
NNS_KERNEL(f32_pad2d, nns_f32_pad2d_kernel, nns_f32_pad2d__ref)
NNS_VARIANT(f32_pad2d, avx512, nns_f32_pad2d__avx512)
NNS_VARIANT(f32_pad2d, avx2, nns_f32_pad2d__avx2)
NNS_KERNEL(f32_wgemm8, nns_f32_wgemm8_kernel, nns_f32_wgemm8__ref)
NNS_VARIANT(f32_wgemm8, avx512, nns_f32_wgemm8_6x8__avx512)
NNS_VARIANT(f32_wgemm8, avx2, nns_f32_wgemm8_3x4__avx2)
NNS_KERNEL(f32_wino2x2_3x3_input, nns_f32_wino_input_kernel, nns_f32_wino2x2_3x3_input__ref)
NNS_VARIANT(f32_wino2x2_3x3_input, avx512, nns_f32_wino2x2_3x3_input__avx512)
NNS_VARIANT(f32_wino2x2_3x3_input, avx2, nns_f32_wino2x2_3x3_input__avx2)
NNS_KERNEL(f32_wino2x2_3x3_output, nns_f32_wino_output_kernel, nns_f32_wino2x2_3x3_output__ref)
NNS_VARIANT(f32_wino2x2_3x3_output, avx512, nns_f32_wino2x2_3x3_output__avx512)
NNS_VARIANT(f32_wino2x2_3x3_output, avx2, nns_f32_wino2x2_3x3_output__avx2)
NNS_KERNEL(f32_wino2x2_3x3_outgrad, nns_f32_wino_outgrad_kernel, nns_f32_wino2x2_3x3_outgrad__ref)
NNS_VARIANT(f32_wino2x2_3x3_outgrad, avx512, nns_f32_wino2x2_3x3_outgrad__avx512)
NNS_VARIANT(f32_wino2x2_3x3_outgrad, avx2, nns_f32_wino2x2_3x3_outgrad__avx2)
NNS_KERNEL(f32_spmm_csr, nns_f32_spmm_csr_kernel, nns_f32_spmm_csr__ref)
NNS_VARIANT(f32_spmm_csr, avx2, nns_f32_spmm_csr__avx2)
NNS_KERNEL(u8_im2col, nns_u8_im2col_kernel, nns_u8_im2col__ref)
NNS_VARIANT(u8_im2col, avx512, nns_u8_im2col__avx512)
NNS_KERNEL(u8_pack_quads, nns_u8_pack_quads_kernel, nns_u8_pack_quads__ref)
NNS_VARIANT(u8_pack_quads, avx512, nns_u8_pack_quads__avx512)
NNS_VARIANT(u8_pack_quads, avx2, nns_u8_pack_quads__avx2)
NNS_KERNEL(u8_dwconv, nns_u8_dwconv_kernel, nns_u8_dwconv__ref)
NNS_VARIANT(u8_dwconv, avx512, nns_u8_dwconv__avx512)
NNS_VARIANT(u8_dwconv, avx2, nns_u8_dwconv__avx2)
NNS_KERNEL(q8_requant, nns_q8_requant_kernel, nns_q8_requant__ref)
NNS_VARIANT(q8_requant, avx512, nns_q8_requant__avx512)
NNS_VARIANT(q8_requant, avx2, nns_q8_requant__avx2)
NNS_KERNEL(qgemm_u8s8, nns_qgemm_u8s8_kernel, nns_qgemm_u8s8__ref)
NNS_VARIANT(qgemm_u8s8, avx512vnni, nns_qgemm_u8s8_8x48__avx512vnni)
NNS_VARIANT(qgemm_u8s8, avxvnni, nns_qgemm_u8s8_4x24__avxvnni)
NNS_VARIANT(qgemm_u8s8, avx2, nns_qgemm_u8s8_4x8__avx2)

#undef NNS_KERNEL
#undef NNS_VARIANT
