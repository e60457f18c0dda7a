/*
 * boardloop board plugin ABI, version 1 (hand-written; plain C).
 *
 * A board written in C or C++ plugs into boardloop's Rust session layer
 * (boardloop_boards::plugin::PluginBoard) by building a shared library that
 * exports one function:
 *
 *     const boardloop_board_plugin *boardloop_plugin_v1(void);
 *
 * It returns a pointer to a static table that stays valid while the library
 * is loaded. Only C types cross the boundary: JSON text in, BrainFlow exit
 * codes out (0 = STATUS_OK, the values of BrainFlow's brainflow_exit_codes.h,
 * e.g. 2 UNABLE_TO_OPEN_PORT_ERROR, 13 INVALID_ARGUMENTS_ERROR). A C++
 * plugin must catch every exception inside each entry: no exception may
 * cross this ABI.
 *
 * Semantics are BrainFlow's (board_controller.h), per session:
 *  - create() makes an unprepared session from BrainFlow's input-params JSON
 *    (the same keys as BrainFlow: "serial_port", "timeout", "other_info", ...).
 *    It returns NULL on failure and sets *exit_code (always written).
 *  - prepare_session() opens the link (again on a prepared session: 0).
 *  - start_stream(buffer_size) starts the streaming thread into a ring buffer
 *    of buffer_size samples; stop_stream() stops it (buffered data stays);
 *    release_session() stops and closes. destroy() releases and frees.
 *  - config_board() sends `config`; the reply is written to `response`
 *    (at most response_max_len bytes, no NUL needed) and its length to
 *    *response_len.
 *  - get_board_data_count()/get_board_data() expose the default preset only:
 *    get_board_data(count, buf) removes the oldest `count` samples and writes
 *    them channel-major (buf[row * count + sample]); `buf` holds
 *    num_rows * count doubles, num_rows being the board's row count.
 *  - get_stats() writes a JSON object (length in *len, at most max_len bytes)
 *    with the decoder and link counters, all optional:
 *    {"packets":u64,"rows":u64,"lost_packets":u64,"garbage_bytes":u64,
 *     "bad_end_bytes":u64,"resyncs":u64,"bytes_read":u64,
 *     "link_error":string-or-null}
 *  - last_error() returns a NUL-terminated message about the session's most
 *    recent failure (valid until the next call on that session), or NULL.
 *
 * Threading: the host calls one session from one thread at a time; the
 * plugin's own streaming thread must synchronise with those calls.
 *
 * Versioning: abi_version must equal BOARDLOOP_PLUGIN_ABI_VERSION and
 * struct_size must be at least sizeof(boardloop_board_plugin) as the host
 * knows it; later versions only append members, so a host checks
 * struct_size before using a member it does not know to exist.
 */

#ifndef BOARDLOOP_BOARD_PLUGIN_H
#define BOARDLOOP_BOARD_PLUGIN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The ABI version this header describes. */
#define BOARDLOOP_PLUGIN_ABI_VERSION 1u

/** Name of the exported entry point. */
#define BOARDLOOP_PLUGIN_ENTRY "boardloop_plugin_v1"

/** A board implementation: a table of functions over an opaque session. */
typedef struct boardloop_board_plugin {
    /** BOARDLOOP_PLUGIN_ABI_VERSION. */
    uint32_t abi_version;
    /** sizeof(boardloop_board_plugin) as the plugin was compiled. */
    uint32_t struct_size;
    /** Implementation name for messages, e.g. "knight-cpp" (NUL-terminated). */
    const char *name;
    /** BrainFlow board id this implements (57 = NEUROPAWN_KNIGHT_BOARD). */
    int32_t board_id;
    /** Rows per sample of the default preset (BrainFlow's num_rows). */
    int32_t num_rows;

    /** New unprepared session from BrainFlow input-params JSON; NULL + *exit_code on failure. */
    void *(*create)(const char *json_params, int32_t *exit_code);
    /** Releases (if needed) and frees a session; NULL is ignored. */
    void (*destroy)(void *session);
    /** Opens the link; BrainFlow's prepare_session. */
    int32_t (*prepare_session)(void *session);
    /** Starts streaming into a ring buffer of buffer_size samples. */
    int32_t (*start_stream)(void *session, int32_t buffer_size);
    /** Stops streaming; fails if the link was lost while streaming. */
    int32_t (*stop_stream)(void *session);
    /** Stops and closes the link. */
    int32_t (*release_session)(void *session);
    /** Sends `config` (NUL-terminated); writes the reply and its length. */
    int32_t (*config_board)(void *session, const char *config, char *response,
                            int32_t *response_len, int32_t response_max_len);
    /** Queues a marker for the next sample (0.0 is invalid, as in BrainFlow). */
    int32_t (*insert_marker)(void *session, double value);
    /** Samples buffered in the default preset. */
    int32_t (*get_board_data_count)(void *session, int32_t *count);
    /** Removes the oldest `count` samples into buf (num_rows * count doubles). */
    int32_t (*get_board_data)(void *session, int32_t count, double *buf);
    /** Writes the statistics JSON and its length. */
    int32_t (*get_stats)(void *session, char *json, int32_t *len, int32_t max_len);
    /** The last failure's message, or NULL. */
    const char *(*last_error)(void *session);
} boardloop_board_plugin;

/** The entry point every plugin exports. */
typedef const boardloop_board_plugin *(*boardloop_plugin_entry_fn)(void);

/** Declared for plugins implementing it. */
const boardloop_board_plugin *boardloop_plugin_v1(void);

#ifdef __cplusplus
}
#endif

#endif /* BOARDLOOP_BOARD_PLUGIN_H */
