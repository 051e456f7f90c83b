/*
 * replay.c — runs a fuzz target's LLVMFuzzerTestOneInput over files, without
 * libFuzzer: the corpus and the regression inputs become an ordinary test
 * (CTest fuzz_replay_<target>, release and sanitizer builds).
 *
 *   fuzz_replay_<target> FILE_OR_DIR...
 *
 * A directory is read one level deep (its regular files, in name order). The
 * target aborts on a broken promise and the sanitizers on a memory error, so
 * success is simply getting through every file; the count is printed so that
 * an empty corpus directory shows.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read a whole regular file (inputs are small: at most 64 MiB). */
static int read_file(const char *path, uint8_t **buf, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    while (b) {
        n += fread(b + n, 1, cap - n, f);
        if (n < cap || cap >= (64u << 20)) break;
        uint8_t *nb = realloc(b, cap * 2);
        if (!nb) {
            free(b);
            b = NULL;
        } else {
            b = nb;
            cap *= 2;
        }
    }
    int bad = ferror(f) || !b || n == cap;
    fclose(f);
    if (bad) {
        free(b);
        return -1;
    }
    *buf = b;
    *len = n;
    return 0;
}

static int run_file(const char *path) {
    uint8_t *buf = NULL;
    size_t len = 0;
    if (read_file(path, &buf, &len) != 0) {
        fprintf(stderr, "replay: cannot read '%s': %s\n", path, strerror(errno));
        return -1;
    }
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b) {
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Run every regular file of dir; returns the count, or -1 on an error. */
static long run_dir(const char *dir) {
    struct dirent **ents = NULL;
    int n = scandir(dir, &ents, NULL, by_name);
    if (n < 0) {
        fprintf(stderr, "replay: cannot read directory '%s': %s\n", dir, strerror(errno));
        return -1;
    }
    long count = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, ents[i]->d_name);
        if (ents[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(path) != 0) count = -1;
            else if (count >= 0) count++;
        }
        free(ents[i]);
    }
    free(ents);
    return count;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
        return 2;
    }
    long total = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        long n;
        if (stat(argv[i], &st) != 0) {
            /* an absent directory (e.g. no regression input yet) is empty */
            printf("%s: absent, 0 inputs\n", argv[i]);
            continue;
        }
        n = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : (run_file(argv[i]) == 0 ? 1 : -1);
        if (n < 0) return 1;
        printf("%s: %ld inputs\n", argv[i], n);
        total += n;
    }
    printf("replayed %ld inputs, no crash\n", total);
    return 0;
}
