// monitor/memory.cc — the monitor giving back what it does not need between
// requests (its per-container cost is its memory).
#include "monitor/memory.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "base/strings.h"

namespace berth::monitor {

namespace {

// Calls fn(line) for each line of a /proc file without touching the heap
// (the point is to leave the heap unfragmented before trimming it).
template <typename F>
void for_each_line(const char* path, F fn) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  char buf[2048];
  size_t have = 0;
  while (true) {
    ssize_t n = ::read(fd, buf + have, sizeof buf - have);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (have) fn(std::string_view(buf, have));
      break;
    }
    have += static_cast<size_t>(n);
    size_t from = 0;
    for (size_t i = 0; i < have; ++i) {
      if (buf[i] != '\n') continue;
      fn(std::string_view(buf + from, i - from));
      from = i + 1;
    }
    if (from == 0 && have == sizeof buf) from = have;  // an overlong line: dropped
    std::memmove(buf, buf + from, have - from);
    have -= from;
  }
  ::close(fd);
}

// The n-th space-separated field of a line ("" when absent).
std::string_view field(std::string_view line, int n) {
  size_t i = 0;
  for (int k = 0;; ++k) {
    while (i < line.size() && line[i] == ' ') ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ') ++j;
    if (k == n || i == line.size()) return line.substr(i, j - i);
    i = j;
  }
}

uintptr_t parse_hex(std::string_view s) {
  uintptr_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v, 16);
  return v;
}

// The lowest address of the main thread's stack mapping.
uintptr_t stack_low() {
  static uintptr_t low = 0;
  if (low) return low;
  for_each_line("/proc/self/maps", [](std::string_view line) {
    if (ends_with(line, "[stack]")) low = parse_hex(line.substr(0, line.find('-')));
  });
  return low;
}

// Per-container memory is the monitor's whole cost: hand back the heap's
// free pages and the stack pages that runtime calls (create, exec) touched
// deep below the loop's own frames.
// Clean, read-only file mappings (the binary's text and rodata) are paged
// in by setup and runtime calls; dropping them from this process's page
// tables costs nothing (the page cache keeps them, a later access is a
// minor fault) and leaves only the loop's hot pages counted against it.
// Mappings with dirty pages (relocated RELRO, data) are never touched.
void release_clean_file_pages() {
  uintptr_t start = 0, end = 0;
  bool candidate = false;
  auto flush = [&] {
    if (candidate && end > start)
      ::madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED);
    candidate = false;
  };
  for_each_line("/proc/self/smaps", [&](std::string_view line) {
    std::string_view first = field(line, 0);
    if (!first.empty() && first.back() != ':') {
      // A mapping: "start-end perms offset dev inode path"
      flush();
      std::string_view path = field(line, 5);
      if (field(line, 1).find('w') != std::string_view::npos || path.empty() || path[0] == '[')
        return;
      auto dash = first.find('-');
      if (dash == std::string_view::npos) return;
      start = parse_hex(first.substr(0, dash));
      end = parse_hex(first.substr(dash + 1));
      candidate = true;
    } else if (candidate && (first == "Private_Dirty:" || first == "Anonymous:")) {
      if (field(line, 1) != "0") candidate = false;
    }
  });
  flush();
}

}  // namespace

__attribute__((noinline)) void release_memory() {
  release_clean_file_pages();
  ::malloc_trim(0);
  uintptr_t low = stack_low();
  char here;
  uintptr_t sp = reinterpret_cast<uintptr_t>(&here);
  uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  // Keep a margin below the current frame for the calls made from here on.
  uintptr_t end = ((sp - 8 * 1024) & ~(page - 1));
  if (low && end > low) ::madvise(reinterpret_cast<void*>(low), end - low, MADV_DONTNEED);
}

}  // namespace berth::monitor
