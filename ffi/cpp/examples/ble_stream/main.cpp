// Streams a BLE board through boardloop::BoardShim, as a C++ user would:
//   ble_stream BOARD_ID MAC_ADDRESS SAMPLES
// prepares (scan, connect), starts, waits for SAMPLES rows (at most 20 s),
// stops and releases. Exits 0 when every row arrived in order (no package
// number skipped) with finite EEG values. ci/ble-rig-guest.sh runs it in the
// lab VM against `boardloop emulate --adapter hci1`.
#include <boardloop/board_shim.hpp>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <thread>

int main(int argc, char **argv) {
    if (argc != 4) {
        std::cerr << "usage: ble_stream BOARD_ID MAC_ADDRESS SAMPLES\n";
        return 2;
    }
    using boardloop::BoardShim;
    const int id = std::atoi(argv[1]);
    const int want = std::atoi(argv[3]);
    boardloop::InputParams params;
    params.mac_address = argv[2];
    params.timeout = 15;
    try {
        using clock = std::chrono::steady_clock;
        BoardShim board(id, params);
        const auto t0 = clock::now();
        board.prepare_session(); // scan, connect, discover, subscribe
        const auto t1 = clock::now();
        board.start_stream();
        const auto deadline = clock::now() + std::chrono::seconds(20);
        while (board.get_board_data_count() < want &&
               std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        const double streamed = std::chrono::duration<double>(clock::now() - t1).count();
        board.stop_stream();
        boardloop::Data data = board.get_board_data();
        board.release_session();
        const int package_row = BoardShim::get_package_num_channel(id);
        const std::vector<int> eeg = BoardShim::get_eeg_channels(id);
        if (static_cast<int>(data.samples()) < want) {
            std::cerr << "got " << data.samples() << " of " << want << " rows\n";
            return 1;
        }
        auto package = data.row(static_cast<std::size_t>(package_row));
        for (std::size_t s = 1; s < data.samples(); ++s) {
            // Muse rows of one notification share its sequence number; a
            // counter wraps to 0.
            double step = package[s] - package[s - 1];
            if (step > 1.0 || (step < 0.0 && package[s] != 0.0)) {
                std::cerr << "package number jumps from " << package[s - 1] << " to "
                          << package[s] << " at sample " << s << "\n";
                return 1;
            }
        }
        // The rows that arrived while streaming: stop may add a last,
        // partly joined batch (a Muse channel missing: NaN, by design).
        for (int r : eeg) {
            auto row = data.row(static_cast<std::size_t>(r));
            for (std::size_t s = 0; s < static_cast<std::size_t>(want); ++s) {
                if (!std::isfinite(row[s])) {
                    std::cerr << "non-finite EEG value in row " << r << " at sample " << s
                              << "\n";
                    return 1;
                }
            }
        }
        const double prepare_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
        std::cout << "ble_stream: board " << id << " (" << BoardShim::get_device_name(id)
                  << "): prepare " << prepare_ms << " ms, " << data.samples()
                  << " rows in order (none lost) in " << streamed << " s ("
                  << data.samples() / streamed << " rows/s), first EEG value "
                  << data.row(static_cast<std::size_t>(eeg.at(0)))[0] << "\n";
        return 0;
    } catch (const boardloop::BoardError &e) {
        std::cerr << "ble_stream: " << e.what() << "\n";
        return 1;
    }
}
