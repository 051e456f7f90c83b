/* f32_bn_rows__ref.c — BatchNormalization's row loops on vectors of 4
 * floats: the f32_bn_stats, f32_bn_apply, f32_bn_grad_sums and
 * f32_bn_grad_row references (portable; GCC vector types). */
#define BN_VW 4
#define BN_NAME(family) nns_##family##__ref
#include "kernels/bn_rows.h"
