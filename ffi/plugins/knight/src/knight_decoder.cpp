#include "knight_decoder.h"

#include <algorithm>

namespace knight
{
namespace
{
// After garbage, how far past a candidate to look for the next start byte;
// bounds what is held back while resynchronising.
constexpr size_t max_confirm_gap = 128;

// BrainFlow 5.23 knight.cpp: float eeg_scale = 4 / float (pow (2, 15) - 1) / 12 * 1000000.;
// the float quotient is widened for * 1e6 and the result stored as float.
float exg_scale ()
{
    return static_cast<float> (static_cast<double> (4.0f / 32767.0f / 12.0f) * 1000000.0);
}
} // namespace

double exg_microvolts (int16_t raw)
{
    // float × int in float, stored into BrainFlow's double row.
    return static_cast<double> (exg_scale () * static_cast<float> (raw));
}

void Decoder::reset_stream ()
{
    buf_.clear ();
    out_of_sync_ = false;
    have_counter_ = false;
}

void Decoder::push (const uint8_t *bytes, size_t len, std::vector<Row> &out)
{
    buf_.insert (buf_.end (), bytes, bytes + len);
    size_t consumed = scan (out);
    buf_.erase (buf_.begin (), buf_.begin () + static_cast<std::ptrdiff_t> (consumed));
}

void Decoder::lose_sync ()
{
    if (!out_of_sync_)
    {
        out_of_sync_ = true;
        stats_.resyncs++;
    }
}

size_t Decoder::scan (std::vector<Row> &out)
{
    size_t pos = 0;
    while (pos < buf_.size ())
    {
        if (buf_[pos] != start_byte)
        {
            lose_sync ();
            auto next = std::find (buf_.begin () + static_cast<std::ptrdiff_t> (pos), buf_.end (),
                start_byte);
            size_t skip = static_cast<size_t> (next - buf_.begin ()) - pos;
            stats_.garbage_bytes += skip;
            pos += skip;
            continue;
        }
        if (buf_.size () - pos < packet_len)
        {
            break;
        }
        if (buf_[pos + packet_len - 1] != end_byte)
        {
            // A real packet may start inside this bogus frame: step one byte.
            stats_.bad_end_bytes++;
            stats_.garbage_bytes++;
            lose_sync ();
            pos++;
            continue;
        }
        if (out_of_sync_)
        {
            Confirm c = confirm (pos);
            if (c == Confirm::wait)
            {
                break;
            }
            if (c == Confirm::reject)
            {
                stats_.garbage_bytes++;
                pos++;
                continue;
            }
            out_of_sync_ = false;
        }
        accept (&buf_[pos], out);
        pos += packet_len;
    }
    return pos;
}

// A candidate after garbage is real if its counter continues the last one,
// or the next packet starts right after it, or the next frame after a gap is
// valid and continues its counter.
Decoder::Confirm Decoder::confirm (size_t pos) const
{
    uint8_t counter = buf_[pos + 1];
    if (have_counter_ && static_cast<uint8_t> (last_counter_ + 1) == counter)
    {
        return Confirm::accept;
    }
    size_t after = pos + packet_len;
    size_t end = std::min (buf_.size (), after + max_confirm_gap);
    for (size_t i = after; i < end; i++)
    {
        if (buf_[i] != start_byte)
        {
            continue;
        }
        if (i == after)
        {
            return Confirm::accept;
        }
        if (buf_.size () - i < packet_len)
        {
            return Confirm::wait;
        }
        bool valid = buf_[i + packet_len - 1] == end_byte &&
            buf_[i + 1] == static_cast<uint8_t> (counter + 1);
        return valid ? Confirm::accept : Confirm::reject;
    }
    return buf_.size () < after + max_confirm_gap ? Confirm::wait : Confirm::reject;
}

void Decoder::accept (const uint8_t *f, std::vector<Row> &out)
{
    uint8_t counter = f[1];
    if (have_counter_)
    {
        stats_.lost_packets += static_cast<uint8_t> (counter - last_counter_ - 1);
    }
    have_counter_ = true;
    last_counter_ = counter;
    stats_.packets++;
    Row row (num_rows, 0.0);
    row[0] = counter;
    for (int ch = 0; ch < 8; ch++)
    {
        auto raw = static_cast<int16_t> (static_cast<uint16_t> ((f[2 + 2 * ch] << 8) | f[3 + 2 * ch]));
        row[1 + ch] = exg_microvolts (raw);
    }
    row[9] = f[18];
    row[10] = f[19];
    out.push_back (std::move (row));
    stats_.rows++;
}
} // namespace knight
