/* The C-level cost of BrainFlow's data calls, for ci/bench-vs-brainflow.sh:
 * the same program on BrainFlow's libBoardController and on ours, each
 * loaded with dlopen, so both are called exactly as a C or C++ program calls
 * them (no Python in the way).
 *
 * Usage: c_calls LIBBOARDCONTROLLER PORT N
 * Prepares a Cyton on PORT, streams until 2N samples are buffered, stops,
 * then times N calls of get_board_data_count and N of get_board_data(1).
 * Prints {"count_us": .., "data_us": ..}. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

typedef int (*prepare_t)(int, const char *);
typedef int (*start_t)(int, const char *, int, const char *);
typedef int (*stop_t)(int, const char *);
typedef int (*count_t)(int, int *, int, const char *);
typedef int (*data_t)(int, int, double *, int, const char *);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *sym(void *lib, const char *name) {
    void *f = dlsym(lib, name);
    if (!f) {
        fprintf(stderr, "c_calls: no %s: %s\n", name, dlerror());
        exit(2);
    }
    return f;
}

#define CHECK(call)                                                   \
    do {                                                              \
        int code_ = (call);                                           \
        if (code_ != 0) {                                             \
            fprintf(stderr, "c_calls: %s gave %d\n", #call, code_); \
            exit(1);                                                  \
        }                                                             \
    } while (0)

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: c_calls LIBBOARDCONTROLLER PORT N\n");
        return 2;
    }
    int n = atoi(argv[3]);
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "c_calls: %s\n", dlerror());
        return 2;
    }
    prepare_t prepare = (prepare_t)sym(lib, "prepare_session");
    start_t start = (start_t)sym(lib, "start_stream");
    stop_t stop = (stop_t)sym(lib, "stop_stream");
    stop_t release = (stop_t)sym(lib, "release_session");
    count_t count = (count_t)sym(lib, "get_board_data_count");
    data_t data = (data_t)sym(lib, "get_board_data");
    ((int (*)(int))sym(lib, "set_log_level_board_controller"))(6);

    /* BrainFlowInputParams as BrainFlow's bindings serialise it. */
    char json[1024];
    snprintf(json, sizeof json,
             "{\"file\": \"\", \"file_anc\": \"\", \"file_aux\": \"\", \"ip_address\": \"\", "
             "\"ip_address_anc\": \"\", \"ip_address_aux\": \"\", \"ip_port\": 0, "
             "\"ip_port_anc\": 0, \"ip_port_aux\": 0, \"ip_protocol\": 0, \"mac_address\": \"\", "
             "\"master_board\": -100, \"other_info\": \"\", \"serial_number\": \"\", "
             "\"serial_port\": \"%s\", \"timeout\": 0}",
             argv[2]);
    const int cyton = 0;
    CHECK(prepare(cyton, json));
    CHECK(start(4 * n, "", cyton, json));
    int have = 0;
    do {
        usleep(10000);
        CHECK(count(0, &have, cyton, json));
    } while (have < 2 * n);
    CHECK(stop(cyton, json));

    double t = now();
    for (int i = 0; i < n; i++) {
        CHECK(count(0, &have, cyton, json));
    }
    double count_us = (now() - t) / n * 1e6;
    /* A Cyton row is 24 values; room for one sample. */
    double buf[64];
    t = now();
    for (int i = 0; i < n; i++) {
        CHECK(data(1, 0, buf, cyton, json));
    }
    double data_us = (now() - t) / n * 1e6;
    CHECK(release(cyton, json));
    printf("{\"count_us\": %.3f, \"data_us\": %.3f}\n", count_us, data_us);
    return 0;
}
