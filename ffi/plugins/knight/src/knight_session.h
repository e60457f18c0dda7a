// One NeuroPawn Knight session with BrainFlow 5.23's behaviour: prepare opens
// the port (no handshake), start flushes input and starts the reader thread
// (no start command), stop joins it (no stop command), config passes text
// through. Exit codes and messages mirror boards/src/knight_board.rs.
#pragma once

#include "knight_decoder.h"
#include "params_json.h"
#include "serial_port.h"

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace knight
{
/// Fixed-capacity sample store; when full the oldest sample is overwritten.
class RingBuffer
{
public:
    explicit RingBuffer (size_t capacity) : data_ (capacity * num_rows), capacity_ (capacity)
    {
    }
    void push (const Row &row);
    size_t count () const
    {
        return count_;
    }
    /// Removes the oldest `n` (<= count) samples into `out`, channel-major.
    void pop_oldest (size_t n, double *out);

private:
    std::vector<double> data_;
    size_t capacity_;
    size_t head_ = 0; // index of the oldest sample
    size_t count_ = 0;
};

class Session
{
public:
    explicit Session (Params params) : params_ (std::move (params))
    {
    }
    ~Session ();
    Session (const Session &) = delete;
    Session &operator= (const Session &) = delete;

    int32_t prepare_session ();
    int32_t start_stream (int32_t buffer_size);
    int32_t stop_stream ();
    int32_t release_session ();
    int32_t config_board (const char *config, std::string &reply);
    int32_t insert_marker (double value);
    int32_t get_board_data_count (int32_t *count);
    int32_t get_board_data (int32_t count, double *buf);
    std::string stats_json ();
    const char *last_error () const
    {
        return error_.empty () ? nullptr : error_.c_str ();
    }

private:
    int32_t fail (int32_t code, std::string message);
    int32_t no_buffer ();
    void reader_loop ();
    std::string read_reply ();

    Params params_;
    std::string error_;
    SerialPort port_;
    bool prepared_ = false;
    std::thread reader_;
    std::atomic<bool> keep_alive_ {false};

    // Shared with the reader thread.
    std::mutex mutex_;
    Decoder decoder_;
    std::unique_ptr<RingBuffer> ring_;
    std::deque<double> markers_;
    std::string link_error_;
    uint64_t bytes_read_ = 0;
};
} // namespace knight
