/* schedule.c — learning-rate schedules, per step. */
#include <math.h>
#include "nnslim/train.h"

float nns_schedule_lr(const nns_train_config *cfg, int64_t t, int64_t T,
                      int64_t steps_per_epoch) {
    double lr = cfg->lr;
    int64_t warm = (int64_t)(cfg->warmup_epochs * (double)steps_per_epoch + 0.5);
    if (warm > 0 && t < warm) return (float)(lr * (double)(t + 1) / (double)warm);
    switch (cfg->schedule) {
    case NNS_SCHEDULE_KIND_CONSTANT:
        return (float)lr;
    case NNS_SCHEDULE_KIND_STEP: {
        int every = cfg->step_epochs > 0 ? cfg->step_epochs
                                         : (cfg->epochs >= 3 ? cfg->epochs / 3 : 1);
        int64_t epoch = steps_per_epoch > 0 ? t / steps_per_epoch : 0;
        return (float)(lr * pow(cfg->step_gamma, (double)(epoch / every)));
    }
    case NNS_SCHEDULE_KIND_COSINE: {
        double span = (double)(T - warm);
        double u = span > 0 ? (double)(t - warm) / span : 0;
        return (float)(lr * 0.5 * (1.0 + cos(3.14159265358979323846 * u)));
    }
    }
    return (float)lr;
}
