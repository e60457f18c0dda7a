// A `boardloop emulate <scenario>` child process for the tests: it emulates
// an OpenBCI Cyton on a pty and prints `serial: /dev/pts/N` as its first
// stdout line. The destructor kills it.
#pragma once

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace boardloop_test {

/// `name` from the environment, else `fallback` (the CMake default).
inline std::string env_or(const char *name, const char *fallback) {
    const char *v = std::getenv(name);
    return (v != nullptr && *v != '\0') ? v : fallback;
}

/// A running emulator; the pty path is `port()`.
class Emulator {
public:
    /// Starts `boardloop emulate <scenario>` (relative to the repo root,
    /// where the scenario's relative data paths resolve) and waits up to
    /// 10 s for its port line.
    explicit Emulator(const std::string &scenario) {
        const std::string exe = env_or("BOARDLOOP_EMULATOR", BOARDLOOP_EMULATOR);
        const std::string root = env_or("BOARDLOOP_REPO_ROOT", BOARDLOOP_REPO_ROOT);
        int out[2];
        if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
        // argv is built before fork: only async-signal-safe calls after it.
        const char *argv[] = {exe.c_str(), "emulate", scenario.c_str(), nullptr};
        pid_ = fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            dup2(out[1], STDOUT_FILENO);
            if (chdir(root.c_str()) != 0) _exit(126);
            execv(exe.c_str(), const_cast<char *const *>(argv));
            _exit(127);
        }
        close(out[1]);
        // The read end stays open until the emulator is killed, so a later
        // stdout line cannot kill it with SIGPIPE.
        out_ = out[0];
        port_ = read_port();
    }

    Emulator(const Emulator &) = delete;
    Emulator &operator=(const Emulator &) = delete;

    ~Emulator() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            int status = 0;
            while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
            }
        }
        if (out_ >= 0) close(out_);
    }

    /// The emulated device's pty, e.g. "/dev/pts/3".
    const std::string &port() const { return port_; }

private:
    std::string read_port() {
        const std::string prefix = "serial: ";
        std::string line;
        for (;;) {
            pollfd p{out_, POLLIN, 0};
            int r = poll(&p, 1, 10000);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) throw std::runtime_error("emulator printed no port line within 10 s");
            char c;
            ssize_t n = read(out_, &c, 1);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) throw std::runtime_error("emulator exited before printing its port");
            if (c != '\n') {
                line += c;
                continue;
            }
            if (line.compare(0, prefix.size(), prefix) == 0) return line.substr(prefix.size());
            line.clear();
        }
    }

    pid_t pid_ = -1;
    int out_ = -1;
    std::string port_;
};

} // namespace boardloop_test
