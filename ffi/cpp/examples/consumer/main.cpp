// Prints the Cyton layout and one expected error through boardloop::BoardShim.
// Exits 0 when the library answers as BrainFlow's does.
#include <boardloop/board_shim.hpp>

#include <iostream>

int main() {
    using boardloop::BoardShim;
    const int cyton = static_cast<int>(boardloop::BoardIds::Cyton);
    BoardShim::set_log_level(6);
    std::cout << "boardloop " << BoardShim::get_version() << ": "
              << BoardShim::get_device_name(cyton) << " at "
              << BoardShim::get_sampling_rate(cyton) << " Hz, "
              << BoardShim::get_num_rows(cyton) << " rows\n";
    boardloop::InputParams params;
    params.serial_port = "/dev/boardloop-no-such-port";
    BoardShim board(cyton, params);
    try {
        board.prepare_session();
    } catch (const boardloop::BoardError &e) {
        std::cout << "expected: " << e.what() << "\n";
        return e.exit_code() == 2 && BoardShim::get_num_rows(cyton) == 24 ? 0 : 1;
    }
    return 1;
}
