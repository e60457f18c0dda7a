// boardloop::BoardShim against an emulated Cyton (`boardloop emulate
// scenarios/cyton/known_signal.yaml`): the declared signal comes back, errors
// carry BrainFlow's codes, sessions are released by RAII and follow moves.

#include <boardloop/board_shim.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <thread>

#include "emulator.hpp"

using boardloop::BoardError;
using boardloop::BoardShim;
using boardloop::ExitCode;
using boardloop::InputParams;

namespace {

constexpr int kCyton = static_cast<int>(boardloop::BoardIds::Cyton);
// One LSB of a Cyton channel at gain 24, in µV.
constexpr double kLsbUv = 4.5 / 8388607.0 / 24.0 * 1e6;

/// Runs `f` and returns the BoardError code it throws (-1 if none).
template <class F> int code_of(F &&f) {
    try {
        f();
    } catch (const BoardError &e) {
        return e.exit_code();
    }
    return -1;
}

InputParams params_for(const std::string &port) {
    InputParams p;
    p.serial_port = port;
    return p;
}

/// Polls until `n` samples are buffered; fails the test after 20 s (generous
/// because valgrind slows the library's reader thread).
void wait_for_samples(const BoardShim &board, int n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (board.get_board_data_count() < n) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline)
            << "only " << board.get_board_data_count() << " samples";
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

/// A fresh known_signal emulator per test.
class EmulatedCyton : public ::testing::Test {
protected:
    static void SetUpTestSuite() { BoardShim::set_log_level(6); } // quiet logs
    void SetUp() override {
        emu_ = std::make_unique<boardloop_test::Emulator>("scenarios/cyton/known_signal.yaml");
    }
    void TearDown() override { emu_.reset(); }
    InputParams params() const { return params_for(emu_->port()); }

    std::unique_ptr<boardloop_test::Emulator> emu_;
};

} // namespace

// ---- No device needed ----

TEST(InputParams, JsonHasAll16KeysAndEscapesStrings) {
    InputParams p;
    p.serial_port = "a\"b\\c\n\x01";
    const std::string j = p.to_json();
    for (const char *key : {"serial_port", "mac_address", "ip_address", "ip_address_aux",
                            "ip_address_anc", "ip_port", "ip_port_aux", "ip_port_anc",
                            "ip_protocol", "other_info", "timeout", "serial_number", "file",
                            "file_aux", "file_anc", "master_board"}) {
        EXPECT_NE(j.find(std::string("\"") + key + "\": "), std::string::npos) << key;
    }
    EXPECT_NE(j.find(R"("serial_port": "a\"b\\c\n\u0001")"), std::string::npos) << j;
    EXPECT_NE(j.find(R"("master_board": -100)"), std::string::npos) << j;
    // The library parses it (GENERAL_ERROR 17 would mean bad JSON): the port
    // simply does not exist.
    BoardShim board(kCyton, p);
    EXPECT_EQ(code_of([&] { board.prepare_session(); }), 2);
}

TEST(Info, CytonLayoutMatchesBrainFlow) {
    EXPECT_EQ(BoardShim::get_num_rows(kCyton), 24);
    EXPECT_EQ(BoardShim::get_sampling_rate(kCyton), 250);
    EXPECT_EQ(BoardShim::get_eeg_channels(kCyton), (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8}));
    EXPECT_EQ(BoardShim::get_exg_channels(kCyton), (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8}));
    EXPECT_EQ(BoardShim::get_accel_channels(kCyton), (std::vector<int>{9, 10, 11}));
    EXPECT_EQ(BoardShim::get_analog_channels(kCyton), (std::vector<int>{19, 20, 21}));
    EXPECT_EQ(BoardShim::get_package_num_channel(kCyton), 0);
    EXPECT_EQ(BoardShim::get_timestamp_channel(kCyton), 22);
    EXPECT_EQ(BoardShim::get_marker_channel(kCyton), 23);
    EXPECT_EQ(BoardShim::get_device_name(kCyton), "Cyton");
    EXPECT_EQ(BoardShim::get_eeg_names(kCyton), "Fp1,Fp2,C3,C4,P7,P8,O1,O2");
    const std::string descr = BoardShim::get_board_descr(kCyton);
    EXPECT_EQ(descr.front(), '{');
    EXPECT_NE(descr.find("\"marker_channel\":23"), std::string::npos) << descr;
    EXPECT_EQ(BoardShim::get_board_presets(kCyton),
              std::vector<boardloop::Preset>{boardloop::Preset::Default});
    // Cyton has no battery row: BrainFlow's UNSUPPORTED_BOARD_ERROR.
    EXPECT_EQ(code_of([] { BoardShim::get_battery_channel(kCyton); }), 14);
    EXPECT_FALSE(BoardShim::get_version().empty());
}

TEST(Errors, CarryCodeAndName) {
    BoardShim unsupported(12345, params_for("/dev/null"));
    try {
        unsupported.prepare_session();
        FAIL() << "prepare_session of an unknown board id succeeded";
    } catch (const BoardError &e) {
        EXPECT_EQ(e.exit_code(), 14);
        EXPECT_EQ(e.code(), ExitCode::UnsupportedBoard);
        EXPECT_STREQ(e.code_name(), "UNSUPPORTED_BOARD_ERROR");
        EXPECT_NE(std::string(e.what()).find("prepare_session"), std::string::npos);
    }
    BoardShim bad_port(kCyton, params_for("/dev/boardloop-no-such-port"));
    EXPECT_EQ(code_of([&] { bad_port.prepare_session(); }), 2);
    EXPECT_FALSE(bad_port.is_prepared());
    EXPECT_EQ(code_of([&] { bad_port.start_stream(); }), 15);
    EXPECT_EQ(code_of([&] { bad_port.get_board_data(); }), 15);
}

