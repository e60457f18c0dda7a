// The plugin table and its C entry points: every call is wrapped so that no
// C++ exception crosses the C ABI (it becomes GENERAL_ERROR).
#include "boardloop/board_plugin.h"

#include "exit_codes.h"
#include "knight_session.h"

#include <cstring>
#include <new>

namespace
{
using knight::Session;

template <typename F> int32_t guarded (void *s, F &&f)
{
    if (s == nullptr)
    {
        return knight::INVALID_ARGUMENTS_ERROR;
    }
    try
    {
        return f (*static_cast<Session *> (s));
    }
    catch (...)
    {
        return knight::GENERAL_ERROR;
    }
}

// Copies `text` into a caller buffer of `max_len` bytes; INVALID_ARGUMENTS if it does not fit.
int32_t copy_out (const std::string &text, char *out, int32_t *len, int32_t max_len)
{
    if (out == nullptr || len == nullptr || max_len < 0 ||
        text.size () > static_cast<size_t> (max_len))
    {
        return knight::INVALID_ARGUMENTS_ERROR;
    }
    std::memcpy (out, text.data (), text.size ());
    *len = static_cast<int32_t> (text.size ());
    return knight::STATUS_OK;
}

void *create (const char *json, int32_t *exit_code)
{
    int32_t dummy = 0;
    int32_t &code = exit_code ? *exit_code : dummy;
    try
    {
        knight::Params p;
        std::string err;
        if (!knight::parse_params (json, p, err))
        {
            code = knight::INVALID_ARGUMENTS_ERROR;
            return nullptr;
        }
        code = knight::STATUS_OK;
        return new Session (std::move (p));
    }
    catch (...)
    {
        code = knight::GENERAL_ERROR;
        return nullptr;
    }
}

void destroy (void *s)
{
    try
    {
        delete static_cast<Session *> (s);
    }
    catch (...)
    {
        // Nothing can be reported from a destructor call; the session is gone.
    }
}

int32_t prepare_session (void *s)
{
    return guarded (s, [] (Session &x) { return x.prepare_session (); });
}

int32_t start_stream (void *s, int32_t size)
{
    return guarded (s, [size] (Session &x) { return x.start_stream (size); });
}

int32_t stop_stream (void *s)
{
    return guarded (s, [] (Session &x) { return x.stop_stream (); });
}

int32_t release_session (void *s)
{
    return guarded (s, [] (Session &x) { return x.release_session (); });
}

int32_t config_board (void *s, const char *config, char *response, int32_t *len, int32_t max_len)
{
    if (config == nullptr)
    {
        return knight::INVALID_ARGUMENTS_ERROR;
    }
    return guarded (s, [&] (Session &x) {
        std::string reply;
        int32_t res = x.config_board (config, reply);
        if (res != knight::STATUS_OK)
        {
            return res;
        }
        return copy_out (reply, response, len, max_len);
    });
}

int32_t insert_marker (void *s, double value)
{
    return guarded (s, [value] (Session &x) { return x.insert_marker (value); });
}

int32_t get_board_data_count (void *s, int32_t *count)
{
    if (count == nullptr)
    {
        return knight::INVALID_ARGUMENTS_ERROR;
    }
    return guarded (s, [count] (Session &x) { return x.get_board_data_count (count); });
}

int32_t get_board_data (void *s, int32_t count, double *buf)
{
    return guarded (s, [count, buf] (Session &x) { return x.get_board_data (count, buf); });
}

int32_t get_stats (void *s, char *json, int32_t *len, int32_t max_len)
{
    return guarded (
        s, [&] (Session &x) { return copy_out (x.stats_json (), json, len, max_len); });
}

const char *last_error (void *s)
{
    return s ? static_cast<Session *> (s)->last_error () : nullptr;
}

const boardloop_board_plugin table = {
    BOARDLOOP_PLUGIN_ABI_VERSION,
    sizeof (boardloop_board_plugin),
    "knight-cpp",
    57, // NEUROPAWN_KNIGHT_BOARD
    knight::num_rows,
    create,
    destroy,
    prepare_session,
    start_stream,
    stop_stream,
    release_session,
    config_board,
    insert_marker,
    get_board_data_count,
    get_board_data,
    get_stats,
    last_error,
};
} // namespace

extern "C" __attribute__ ((visibility ("default"))) const boardloop_board_plugin *
boardloop_plugin_v1 (void)
{
    return &table;
}
