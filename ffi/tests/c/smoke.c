/* Compiles as strict C99 against the generated header and, when linked with
 * libBoardController, checks a few calls that need no device. */
#include <stdio.h>
#include <string.h>

#include "boardloop/board_controller.h"

int main(void)
{
    char descr[16000];
    int len = 0;
    int rows = 0;
    int channels[512];
    int n = 0;
    int failures = 0;

    set_log_level_board_controller(6);
    if (get_board_descr(0, 0, descr, &len, (int)sizeof descr) != 0 || len <= 0) {
        puts("get_board_descr failed");
        failures++;
    }
    if (get_num_rows(0, 0, &rows) != 0 || rows != 24) {
        puts("get_num_rows failed");
        failures++;
    }
    if (get_eeg_channels(0, 0, channels, &n) != 0 || n != 8 || channels[0] != 1) {
        puts("get_eeg_channels failed");
        failures++;
    }
    if (prepare_session(0, "not json") != 17) {
        puts("bad JSON did not give GENERAL_ERROR");
        failures++;
    }
    if (prepare_session(999, "{}") != 17) {
        puts("incomplete JSON did not give GENERAL_ERROR");
        failures++;
    }
    if (release_all_sessions() != 0) {
        puts("release_all_sessions failed");
        failures++;
    }
    printf("C smoke test: %d failure(s); Cyton descr %d bytes, %d rows, MAX_CAPTURE_SAMPLES %d\n",
           failures, len, rows, (int)MAX_CAPTURE_SAMPLES);
    return failures == 0 ? 0 : 1;
}
