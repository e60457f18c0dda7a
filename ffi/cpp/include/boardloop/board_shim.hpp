/*
 * boardloop's C++17 wrapper over libBoardController (BrainFlow's C API as
 * implemented by the Rust boards). Header-only: link boardloop::boardloop
 * (shared) or boardloop::boardloop_static.
 *
 * Every failing C call becomes a boardloop::BoardError carrying BrainFlow's
 * exit code; BoardShim is an RAII session that releases itself on
 * destruction.
 */

#ifndef BOARDLOOP_BOARD_SHIM_HPP
#define BOARDLOOP_BOARD_SHIM_HPP

#include <boardloop/board_controller.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boardloop {

/// BrainFlow's exit codes (the values every C function returns).
enum class ExitCode : int {
    StatusOk = 0,                  ///< Success.
    PortAlreadyOpen = 1,           ///< The port is already open.
    UnableToOpenPort = 2,          ///< The port could not be opened.
    SetPort = 3,                   ///< The port could not be configured.
    BoardWrite = 4,                ///< Writing to the board failed.
    IncommingMsg = 5,              ///< An unexpected message from the board.
    InitialMsg = 6,                ///< The board's first message was wrong.
    BoardNotReady = 7,             ///< The board did not become ready.
    StreamAlreadyRun = 8,          ///< start_stream while streaming.
    InvalidBufferSize = 9,         ///< Ring buffer size out of range.
    StreamThread = 10,             ///< The streaming thread failed.
    StreamThreadIsNotRunning = 11, ///< stop_stream while not streaming.
    EmptyBuffer = 12,              ///< No data in the buffer.
    InvalidArguments = 13,         ///< Bad argument (pointer, size, preset, ...).
    UnsupportedBoard = 14,         ///< Unknown or not implemented board / field.
    BoardNotCreated = 15,          ///< No prepared session for these params.
    AnotherBoardIsCreated = 16,    ///< The session is already prepared.
    GeneralError = 17,             ///< Anything else (bad JSON params, panics).
    SyncTimeout = 18,              ///< Synchronisation timed out.
    JsonNotFound = 19,             ///< A JSON file was not found.
    NoSuchDataInJson = 20,         ///< A JSON key is missing.
};

/// BrainFlow's name for an exit code (as its Python `BrainFlowExitCodes`
/// spells it), or "UNKNOWN_ERROR" for values outside 0..20.
inline const char *exit_code_name(int code) noexcept {
    static const char *const names[] = {
        "STATUS_OK",
        "PORT_ALREADY_OPEN_ERROR",
        "UNABLE_TO_OPEN_PORT_ERROR",
        "SER_PORT_ERROR",
        "BOARD_WRITE_ERROR",
        "INCOMMING_MSG_ERROR",
        "INITIAL_MSG_ERROR",
        "BOARD_NOT_READY_ERROR",
        "STREAM_ALREADY_RUN_ERROR",
        "INVALID_BUFFER_SIZE_ERROR",
        "STREAM_THREAD_ERROR",
        "STREAM_THREAD_IS_NOT_RUNNING",
        "EMPTY_BUFFER_ERROR",
        "INVALID_ARGUMENTS_ERROR",
        "UNSUPPORTED_BOARD_ERROR",
        "BOARD_NOT_CREATED_ERROR",
        "ANOTHER_BOARD_IS_CREATED_ERROR",
        "GENERAL_ERROR",
        "SYNC_TIMEOUT_ERROR",
        "JSON_NOT_FOUND_ERROR",
        "NO_SUCH_DATA_IN_JSON_ERROR",
    };
    if (code < 0 || code >= static_cast<int>(sizeof names / sizeof names[0])) {
        return "UNKNOWN_ERROR";
    }
    return names[code];
}

