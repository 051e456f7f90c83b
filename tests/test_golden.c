/* test_golden.c — PyTorch exports of the built-in architectures
 * (tests/golden/, made by tools/make_goldens.sh) load in nnslim and give
 * PyTorch's outputs (max abs difference <= 1e-4), and can be trained further. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_impl.h"
#include "nnslim/nnslim.h"
#include "testutil.h"

static char dir[1024];

static void check_model(const char *onnx, const char *ref) {
    char p[1200], px[1200], py[1200];
    snprintf(p, sizeof p, "%s/%s.onnx", dir, onnx);
    snprintf(px, sizeof px, "%s/%s_x.npy", dir, ref);
    snprintf(py, sizeof py, "%s/%s_y.npy", dir, ref);
    nns_graph *g = NULL;
    nns_status st = nns_graph_load_onnx(p, &g);
    CHECK_OK(st);
    if (st) return;
    int nx, ny;
    int64_t dx[8], dy[8];
    float *x = NULL, *y = NULL;
    CHECK_OK(nns_npy_load_f32(px, &nx, dx, &x));
    CHECK_OK(nns_npy_load_f32(py, &ny, dy, &y));
    nns_session *s = NULL;
    CHECK_OK(nns_session_create(g, 3, &s)); /* 3: exercises a partial batch */
    if (s && x && y) {
        CHECK(nns_session_output_size(s) == dy[1]);
        float *out = calloc((size_t)(dy[0] * dy[1]), sizeof(float));
        CHECK_OK(nns_session_run(s, x, dx[0], out));
        double md = 0;
        for (int64_t i = 0; i < dy[0] * dy[1]; i++) md = fmax(md, fabs((double)out[i] - y[i]));
        CHECK_MSG(md <= 1e-4, "%s: max abs diff %g vs PyTorch", onnx, md);
        printf("%-14s max abs diff vs PyTorch %.3g\n", onnx, md);
        free(out);
    }
    nns_session_free(s);
    /* fine-tune a few steps: gradients flow through the imported graph */
    nns_dataset d = {0};
    d.n = dx[0];
    d.c = 1;
    d.h = d.w = 28;
    d.n_classes = 10;
    d.x = x;
    int32_t yl[16] = {0};
    for (int i = 0; i < d.n && i < 16; i++) yl[i] = i % 10;
    d.y = yl;
    nns_train_config c;
    nns_train_config_default(&c);
    c.epochs = 2;
    c.batch_size = 2;
    c.lr = 0.01f;
    nns_train_result r;
    if (d.n <= 16) CHECK_OK(nns_train(g, &d, NULL, &c, &r));
    free(x);
    free(y);
    nns_graph_free(g);
}

int main(void) {
    const char *src = getenv("NNS_SOURCE_DIR");
    snprintf(dir, sizeof dir, "%s/tests/golden", src ? src : ".");
    check_model("lenet300", "lenet300");
    check_model("lenet5", "lenet5");
    check_model("resnet8", "resnet8");
    check_model("resnet8_bn", "resnet8");
    check_model("mobilenet", "mobilenet");
    check_model("mobilenet_bn", "mobilenet");
    check_model("vggsmall_bn", "vggsmall");
    TEST_MAIN_END();
}
