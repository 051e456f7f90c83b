/* main.c — the nnslim command: dispatch to subcommands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    {"profile", "time every node of a model's inference (where the time goes)", cmd_profile},
    {"run", "run a model on a .npy input, write the output as .npy", cmd_run},
};
#define N_COMMANDS (int)(sizeof commands / sizeof commands[0])

static void usage(FILE *f) {
    fprintf(f, "usage: nnslim COMMAND [OPTIONS]\n\n"
               "nnslim trains, prunes and distills neural networks on the CPU (ONNX in,\n"
               "ONNX out); quantization is being built. Commands:\n");
    for (int i = 0; i < N_COMMANDS; i++) fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun 'nnslim COMMAND --help' for a command's options.\n"
               "Exit status: 0 success, 1 bad input or failure, 2 bad usage.\n");
}

/* OpenMP threads that wait at a barrier spin for a while (libgomp: 300,000
 * iterations) before sleeping. On a shared machine, where another process
 * holds a core, the spinning thread burns the time slice its partner needs,
 * and a 2-thread training step became 10x slower than 1 thread (lenet5:
 * 311 vs 3,014 images/s at load 6 on 2 cores). libgomp reads its settings
 * once, before main, so the command re-executes itself once with a short
 * spin (GOMP_SPINCOUNT=1000: 2,915 images/s in the same conditions) unless
 * the user chose OMP_WAIT_POLICY or GOMP_SPINCOUNT. */
static void set_spin(char **argv) {
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT") || getenv("NNS_SPIN_SET")) return;
    if (setenv("GOMP_SPINCOUNT", "1000", 1) || setenv("NNS_SPIN_SET", "1", 1)) return;
    execv("/proc/self/exe", argv);
    /* could not re-execute: run on with libgomp's defaults */
}

int main(int argc, char **argv) {
    set_spin(argv);
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
