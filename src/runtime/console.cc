#include "runtime/console.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <termios.h>
#include <unistd.h>

#include "base/file.h"
#include "sys/syscalls.h"

namespace berth::runtime {

Result<void> setup_console(int console_sock, const std::optional<oci::ConsoleSize>& size,
                           bool bind_dev_console) {
  Fd master(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master) return sys_error("open /dev/ptmx in the container");
  if (::unlockpt(master.get()) != 0) return sys_error("unlockpt");
  char name[128];
  if (::ptsname_r(master.get(), name, sizeof name) != 0) return sys_error("ptsname");
  if (size) {
    struct winsize ws = {};
    ws.ws_row = static_cast<unsigned short>(size->height);
    ws.ws_col = static_cast<unsigned short>(size->width);
    ::ioctl(master.get(), TIOCSWINSZ, &ws);
  }
  Fd slave(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!slave) return sys_error(fmt::format("open {}", name));
  if (bind_dev_console) {
    int f = ::open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (f >= 0) ::close(f);
    if (::mount(name, "/dev/console", "", MS_BIND, nullptr) != 0)
      return sys_error("bind the terminal on /dev/console");
  }
  BERTH_TRY(sys::send_fd(console_sock, master.get(), name));
  if (::setsid() < 0 && errno != EPERM) return sys_error("setsid");
  if (::ioctl(slave.get(), TIOCSCTTY, 0) != 0) return sys_error("set controlling terminal");
  for (int i = 0; i < 3; ++i)
    if (::dup2(slave.get(), i) < 0) return sys_error("dup2 terminal");
  return ok();
}

void proxy_tty(int master) {
  struct termios saved;
  bool raw = ::isatty(0) && ::tcgetattr(0, &saved) == 0;
  if (raw) {
    struct termios t = saved;
    ::cfmakeraw(&t);
    ::tcsetattr(0, TCSANOW, &t);
    struct winsize ws;
    if (::ioctl(0, TIOCGWINSZ, &ws) == 0) ::ioctl(master, TIOCSWINSZ, &ws);
  }
  bool in_open = true;
  char buf[16384];
  while (true) {
    struct pollfd p[2] = {{master, POLLIN, 0}, {0, static_cast<short>(in_open ? POLLIN : 0), 0}};
    int r = ::poll(p, in_open ? 2 : 1, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::read(master, buf, sizeof buf);
      if (n <= 0) break;  // EIO once every slave fd is closed
      if (!write_all(1, std::string_view(buf, static_cast<size_t>(n)))) break;
    }
    if (in_open && (p[1].revents & (POLLIN | POLLHUP))) {
      ssize_t n = ::read(0, buf, sizeof buf);
      if (n <= 0) {
        in_open = false;
        // Forward end-of-file as the terminal's EOF character.
        char eof = 4;
        [[maybe_unused]] ssize_t w = ::write(master, &eof, 1);
      } else if (!write_all(master, std::string_view(buf, static_cast<size_t>(n)))) {
        break;
      }
    }
  }
  if (raw) ::tcsetattr(0, TCSANOW, &saved);
}

}  // namespace berth::runtime
