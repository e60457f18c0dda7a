/* A scripted plugin for PluginBoard's tests; variants by -D flags:
 * BAD_VERSION, SMALL_STRUCT, NULL_ENTRY, NULL_TABLE, NO_ENTRY_SYMBOL. */
#include <stdlib.h>
#include <string.h>

#include "boardloop/board_plugin.h"

typedef struct {
    int fail_prepare;
    int negative_count;
    int bad_code;
    int streaming;
    double marker;
    const char *err;
} session;

static void *create(const char *json, int32_t *code) {
    if (strstr(json, "refuse")) { *code = 13; return NULL; }
    session *s = calloc(1, sizeof *s);
    s->fail_prepare = strstr(json, "fail_prepare") != NULL;
    s->negative_count = strstr(json, "negative") != NULL;
    s->bad_code = strstr(json, "bad_code") != NULL;
    *code = 0;
    return s;
}
static void destroy(void *p) { free(p); }
static int32_t prepare(void *p) {
    session *s = p;
    if (s->fail_prepare) { s->err = "unable to open /dev/nothing"; return 2; }
    return 0;
}
static int32_t start(void *p, int32_t n) {
    session *s = p;
    if (n <= 0) { s->err = "bad size"; return 9; }
    if (s->bad_code) return 99;
    s->streaming = 1;
    return 0;
}
static int32_t stop(void *p) { session *s = p; if (!s->streaming) return 11; s->streaming = 0; return 0; }
static int32_t release(void *p) { (void)p; return 0; }
__attribute__((unused)) static int32_t config(void *p, const char *c, char *r, int32_t *len, int32_t max) {
    (void)p;
    int n = (int)strlen(c) + 4;
    if (n > max) return 13;
    memcpy(r, "re: ", 4);
    memcpy(r + 4, c, strlen(c));
    *len = n;
    return 0;
}
static int32_t marker(void *p, double v) { session *s = p; if (v == 0.0) { s->err = "zero marker"; return 13; } s->marker = v; return 0; }
static int32_t count(void *p, int32_t *n) { session *s = p; *n = s->negative_count ? -5 : 2; return 0; }
static int32_t data(void *p, int32_t n, double *buf) {
    session *s = p;
    for (int r = 0; r < 3; r++)
        for (int i = 0; i < n; i++) buf[r * n + i] = r * 10 + i + (r == 2 ? s->marker : 0);
    return 0;
}
static int32_t stats(void *p, char *j, int32_t *len, int32_t max) {
    (void)p;
    const char *t = "{\"packets\":7,\"rows\":6,\"lost_packets\":3,\"garbage_bytes\":12,\"bytes_read\":99,\"link_error\":\"gone\"}";
    int n = (int)strlen(t);
    if (n > max) return 13;
    memcpy(j, t, n);
    *len = n;
    return 0;
}
static const char *last_error(void *p) { return ((session *)p)->err; }

static const boardloop_board_plugin table = {
#ifdef BAD_VERSION
    2,
#else
    BOARDLOOP_PLUGIN_ABI_VERSION,
#endif
#ifdef SMALL_STRUCT
    8,
#else
    sizeof(boardloop_board_plugin),
#endif
    "fake", 57, 3, create, destroy, prepare, start, stop, release,
#ifdef NULL_ENTRY
    NULL,
#else
    config,
#endif
    marker, count, data, stats, last_error,
};

#ifdef NO_ENTRY_SYMBOL
const boardloop_board_plugin *some_other_name(void) { return &table; }
#else
const boardloop_board_plugin *boardloop_plugin_v1(void) {
#ifdef NULL_TABLE
    (void)table;
    return NULL;
#else
    return &table;
#endif
}
#endif