TEST(DataBlock, RowsAreChannelMajorViews) {
    boardloop::Data d(2, 3, {1, 2, 3, 4, 5, 6});
    EXPECT_EQ(d.rows(), 2u);
    EXPECT_EQ(d.samples(), 3u);
    const auto r1 = d.row(1);
    EXPECT_EQ(std::vector<double>(r1.begin(), r1.end()), (std::vector<double>{4, 5, 6}));
    EXPECT_EQ(d.at(0, 2), 3.0);
    EXPECT_THROW(d.row(2), std::out_of_range);
    EXPECT_THROW(r1.at(3), std::out_of_range);
    EXPECT_THROW(boardloop::Data(2, 2, {1.0}), std::invalid_argument);
}

// ---- Against the emulator ----

TEST_F(EmulatedCyton, FullSessionReturnsDeclaredSignal) {
    BoardShim board(kCyton, params());
    EXPECT_FALSE(board.is_prepared());
    EXPECT_EQ(code_of([&] { board.start_stream(); }), 15); // before prepare
    board.prepare_session();
    EXPECT_TRUE(board.is_prepared());
    EXPECT_EQ(board.get_board_sampling_rate(), 250);
    board.start_stream(45000);
    board.insert_marker(3.0);
    EXPECT_EQ(code_of([&] { board.insert_marker(0.0); }), 13);
    wait_for_samples(board, 500);

    // get_current_board_data copies without removing.
    const auto newest = board.get_current_board_data(10);
    EXPECT_EQ(newest.samples(), 10u);
    EXPECT_EQ(board.get_current_board_data(0).samples(), 0u);
    EXPECT_GE(board.get_board_data_count(), 500);

    board.stop_stream();
    EXPECT_EQ(code_of([&] { board.stop_stream(); }), 11);
    const auto data = board.get_board_data();
    ASSERT_GE(data.samples(), 500u);
    ASSERT_EQ(data.rows(), 24u);
    EXPECT_EQ(board.get_board_data_count(), 0);

    for (double v : data.row(4)) { // eeg4: constant -42.5 µV
        ASSERT_NEAR(v, -42.5, kLsbUv);
    }
    const auto pkg = data.row(0);
    for (std::size_t s = 1; s < pkg.size(); ++s) {
        ASSERT_EQ(pkg[s], std::fmod(pkg[s - 1] + 1.0, 256.0)) << "sample " << s;
    }
    int markers = 0;
    for (double m : data.row(23)) markers += (m == 3.0);
    EXPECT_EQ(markers, 1);
    board.release_session();
    EXPECT_FALSE(board.is_prepared());
}

TEST_F(EmulatedCyton, GetBoardDataTakesTheOldestN) {
    BoardShim board(kCyton, params());
    board.prepare_session();
    board.start_stream();
    wait_for_samples(board, 50);
    board.stop_stream();
    const int before = board.get_board_data_count();
    const auto first = board.get_board_data(20);
    EXPECT_EQ(first.samples(), 20u);
    EXPECT_EQ(board.get_board_data_count(), before - 20);
    const auto rest = board.get_board_data(1000000); // more than buffered: all
    EXPECT_EQ(rest.samples(), static_cast<std::size_t>(before - 20));
    // Continuity across the two reads.
    EXPECT_EQ(rest.row(0)[0], std::fmod(first.row(0)[19] + 1.0, 256.0));
    EXPECT_EQ(board.get_board_data().samples(), 0u);
}

TEST_F(EmulatedCyton, ConfigBoardRepliesBeforeStreaming) {
    BoardShim board(kCyton, params());
    board.prepare_session();
    EXPECT_EQ(board.config_board("x1060110X"), "Success: Channel set for 1$$$");
}

TEST_F(EmulatedCyton, SecondPrepareOfSameKeyIsRefused) {
    BoardShim a(kCyton, params());
    a.prepare_session();
    BoardShim b(kCyton, params());
    EXPECT_TRUE(b.is_prepared()); // same key, same library session
    EXPECT_EQ(code_of([&] { b.prepare_session(); }), 16);
}

TEST_F(EmulatedCyton, RaiiReleasesOnScopeExit) {
    {
        BoardShim board(kCyton, params());
        board.prepare_session();
        board.start_stream();
        wait_for_samples(board, 10);
    } // destructor: stop + release, port closed
    BoardShim probe(kCyton, params());
    EXPECT_FALSE(probe.is_prepared());
    // The port is free again: a new session prepares and streams.
    probe.prepare_session();
    probe.start_stream();
    wait_for_samples(probe, 10);
}

TEST_F(EmulatedCyton, MovesTransferTheSession) {
    BoardShim a(kCyton, params());
    a.prepare_session();
    BoardShim b(std::move(a));
    EXPECT_TRUE(b.is_prepared());
    EXPECT_TRUE(a.params_json().empty()); // NOLINT(bugprone-use-after-move): moved-from is empty
    { BoardShim gone(std::move(a)); } // a moved-from object releases nothing
    EXPECT_TRUE(b.is_prepared());

    // Move assignment releases the target's own session first.
    BoardShim c(kCyton, params_for("/dev/boardloop-no-such-port"));
    c = std::move(b);
    EXPECT_TRUE(c.is_prepared());
    BoardShim d(kCyton, params());
    d = std::move(c); // self-key: c's session becomes d's
    EXPECT_TRUE(d.is_prepared());
    d = BoardShim(kCyton, params_for("/dev/boardloop-no-such-port"));
    // d's original session was released by the assignment.
    EXPECT_FALSE(BoardShim(kCyton, params()).is_prepared());
}
