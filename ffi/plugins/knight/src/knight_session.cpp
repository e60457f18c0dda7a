#include "knight_session.h"

#include "exit_codes.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>

namespace knight
{
namespace
{
// BrainFlow's MAX_CAPTURE_SAMPLES.
constexpr int32_t max_capture_samples = 86400 * 250;
// Reader poll interval: bounds the latency of stop_stream.
constexpr int poll_ms = 20;
// Config replies: first byte within 1 s (BrainFlow's port timeout), complete
// after 150 ms of silence, never longer than 5 s or 4096 bytes.
constexpr int reply_first_ms = 1000;
constexpr int reply_idle_ms = 150;
constexpr int reply_max_ms = 5000;
constexpr size_t reply_max_bytes = 4096;

double unix_now ()
{
    using namespace std::chrono;
    return duration<double> (system_clock::now ().time_since_epoch ()).count ();
}

std::string json_escape (const std::string &s)
{
    std::string o;
    for (char c : s)
    {
        if (c == '"' || c == '\\')
        {
            o.push_back ('\\');
            o.push_back (c);
        }
        else if (static_cast<unsigned char> (c) < 0x20)
        {
            o += ' ';
        }
        else
        {
            o.push_back (c);
        }
    }
    return o;
}
} // namespace

void RingBuffer::push (const Row &row)
{
    size_t slot = (head_ + count_) % capacity_;
    if (count_ == capacity_)
    {
        // Full: overwrite the oldest.
        slot = head_;
        head_ = (head_ + 1) % capacity_;
    }
    else
    {
        count_++;
    }
    std::memcpy (&data_[slot * num_rows], row.data (), sizeof (double) * num_rows);
}

void RingBuffer::pop_oldest (size_t n, double *out)
{
    for (size_t s = 0; s < n; s++)
    {
        const double *sample = &data_[((head_ + s) % capacity_) * num_rows];
        for (size_t r = 0; r < static_cast<size_t> (num_rows); r++)
        {
            out[r * n + s] = sample[r];
        }
    }
    head_ = (head_ + n) % capacity_;
    count_ -= n;
}

Session::~Session ()
{
    if (prepared_)
    {
        release_session ();
    }
}

int32_t Session::fail (int32_t code, std::string message)
{
    error_ = std::move (message);
    return code;
}

int32_t Session::no_buffer ()
{
    return prepared_ ? fail (INVALID_ARGUMENTS_ERROR, "no buffer: start_stream was not called") :
                       fail (BOARD_NOT_CREATED_ERROR, "session is not prepared");
}

int32_t Session::prepare_session ()
{
    if (prepared_)
    {
        return STATUS_OK;
    }
    if (params_.serial_port.empty ())
    {
        return fail (INVALID_ARGUMENTS_ERROR, "serial port is empty");
    }
    std::string err;
    int32_t res = port_.open (params_.serial_port, err);
    if (res != STATUS_OK)
    {
        return fail (res, err);
    }
    std::lock_guard<std::mutex> g (mutex_);
    link_error_.clear ();
    ring_.reset ();
    markers_.clear ();
    prepared_ = true;
    return STATUS_OK;
}

int32_t Session::start_stream (int32_t buffer_size)
{
    if (!prepared_)
    {
        return fail (BOARD_NOT_CREATED_ERROR, "session is not prepared");
    }
    if (reader_.joinable ())
    {
        return fail (STREAM_ALREADY_RUN_ERROR, "stream is already running");
    }
    if (buffer_size <= 0 || buffer_size > max_capture_samples)
    {
        return fail (INVALID_BUFFER_SIZE_ERROR,
            "buffer size " + std::to_string (buffer_size) + " not in 1..=" +
                std::to_string (max_capture_samples));
    }
    {
        std::lock_guard<std::mutex> g (mutex_);
        ring_ = std::make_unique<RingBuffer> (static_cast<size_t> (buffer_size));
        decoder_.reset_stream ();
        link_error_.clear ();
        bytes_read_ = 0;
    }
    // The board streams all the time: what arrived before now is stale.
    if (!port_.flush_input ())
    {
        return fail (INCOMMING_MSG_ERROR, "unable to flush " + params_.serial_port);
    }
    keep_alive_ = true;
    try
    {
        reader_ = std::thread ([this] { reader_loop (); });
    }
    catch (const std::exception &e)
    {
        keep_alive_ = false;
        return fail (STREAM_THREAD_ERROR, std::string ("unable to start reader: ") + e.what ());
    }
    return STATUS_OK;
}

void Session::reader_loop ()
{
    std::vector<uint8_t> buf (4096);
    std::vector<Row> rows;
    while (keep_alive_)
    {
        std::string err;
        long n = port_.read (buf.data (), buf.size (), poll_ms, err);
        if (n == 0)
        {
            continue;
        }
        if (n < 0)
        {
            std::lock_guard<std::mutex> g (mutex_);
            link_error_ = "link to " + params_.serial_port + " lost while streaming: " + err;
            break;
        }
        double now = unix_now ();
        std::lock_guard<std::mutex> g (mutex_);
        bytes_read_ += static_cast<uint64_t> (n);
        decoder_.push (buf.data (), static_cast<size_t> (n), rows);
        for (Row &row : rows)
        {
            row[timestamp_row] = now;
            if (!markers_.empty ())
            {
                row[marker_row] = markers_.front ();
                markers_.pop_front ();
            }
            if (ring_)
            {
                ring_->push (row);
            }
        }
        rows.clear ();
    }
}

int32_t Session::stop_stream ()
{
    if (!reader_.joinable ())
    {
        return fail (STREAM_THREAD_IS_NOT_RUNNING, "stream is not running");
    }
    keep_alive_ = false;
    reader_.join ();
    std::lock_guard<std::mutex> g (mutex_);
    if (!link_error_.empty ())
    {
        return fail (INCOMMING_MSG_ERROR, link_error_);
    }
    return STATUS_OK;
}

int32_t Session::release_session ()
{
    if (!prepared_)
    {
        return fail (BOARD_NOT_CREATED_ERROR, "session is not prepared");
    }
    if (reader_.joinable ())
    {
        stop_stream ();
    }
    port_.close ();
    std::lock_guard<std::mutex> g (mutex_);
    ring_.reset ();
    markers_.clear ();
    prepared_ = false;
    return STATUS_OK;
}

std::string Session::read_reply ()
{
    using clock = std::chrono::steady_clock;
    auto hard_stop = clock::now () + std::chrono::milliseconds (reply_max_ms);
    std::string got;
    uint8_t buf[256];
    for (;;)
    {
        std::string err;
        long n = port_.read (buf, sizeof buf, got.empty () ? reply_first_ms : reply_idle_ms, err);
        if (n <= 0)
        {
            break;
        }
        got.append (reinterpret_cast<const char *> (buf), static_cast<size_t> (n));
        if (got.size () >= reply_max_bytes || clock::now () > hard_stop)
        {
            got.resize (std::min (got.size (), reply_max_bytes));
            break;
        }
    }
    return got;
}

int32_t Session::config_board (const char *config, std::string &reply)
{
    reply.clear ();
    if (!prepared_)
    {
        return fail (BOARD_NOT_READY_ERROR, "session is not prepared");
    }
    {
        std::lock_guard<std::mutex> g (mutex_);
        if (!link_error_.empty ())
        {
            return fail (BOARD_WRITE_ERROR, link_error_);
        }
    }
    std::string err;
    // Writing while the reader reads is safe: the port is full duplex.
    if (!port_.write_all (reinterpret_cast<const uint8_t *> (config), std::strlen (config), err))
    {
        return fail (BOARD_WRITE_ERROR,
            "unable to write \"" + std::string (config) + "\" to " + params_.serial_port + ": " +
                err);
    }
    if (!reader_.joinable ())
    {
        // While streaming a reply would be mixed with packets: none is read.
        reply = read_reply ();
    }
    return STATUS_OK;
}

int32_t Session::insert_marker (double value)
{
    if (value == 0.0 || !std::isfinite (value))
    {
        return fail (INVALID_ARGUMENTS_ERROR, "marker value is reserved or not finite");
    }
    if (!prepared_)
    {
        return fail (BOARD_NOT_CREATED_ERROR, "session is not prepared");
    }
    std::lock_guard<std::mutex> g (mutex_);
    markers_.push_back (value);
    return STATUS_OK;
}

int32_t Session::get_board_data_count (int32_t *count)
{
    std::lock_guard<std::mutex> g (mutex_);
    if (!ring_)
    {
        return no_buffer ();
    }
    *count = static_cast<int32_t> (ring_->count ());
    return STATUS_OK;
}

int32_t Session::get_board_data (int32_t count, double *buf)
{
    if (count <= 0 || buf == nullptr)
    {
        return fail (INVALID_ARGUMENTS_ERROR, "count must be positive and buf non-null");
    }
    std::lock_guard<std::mutex> g (mutex_);
    if (!ring_)
    {
        return no_buffer ();
    }
    if (static_cast<size_t> (count) > ring_->count ())
    {
        return fail (INVALID_ARGUMENTS_ERROR,
            "asked for " + std::to_string (count) + " samples, " +
                std::to_string (ring_->count ()) + " buffered");
    }
    ring_->pop_oldest (static_cast<size_t> (count), buf);
    return STATUS_OK;
}

std::string Session::stats_json ()
{
    std::lock_guard<std::mutex> g (mutex_);
    const DecodeStats &s = decoder_.stats ();
    std::string j = "{\"packets\":" + std::to_string (s.packets) +
        ",\"rows\":" + std::to_string (s.rows) +
        ",\"lost_packets\":" + std::to_string (s.lost_packets) +
        ",\"garbage_bytes\":" + std::to_string (s.garbage_bytes) +
        ",\"bad_end_bytes\":" + std::to_string (s.bad_end_bytes) +
        ",\"resyncs\":" + std::to_string (s.resyncs) +
        ",\"bytes_read\":" + std::to_string (bytes_read_) + ",\"link_error\":";
    j += link_error_.empty () ? std::string ("null") : "\"" + json_escape (link_error_) + "\"";
    j += "}";
    return j;
}
} // namespace knight