/// A failed C call: `what()` names the call and the code; `exit_code()`
/// is BrainFlow's numeric code. The library logs the detailed reason to its
/// logger (stderr by default), since the C API returns only the code.
class BoardError : public std::runtime_error {
public:
    /// Builds the error for `call` returning `code`.
    BoardError(int code, const std::string &call)
        : std::runtime_error("boardloop: " + call + " failed: " + exit_code_name(code) + " (" +
                             std::to_string(code) + ")"),
          code_(code) {}

    /// BrainFlow's numeric exit code (never 0).
    int exit_code() const noexcept { return code_; }

    /// The exit code as the enum.
    ExitCode code() const noexcept { return static_cast<ExitCode>(code_); }

    /// BrainFlow's name for the code, e.g. "BOARD_NOT_CREATED_ERROR".
    const char *code_name() const noexcept { return exit_code_name(code_); }

private:
    int code_;
};

namespace detail {

/// Throws BoardError unless `code` is STATUS_OK.
inline void check(int code, const char *call) {
    if (code != 0) {
        throw BoardError(code, call);
    }
}

/// Appends `s` as a JSON string literal (quotes included). Control
/// characters are escaped as JSON requires; other bytes pass through, so the
/// text must be valid UTF-8 (the library refuses anything else with
/// GENERAL_ERROR, as BrainFlow's parser does).
inline void append_json_string(std::string &out, std::string_view s) {
    out += '"';
    for (char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
                out += buf;
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

/// Calls a string getter `f(buf, &len, max_len)` and returns the text. The
/// info getters set `len` to the length needed when the buffer is too small
/// (INVALID_ARGUMENTS_ERROR, nothing written) and have no side effect, so
/// one retry with the needed size is enough.
template <class F> std::string get_string(F f, const char *call) {
    std::string buf(16384, '\0');
    for (int attempt = 0; attempt < 2; ++attempt) {
        int len = 0;
        int code = f(buf.data(), &len, static_cast<int>(buf.size()));
        if (code == 0) {
            buf.resize(static_cast<std::size_t>(len));
            return buf;
        }
        if (code != static_cast<int>(ExitCode::InvalidArguments) ||
            len <= static_cast<int>(buf.size())) {
            throw BoardError(code, call);
        }
        buf.assign(static_cast<std::size_t>(len), '\0');
    }
    throw BoardError(static_cast<int>(ExitCode::InvalidArguments), call);
}

/// Calls a row-list getter `f(board_id, preset, rows, &len)`. BrainFlow's
/// getters need room for `num_rows` ints; 512 is BrainFlow's MAX_CHANNELS.
template <class F> std::vector<int> get_rows(F f, int board_id, int preset, const char *call) {
    std::vector<int> rows(512);
    int len = 0;
    check(f(board_id, preset, rows.data(), &len), call);
    rows.resize(static_cast<std::size_t>(len));
    return rows;
}

} // namespace detail

/// Which of a board's (up to three) streams: BrainFlow's BrainFlowPresets.
enum class Preset : int {
    Default = 0,   ///< The main stream (EXG for most boards).
    Auxiliary = 1, ///< Auxiliary stream (e.g. Muse accel/gyro).
    Ancillary = 2, ///< Ancillary stream (e.g. Muse PPG).
};

/// BrainFlow's board ids, every one of BrainFlow 5.23 (as boardloop_boards::BoardId;
/// ffi/tests/c_header.rs checks they agree). Which of them boardloop implements is
/// in its registry: `boardloop boards`, or get_board_descr failing with
/// UNSUPPORTED_BOARD_ERROR.
enum class BoardIds : int {
    PlaybackFile = -3, ///< BrainFlow's PLAYBACK_FILE_BOARD.
    Streaming = -2, ///< BrainFlow's STREAMING_BOARD.
    Synthetic = -1, ///< BrainFlow's SYNTHETIC_BOARD.
    Cyton = 0, ///< BrainFlow's CYTON_BOARD.
    Ganglion = 1, ///< BrainFlow's GANGLION_BOARD.
    CytonDaisy = 2, ///< BrainFlow's CYTON_DAISY_BOARD.
    Galea = 3, ///< BrainFlow's GALEA_BOARD.
    GanglionWifi = 4, ///< BrainFlow's GANGLION_WIFI_BOARD.
    CytonWifi = 5, ///< BrainFlow's CYTON_WIFI_BOARD.
    CytonDaisyWifi = 6, ///< BrainFlow's CYTON_DAISY_WIFI_BOARD.
    BrainBit = 7, ///< BrainFlow's BRAINBIT_BOARD.
    Unicorn = 8, ///< BrainFlow's UNICORN_BOARD.
    CallibriEeg = 9, ///< BrainFlow's CALLIBRI_EEG_BOARD.
    CallibriEmg = 10, ///< BrainFlow's CALLIBRI_EMG_BOARD.
    CallibriEcg = 11, ///< BrainFlow's CALLIBRI_ECG_BOARD.
    Notion1 = 13, ///< BrainFlow's NOTION_1_BOARD.
    Notion2 = 14, ///< BrainFlow's NOTION_2_BOARD.
    GforcePro = 16, ///< BrainFlow's GFORCE_PRO_BOARD.
    FreeEeg32 = 17, ///< BrainFlow's FREEEEG32_BOARD.
    BrainBitBled = 18, ///< BrainFlow's BRAINBIT_BLED_BOARD.
    GforceDual = 19, ///< BrainFlow's GFORCE_DUAL_BOARD.
    MuseSBled = 21, ///< BrainFlow's MUSE_S_BLED_BOARD.
    Muse2Bled = 22, ///< BrainFlow's MUSE_2_BLED_BOARD.
    Crown = 23, ///< BrainFlow's CROWN_BOARD.
    AntNeuroEe410 = 24, ///< BrainFlow's ANT_NEURO_EE_410_BOARD.
    AntNeuroEe411 = 25, ///< BrainFlow's ANT_NEURO_EE_411_BOARD.
    AntNeuroEe430 = 26, ///< BrainFlow's ANT_NEURO_EE_430_BOARD.
    AntNeuroEe211 = 27, ///< BrainFlow's ANT_NEURO_EE_211_BOARD.
    AntNeuroEe212 = 28, ///< BrainFlow's ANT_NEURO_EE_212_BOARD.
    AntNeuroEe213 = 29, ///< BrainFlow's ANT_NEURO_EE_213_BOARD.
    AntNeuroEe214 = 30, ///< BrainFlow's ANT_NEURO_EE_214_BOARD.
    AntNeuroEe215 = 31, ///< BrainFlow's ANT_NEURO_EE_215_BOARD.
    AntNeuroEe221 = 32, ///< BrainFlow's ANT_NEURO_EE_221_BOARD.
    AntNeuroEe222 = 33, ///< BrainFlow's ANT_NEURO_EE_222_BOARD.
    AntNeuroEe223 = 34, ///< BrainFlow's ANT_NEURO_EE_223_BOARD.
    AntNeuroEe224 = 35, ///< BrainFlow's ANT_NEURO_EE_224_BOARD.
    AntNeuroEe225 = 36, ///< BrainFlow's ANT_NEURO_EE_225_BOARD.
    Enophone = 37, ///< BrainFlow's ENOPHONE_BOARD.
    Muse2 = 38, ///< BrainFlow's MUSE_2_BOARD.
    MuseS = 39, ///< BrainFlow's MUSE_S_BOARD.
    BrainAlive = 40, ///< BrainFlow's BRAINALIVE_BOARD.
    Muse2016 = 41, ///< BrainFlow's MUSE_2016_BOARD.
    Muse2016Bled = 42, ///< BrainFlow's MUSE_2016_BLED_BOARD.
    Explore4Chan = 44, ///< BrainFlow's EXPLORE_4_CHAN_BOARD.
    Explore8Chan = 45, ///< BrainFlow's EXPLORE_8_CHAN_BOARD.
    GanglionNative = 46, ///< BrainFlow's GANGLION_NATIVE_BOARD.
    Emotibit = 47, ///< BrainFlow's EMOTIBIT_BOARD.
    NtlWifi = 50, ///< BrainFlow's NTL_WIFI_BOARD.
    AntNeuroEe511 = 51, ///< BrainFlow's ANT_NEURO_EE_511_BOARD.
    FreeEeg128 = 52, ///< BrainFlow's FREEEEG128_BOARD.
    AavaaV3 = 53, ///< BrainFlow's AAVAA_V3_BOARD.
    ExplorePlus8Chan = 54, ///< BrainFlow's EXPLORE_PLUS_8_CHAN_BOARD.
    ExplorePlus32Chan = 55, ///< BrainFlow's EXPLORE_PLUS_32_CHAN_BOARD.
    Pieeg = 56, ///< BrainFlow's PIEEG_BOARD.
    NeuropawnKnight = 57, ///< BrainFlow's NEUROPAWN_KNIGHT_BOARD.
    SynchroniTrio3Channels = 58, ///< BrainFlow's SYNCHRONI_TRIO_3_CHANNELS_BOARD.
    SynchroniOcto8Channels = 59, ///< BrainFlow's SYNCHRONI_OCTO_8_CHANNELS_BOARD.
    Ob50008Channels = 60, ///< BrainFlow's OB5000_8_CHANNELS_BOARD.
    SynchroniPento8Channels = 61, ///< BrainFlow's SYNCHRONI_PENTO_8_CHANNELS_BOARD.
    SynchroniUno1Channels = 62, ///< BrainFlow's SYNCHRONI_UNO_1_CHANNELS_BOARD.
    Ob300024Channels = 63, ///< BrainFlow's OB3000_24_CHANNELS_BOARD.
    Biolistener = 64, ///< BrainFlow's BIOLISTENER_BOARD.
    IronBci32 = 65, ///< BrainFlow's IRONBCI_32_BOARD.
    NeuropawnKnightImu = 66, ///< BrainFlow's NEUROPAWN_KNIGHT_BOARD_IMU.
    MuseSAthena = 67, ///< BrainFlow's MUSE_S_ATHENA_BOARD.
    Shimmer3 = 68, ///< BrainFlow's SHIMMER3_BOARD.
};

/// BrainFlow's input params. `to_json()` always writes all 16 keys, since
/// the library (like BrainFlow) refuses params with a key missing.
struct InputParams {
    std::string serial_port;    ///< Serial device, e.g. "/dev/ttyUSB0".
    std::string mac_address;    ///< BLE MAC address.
    std::string ip_address;     ///< IP address of the board.
    std::string ip_address_aux; ///< IP address of the auxiliary stream.
    std::string ip_address_anc; ///< IP address of the ancillary stream.
    int ip_port = 0;            ///< IP port.
    int ip_port_aux = 0;        ///< IP port of the auxiliary stream.
    int ip_port_anc = 0;        ///< IP port of the ancillary stream.
    int ip_protocol = 0;        ///< BrainFlow's IpProtocolTypes (0 none).
    std::string other_info;     ///< Board-specific extra information.
    int timeout = 0;            ///< Discovery timeout in seconds (0: default).
    std::string serial_number;  ///< Device serial number.
    std::string file;           ///< Playback file (default preset).
    std::string file_aux;       ///< Playback file (auxiliary preset).
    std::string file_anc;       ///< Playback file (ancillary preset).
    int master_board = -100;    ///< Master board for streaming/playback boards (-100: none).

    /// The params as BrainFlow's JSON object, strings escaped.
    std::string to_json() const {
        std::string j = "{";
        auto str = [&j](const char *key, const std::string &v) {
            if (j.size() > 1) j += ", ";
            j += '"';
            j += key;
            j += "\": ";
            detail::append_json_string(j, v);
        };
        auto num = [&j](const char *key, int v) {
            if (j.size() > 1) j += ", ";
            j += '"';
            j += key;
            j += "\": ";
            j += std::to_string(v);
        };
        str("serial_port", serial_port);
        str("mac_address", mac_address);
        str("ip_address", ip_address);
        str("ip_address_aux", ip_address_aux);
        str("ip_address_anc", ip_address_anc);
        num("ip_port", ip_port);
        num("ip_port_aux", ip_port_aux);
        num("ip_port_anc", ip_port_anc);
        num("ip_protocol", ip_protocol);
        str("other_info", other_info);
        num("timeout", timeout);
        str("serial_number", serial_number);
        str("file", file);
        str("file_aux", file_aux);
        str("file_anc", file_anc);
        num("master_board", master_board);
        j += '}';
        return j;
    }
};

/// A read-only view of one row of a Data block (C++17 has no std::span).
/// Valid while the Data it came from is alive and unmodified.
class RowView {
public:
    /// A view of `size` doubles at `data`.
    RowView(const double *data, std::size_t size) noexcept : data_(data), size_(size) {}
    /// First value.
    const double *data() const noexcept { return data_; }
    /// Number of samples.
    std::size_t size() const noexcept { return size_; }
    /// True if there are no samples.
    bool empty() const noexcept { return size_ == 0; }
    /// Sample `i` (unchecked).
    const double &operator[](std::size_t i) const noexcept { return data_[i]; }
    /// Sample `i`; std::out_of_range if `i >= size()`.
    const double &at(std::size_t i) const {
        if (i >= size_) throw std::out_of_range("boardloop::RowView::at");
        return data_[i];
    }
    /// Iterator to the first sample.
    const double *begin() const noexcept { return data_; }
    /// Iterator past the last sample.
    const double *end() const noexcept { return data_ + size_; }

private:
    const double *data_;
    std::size_t size_;
};

/// A block of samples as BrainFlow returns it: `rows()` rows × `samples()`
/// samples, channel-major (`values()[row * samples() + sample]`).
class Data {
public:
    /// An empty block with no rows.
    Data() = default;
    /// Takes `values` (must hold `rows * samples` doubles, channel-major).
    Data(std::size_t rows, std::size_t samples, std::vector<double> values)
        : rows_(rows), samples_(samples), values_(std::move(values)) {
        if (values_.size() != rows_ * samples_) {
            throw std::invalid_argument("boardloop::Data: values.size() != rows * samples");
        }
    }
    /// Number of rows (the board's num_rows for the preset).
    std::size_t rows() const noexcept { return rows_; }
    /// Number of samples (columns).
    std::size_t samples() const noexcept { return samples_; }
    /// True if there are no samples.
    bool empty() const noexcept { return samples_ == 0; }
    /// All values, channel-major.
    const std::vector<double> &values() const noexcept { return values_; }
    /// Row `r` (e.g. an EEG channel index from get_eeg_channels);
    /// std::out_of_range if `r >= rows()`.
    RowView row(std::size_t r) const {
        if (r >= rows_) throw std::out_of_range("boardloop::Data::row");
        return RowView(values_.data() + r * samples_, samples_);
    }
    /// Value of row `r`, sample `s` (checked).
    double at(std::size_t r, std::size_t s) const { return row(r).at(s); }

private:
    std::size_t rows_ = 0;
    std::size_t samples_ = 0;
    std::vector<double> values_;
};

/// An RAII board session over BrainFlow's C API. Sessions are keyed by
/// (board id, params JSON) inside the library; this object releases the
/// session it prepared when destroyed (errors there are swallowed).
/// Movable, not copyable. Calls on one object are not synchronised: use one
/// object per thread or lock around it (the library itself is thread-safe).
class BoardShim {
public:
    /// Default ring buffer size (BrainFlow's: 1800 s at 250 Hz).
    static constexpr int default_buffer_size = 450000;

    /// A session for `board_id` with `params`. Nothing happens on the board
    /// until prepare_session().
    BoardShim(int board_id, const InputParams &params)
        : board_id_(board_id), json_(params.to_json()) {}

    /// Same, with a board id enum.
    BoardShim(BoardIds board_id, const InputParams &params)
        : BoardShim(static_cast<int>(board_id), params) {}

    /// Not copyable: two owners would both release the one library session.
    BoardShim(const BoardShim &) = delete;
    /// Not copyable (see the copy constructor).
    BoardShim &operator=(const BoardShim &) = delete;

    /// Takes over `other`'s session; `other` is left empty (its destructor
    /// releases nothing; further calls on it throw GENERAL_ERROR, since its
    /// params are empty and the library refuses empty JSON).
    BoardShim(BoardShim &&other) noexcept
        : board_id_(other.board_id_), json_(std::move(other.json_)),
          owns_session_(std::exchange(other.owns_session_, false)) {
        other.json_.clear();
    }

    /// Releases this object's session (if it prepared one), then takes over
    /// `other`'s.
    BoardShim &operator=(BoardShim &&other) noexcept {
        if (this != &other) {
            release_quietly();
            board_id_ = other.board_id_;
            json_ = std::move(other.json_);
            other.json_.clear();
            owns_session_ = std::exchange(other.owns_session_, false);
        }
        return *this;
    }

    /// Releases the session if this object prepared it and has not released
    /// it; never throws.
    ~BoardShim() { release_quietly(); }

    /// The board id.
    int board_id() const noexcept { return board_id_; }

    /// The params JSON sent with every call (the session key).
    const std::string &params_json() const noexcept { return json_; }

    /// Opens the link and performs the board's handshake.
    void prepare_session() {
        detail::check(::prepare_session(board_id_, json_.c_str()), "prepare_session");
        owns_session_ = true;
    }

    /// Starts streaming into a ring buffer of `buffer_size` samples.
    /// `streamer` is BrainFlow's streamer string ("" for none), added to the
    /// default preset before the stream starts.
    void start_stream(int buffer_size = default_buffer_size, const std::string &streamer = "") {
        detail::check(::start_stream(buffer_size, streamer.c_str(), board_id_, json_.c_str()),
                      "start_stream");
    }

    /// Stops streaming; buffered data stays readable.
    void stop_stream() { detail::check(::stop_stream(board_id_, json_.c_str()), "stop_stream"); }

    /// Stops any stream, closes the link and forgets the session.
    void release_session() {
        // Whatever the outcome, this object no longer owns a session: a failed
        // release (e.g. never prepared) must not be retried by the destructor.
        owns_session_ = false;
        detail::check(::release_session(board_id_, json_.c_str()), "release_session");
    }

    /// True if the library has a prepared session for this id and params
    /// (possibly prepared by another object with the same key).
    bool is_prepared() const {
        int prepared = 0;
        detail::check(::is_prepared(&prepared, board_id_, json_.c_str()), "is_prepared");
        return prepared != 0;
    }

    /// Sends `config` and returns the board's reply (empty while streaming).
    std::string config_board(const std::string &config) {
        // The command is sent before the reply is measured, so a retry with a
        // bigger buffer would send it twice: allocate generously once.
        std::string reply(65536, '\0');
        int len = 0;
        detail::check(::config_board(config.c_str(), reply.data(), &len,
                                     static_cast<int>(reply.size()), board_id_, json_.c_str()),
                      "config_board");
        reply.resize(static_cast<std::size_t>(len));
        return reply;
    }

    /// Marks the next sample of `preset` with `value` (non-zero).
    void insert_marker(double value, Preset preset = Preset::Default) {
        detail::check(::insert_marker(value, static_cast<int>(preset), board_id_, json_.c_str()),
                      "insert_marker");
    }

    /// Samples buffered for `preset`.
    int get_board_data_count(Preset preset = Preset::Default) const {
        int n = 0;
        detail::check(
            ::get_board_data_count(static_cast<int>(preset), &n, board_id_, json_.c_str()),
            "get_board_data_count");
        return n;
    }

    /// Removes and returns the oldest `max_samples` samples of `preset`
    /// (all buffered samples if `max_samples` is empty or more than are
    /// buffered). Not safe against another reader draining the same session
    /// concurrently: the C call cannot report how many it wrote.
    Data get_board_data(std::optional<int> max_samples = std::nullopt,
                        Preset preset = Preset::Default) {
        if (max_samples && *max_samples < 0) {
            throw BoardError(static_cast<int>(ExitCode::InvalidArguments), "get_board_data");
        }
        const int p = static_cast<int>(preset);
        // Ask first, as BrainFlow's bindings do: with fewer buffered than
        // asked, the library writes them with their count as the row stride.
        int n = get_board_data_count(preset);
        if (max_samples) n = std::min(n, *max_samples);
        const std::size_t rows = num_rows(board_id_, preset);
        if (n == 0) {
            // Nothing to take (the count call has validated the session);
            // an empty vector's data() may be null, which the library refuses.
            return Data(rows, 0, {});
        }
        std::vector<double> values(rows * static_cast<std::size_t>(n));
        detail::check(::get_board_data(n, p, values.data(), board_id_, json_.c_str()),
                      "get_board_data");
        return Data(rows, static_cast<std::size_t>(n), std::move(values));
    }

    /// Copies the newest `max_samples` samples of `preset` (fewer if fewer
    /// are buffered) without removing them.
    Data get_current_board_data(int max_samples, Preset preset = Preset::Default) const {
        if (max_samples < 0) {
            throw BoardError(static_cast<int>(ExitCode::InvalidArguments),
                             "get_current_board_data");
        }
        const std::size_t rows = num_rows(board_id_, preset);
        // At least one element, so data() is never null (refused by the
        // library) even when max_samples is 0.
        std::vector<double> values(
            std::max<std::size_t>(1, rows * static_cast<std::size_t>(max_samples)));
        int got = 0;
        detail::check(::get_current_board_data(max_samples, static_cast<int>(preset),
                                               values.data(), &got, board_id_, json_.c_str()),
                      "get_current_board_data");
        // Written with `got` as the row stride: the prefix is the block.
        values.resize(rows * static_cast<std::size_t>(got));
        return Data(rows, static_cast<std::size_t>(got), std::move(values));
    }

    /// Sampling rate of the prepared session's board in `preset`.
    int get_board_sampling_rate(Preset preset = Preset::Default) const {
        int rate = 0;
        detail::check(::get_board_sampling_rate(static_cast<int>(preset), &rate, board_id_,
                                                json_.c_str()),
                      "get_board_sampling_rate");
        return rate;
    }

    // ---- Static board information (no session needed) ----

    /// Nominal sampling rate (Hz) of `board_id` in `preset`.
    static int get_sampling_rate(int board_id, Preset preset = Preset::Default) {
        return get_int(::get_sampling_rate, board_id, preset, "get_sampling_rate");
    }
    /// Number of rows of a sample.
    static int get_num_rows(int board_id, Preset preset = Preset::Default) {
        return get_int(::get_num_rows, board_id, preset, "get_num_rows");
    }
    /// Row of the packet counter.
    static int get_package_num_channel(int board_id, Preset preset = Preset::Default) {
        return get_int(::get_package_num_channel, board_id, preset, "get_package_num_channel");
    }
    /// Row of the host timestamp (Unix seconds).
    static int get_timestamp_channel(int board_id, Preset preset = Preset::Default) {
        return get_int(::get_timestamp_channel, board_id, preset, "get_timestamp_channel");
    }
    /// Row of the markers.
    static int get_marker_channel(int board_id, Preset preset = Preset::Default) {
        return get_int(::get_marker_channel, board_id, preset, "get_marker_channel");
    }
    /// Row of the battery level (UNSUPPORTED_BOARD_ERROR if none).
    static int get_battery_channel(int board_id, Preset preset = Preset::Default) {
        return get_int(::get_battery_channel, board_id, preset, "get_battery_channel");
    }
    /// EEG rows.
    static std::vector<int> get_eeg_channels(int board_id, Preset preset = Preset::Default) {
        return detail::get_rows(::get_eeg_channels, board_id, static_cast<int>(preset),
                                "get_eeg_channels");
    }
    /// ExG rows (EEG, EMG, ECG, EOG together, sorted).
    static std::vector<int> get_exg_channels(int board_id, Preset preset = Preset::Default) {
        return detail::get_rows(::get_exg_channels, board_id, static_cast<int>(preset),
                                "get_exg_channels");
    }
    /// Accelerometer rows.
    static std::vector<int> get_accel_channels(int board_id, Preset preset = Preset::Default) {
        return detail::get_rows(::get_accel_channels, board_id, static_cast<int>(preset),
                                "get_accel_channels");
    }
    /// Analog rows.
    static std::vector<int> get_analog_channels(int board_id, Preset preset = Preset::Default) {
        return detail::get_rows(::get_analog_channels, board_id, static_cast<int>(preset),
                                "get_analog_channels");
    }
    /// Other rows.
    static std::vector<int> get_other_channels(int board_id, Preset preset = Preset::Default) {
        return detail::get_rows(::get_other_channels, board_id, static_cast<int>(preset),
                                "get_other_channels");
    }
    /// Board description (BrainFlow's JSON layout) of `board_id` in `preset`.
    static std::string get_board_descr(int board_id, Preset preset = Preset::Default) {
        return detail::get_string(
            [&](char *buf, int *len, int max) {
                return ::get_board_descr(board_id, static_cast<int>(preset), buf, len, max);
            },
            "get_board_descr");
    }
    /// Comma-separated EEG electrode names.
    static std::string get_eeg_names(int board_id, Preset preset = Preset::Default) {
        return detail::get_string(
            [&](char *buf, int *len, int max) {
                return ::get_eeg_names(board_id, static_cast<int>(preset), buf, len, max);
            },
            "get_eeg_names");
    }
    /// Device name (e.g. "Cyton").
    static std::string get_device_name(int board_id, Preset preset = Preset::Default) {
        return detail::get_string(
            [&](char *buf, int *len, int max) {
                return ::get_device_name(board_id, static_cast<int>(preset), buf, len, max);
            },
            "get_device_name");
    }
    /// Presets the board has.
    static std::vector<Preset> get_board_presets(int board_id) {
        int raw[3] = {0, 0, 0};
        int len = 0;
        detail::check(::get_board_presets(board_id, raw, &len), "get_board_presets");
        std::vector<Preset> presets;
        for (int i = 0; i < len && i < 3; ++i) presets.push_back(static_cast<Preset>(raw[i]));
        return presets;
    }
    /// The library's version (boardloop-ffi's, not BrainFlow's).
    static std::string get_version() {
        char buf[64] = {0};
        int len = 0;
        detail::check(::get_version_board_controller(buf, &len, static_cast<int>(sizeof buf)),
                      "get_version_board_controller");
        return std::string(buf, static_cast<std::size_t>(len));
    }
    /// Sets the library logger's level (0 trace ... 6 off).
    static void set_log_level(int level) {
        detail::check(::set_log_level_board_controller(level), "set_log_level_board_controller");
    }
    /// Releases every session of the process (including other objects').
    static void release_all_sessions() {
        detail::check(::release_all_sessions(), "release_all_sessions");
    }

private:
    template <class F>
    static int get_int(F f, int board_id, Preset preset, const char *call) {
        int v = 0;
        detail::check(f(board_id, static_cast<int>(preset), &v), call);
        return v;
    }

    static std::size_t num_rows(int board_id, Preset preset) {
        return static_cast<std::size_t>(get_num_rows(board_id, preset));
    }

    void release_quietly() noexcept {
        if (owns_session_) {
            owns_session_ = false;
            // Destructors must not throw; a failure here (link already gone)
            // is logged by the library.
            (void)::release_session(board_id_, json_.c_str());
        }
    }

    int board_id_;
    std::string json_;
    bool owns_session_ = false;
};

} // namespace boardloop

#endif // BOARDLOOP_BOARD_SHIM_HPP
