// BrainFlow's exit codes (brainflow_exit_codes.h), the values the plugin ABI returns.
#pragma once

#include <cstdint>

namespace knight
{
enum ExitCode : int32_t
{
    STATUS_OK = 0,
    PORT_ALREADY_OPEN_ERROR = 1,
    UNABLE_TO_OPEN_PORT_ERROR = 2,
    SET_PORT_ERROR = 3,
    BOARD_WRITE_ERROR = 4,
    INCOMMING_MSG_ERROR = 5,
    BOARD_NOT_READY_ERROR = 7,
    STREAM_ALREADY_RUN_ERROR = 8,
    INVALID_BUFFER_SIZE_ERROR = 9,
    STREAM_THREAD_ERROR = 10,
    STREAM_THREAD_IS_NOT_RUNNING = 11,
    INVALID_ARGUMENTS_ERROR = 13,
    BOARD_NOT_CREATED_ERROR = 15,
    GENERAL_ERROR = 17,
};
} // namespace knight
