// A POSIX serial port (termios): 115200 8N1 raw, exclusive, reads with a timeout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace knight
{
class SerialPort
{
public:
    SerialPort () = default;
    ~SerialPort ();
    SerialPort (const SerialPort &) = delete;
    SerialPort &operator= (const SerialPort &) = delete;

    /// Opens `path`; returns an exit code (UNABLE_TO_OPEN_PORT / SET_PORT) and sets `error`.
    int32_t open (const std::string &path, std::string &error);
    void close ();
    bool is_open () const
    {
        return fd_ >= 0;
    }
    /// Writes everything; false with `error` on failure.
    bool write_all (const uint8_t *data, size_t len, std::string &error);
    /// Waits up to `timeout_ms` for bytes: >0 bytes read, 0 timeout, <0 link gone (`error`).
    long read (uint8_t *buf, size_t len, int timeout_ms, std::string &error);
    /// Discards received, unread bytes (tcflush TCIFLUSH).
    bool flush_input ();

private:
    int fd_ = -1;
};
} // namespace knight
