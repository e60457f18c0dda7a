#include "serial_port.h"

#include "exit_codes.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

namespace knight
{
SerialPort::~SerialPort ()
{
    close ();
}

int32_t SerialPort::open (const std::string &path, std::string &error)
{
    close ();
    int fd = ::open (path.c_str (), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
    {
        error = "unable to open serial port " + path + ": " + std::strerror (errno);
        return UNABLE_TO_OPEN_PORT_ERROR;
    }
    termios t {};
    // Exclusive like the Rust link (serialport crate): a second opener fails.
    if (::ioctl (fd, TIOCEXCL) != 0 || tcgetattr (fd, &t) != 0)
    {
        error = "unable to configure " + path + ": " + std::strerror (errno);
        ::close (fd);
        return SET_PORT_ERROR;
    }
    cfmakeraw (&t);
    t.c_cflag |= CLOCAL | CREAD;
    t.c_cflag &= ~(CSTOPB | PARENB | CRTSCTS);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    if (cfsetispeed (&t, B115200) != 0 || cfsetospeed (&t, B115200) != 0 ||
        tcsetattr (fd, TCSANOW, &t) != 0)
    {
        error = "unable to set 115200 8N1 on " + path + ": " + std::strerror (errno);
        ::close (fd);
        return SET_PORT_ERROR;
    }
    fd_ = fd;
    return STATUS_OK;
}

void SerialPort::close ()
{
    if (fd_ >= 0)
    {
        ::close (fd_);
        fd_ = -1;
    }
}

bool SerialPort::write_all (const uint8_t *data, size_t len, std::string &error)
{
    size_t done = 0;
    while (done < len)
    {
        ssize_t n = ::write (fd_, data + done, len - done);
        if (n > 0)
        {
            done += static_cast<size_t> (n);
            continue;
        }
        if (n < 0 && errno == EINTR)
        {
            continue;
        }
        if (n < 0 && errno == EAGAIN)
        {
            pollfd p {fd_, POLLOUT, 0};
            ::poll (&p, 1, 100);
            continue;
        }
        error = std::string ("write failed: ") + std::strerror (errno);
        return false;
    }
    return true;
}

long SerialPort::read (uint8_t *buf, size_t len, int timeout_ms, std::string &error)
{
    pollfd p {fd_, POLLIN, 0};
    int r = ::poll (&p, 1, timeout_ms);
    if (r == 0 || (r < 0 && errno == EINTR))
    {
        return 0;
    }
    if (r < 0)
    {
        error = std::string ("poll failed: ") + std::strerror (errno);
        return -1;
    }
    ssize_t n = ::read (fd_, buf, len);
    if (n > 0)
    {
        return static_cast<long> (n);
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
    {
        return 0;
    }
    // Readable yet nothing, or an error: the tty hung up (device gone).
    error = n == 0 ? std::string ("serial port hung up") :
                     std::string ("read failed: ") + std::strerror (errno);
    return -1;
}

bool SerialPort::flush_input ()
{
    return tcflush (fd_, TCIFLUSH) == 0;
}
} // namespace knight
