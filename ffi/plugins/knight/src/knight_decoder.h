// Sans-IO NeuroPawn Knight decoder: bytes in, 13-row samples out. Same
// algorithm as boards/src/codec/knight.rs (exact loss from the counter,
// confirmed resync after garbage), written independently in C++.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace knight
{
constexpr uint8_t start_byte = 0xA0;
constexpr uint8_t end_byte = 0xC0;
constexpr size_t packet_len = 21;
constexpr int num_rows = 13;
constexpr int timestamp_row = 11;
constexpr int marker_row = 12;

/// Counters a harness asserts on.
struct DecodeStats
{
    uint64_t packets = 0;
    uint64_t rows = 0;
    uint64_t lost_packets = 0;
    uint64_t garbage_bytes = 0;
    uint64_t bad_end_bytes = 0;
    uint64_t resyncs = 0;
};

/// One sample: BrainFlow's Knight layout (timestamp and marker left 0).
using Row = std::vector<double>;

/// µV for a raw count, with BrainFlow 5.23's single-precision arithmetic.
double exg_microvolts (int16_t raw);

class Decoder
{
public:
    /// Consumes bytes; appends completed rows to `out`.
    void push (const uint8_t *bytes, size_t len, std::vector<Row> &out);
    /// A new stream: forget the counter and partial bytes, keep the stats.
    void reset_stream ();
    const DecodeStats &stats () const
    {
        return stats_;
    }

private:
    enum class Confirm
    {
        accept,
        reject,
        wait
    };
    size_t scan (std::vector<Row> &out);
    Confirm confirm (size_t pos) const;
    void accept (const uint8_t *frame, std::vector<Row> &out);
    void lose_sync ();

    std::vector<uint8_t> buf_;
    bool out_of_sync_ = false;
    bool have_counter_ = false;
    uint8_t last_counter_ = 0;
    DecodeStats stats_;
};
} // namespace knight
