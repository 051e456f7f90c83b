/* main.c — the nnslim command: dispatch to subcommands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const cli_command commands[] = {
    {"train", "train a built-in architecture or an ONNX model", cmd_train},
    {"eval", "evaluate a model: accuracy, loss, confusion matrix", cmd_eval},
    {"info", "layers, shapes, parameters, MACs and file size of a model", cmd_info},
    {"prune", "prune weights, neurons or channels, fine-tune, report before/after", cmd_prune},
    {"distill", "train a small student from a trained teacher (knowledge distillation)", cmd_distill},
    {"sensitivity", "prune each layer alone at a sweep of ratios; suggest per-layer ratios", cmd_sensitivity},
    {"compare", "several models side by side: accuracy, size, MACs, latency", cmd_compare},
    {"quantize", "quantize a model to 8 bits after training or with QAT (QDQ ONNX)", cmd_quantize},
    {"profile", "time every node of a model's inference (where the time goes)", cmd_profile},
    {"run", "run a model on a .npy input, write the output as .npy", cmd_run},
};
#define N_COMMANDS (int)(sizeof commands / sizeof commands[0])

static void usage(FILE *f) {
    fprintf(f, "usage: nnslim COMMAND [OPTIONS]\n\n"
               "nnslim trains, prunes and distills neural networks on the CPU (ONNX in,\n"
               "ONNX out), and quantizes them to 8 bits. Commands:\n");
    for (int i = 0; i < N_COMMANDS; i++) fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun 'nnslim COMMAND --help' for a command's options.\n"
               "Exit status: 0 success, 1 bad input or failure, 2 bad usage.\n"
               "\nEnvironment (docs/security.md, docs/kernels.md):\n"
               "  NNS_MAX_TENSOR_ELEMS  elements of any one tensor (default 2147483647)\n"
               "  NNS_MAX_MEMORY        bytes of one plan or data set (default half the RAM)\n"
               "  NNS_MAX_MODEL_BYTES   bytes of a model file (default 2G)\n"
               "                        (numbers take a K, M or G suffix)\n"
               "  NNS_ISA               scalar|avx2|avx512|avx512vnni|avxvnni|avx512bf16:\n"
               "                        a lower kernel level than the CPU's\n");
}

/* OpenMP threads that wait at a barrier spin for a while (libgomp: 300,000
 * iterations) before sleeping. On a shared machine, where another process
 * holds a core, the spinning thread burns the time slice its partner needs,
 * and a 2-thread training step became 10x slower than 1 thread (lenet5:
 * 311 vs 3,014 images/s at load 6 on 2 cores); a short spin
 * (GOMP_SPINCOUNT=1000) gave 2,915 in the same conditions. On an idle
 * machine the long spin is the faster one (a thread that sleeps between two
 * small parallel regions costs a wake-up: vggsmall half-channels at batch 64
 * ran at 14,500 images/s spinning and 7,700-12,400 with the short spin).
 * libgomp reads its settings once, before main, so the command looks at how
 * busy the other CPUs are over 30 ms and, when other processes use half a
 * CPU or more, re-executes itself once with the short spin; never when the
 * user chose OMP_WAIT_POLICY or GOMP_SPINCOUNT. */
static int read_cpu_times(unsigned long long *busy, unsigned long long *total) {
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return -1;
    unsigned long long v[8] = {0};
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                   &v[6], &v[7]);
    fclose(f);
    if (n < 4) return -1;
    *busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]; /* user nice system irq softirq steal */
    *total = *busy + v[3] + v[4];                      /* + idle iowait */
    return 0;
}

/* CPUs' worth of time other processes used over the last 30 ms (we sleep
 * meanwhile), or -1 if unknown. */
static double others_busy(void) {
    unsigned long long b0, t0, b1, t1;
    if (read_cpu_times(&b0, &t0)) return -1;
    struct timespec ts = {0, 30 * 1000 * 1000};
    nanosleep(&ts, NULL);
    if (read_cpu_times(&b1, &t1) || t1 <= t0) return -1;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    return (double)(b1 - b0) / (double)(t1 - t0) * (double)(ncpu > 0 ? ncpu : 1);
}

static void set_spin(char **argv) {
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT") || getenv("NNS_SPIN_SET")) return;
    if (setenv("NNS_SPIN_SET", "1", 1)) return;
    const double busy = others_busy();
    if (busy >= 0 && busy < 0.5) return; /* idle machine: libgomp's long spin */
    if (setenv("GOMP_SPINCOUNT", "1000", 1)) return;
    execv("/proc/self/exe", argv);
    /* could not re-execute: run on with libgomp's defaults */
}

int main(int argc, char **argv) {
    set_spin(argv);
    if (nns_isa_check_env()) { /* an unknown NNS_ISA level */
        fprintf(stderr, "nnslim: %s\n", nns_last_error());
        return CLI_USAGE;
    }
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("nnslim %s\n", NNSLIM_VERSION);
        return CLI_OK;
    }
    for (int i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "nnslim: unknown command '%s' (try 'nnslim --help')\n", argv[1]);
    return CLI_USAGE;
}
