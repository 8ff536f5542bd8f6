#include "cli/progress.h"

#include <fmt/format.h>

#include "cli/units.h"

namespace berth::cli {

namespace {
// Go's time.Duration.String() for whole seconds: "1h2m3s", "4m0s", "12s".
std::string go_duration_secs(int64_t s) {
  if (s <= 0) return "0s";
  int64_t h = s / 3600, m = (s % 3600) / 60, sec = s % 60;
  if (h > 0) return fmt::format("{}h{}m{}s", h, m, sec);
  if (m > 0) return fmt::format("{}m{}s", m, sec);
  return fmt::format("{}s", sec);
}
}  // namespace

std::string progress_string(const api::client::JsonMessage& m, int width, int64_t now) {
  if (m.current <= 0 && m.total <= 0) return "";
  if (m.total <= 0) {
    if (m.units.empty()) return fmt::format("{:>8}", human_size(static_cast<double>(m.current)));
    return fmt::format("{} {}", m.current, m.units);
  }
  int percentage = static_cast<int>(static_cast<double>(m.current) / m.total * 100) / 2;
  if (percentage > 50) percentage = 50;
  std::string bar, numbers, left;
  if (width > 110) {
    int spaces = 50 - percentage > 0 ? 50 - percentage : 0;
    bar = "[" + std::string(percentage, '=') + ">" + std::string(spaces, ' ') + "] ";
  }
  if (!m.hide_counts) {
    if (m.units.empty()) {
      std::string cur = human_size(static_cast<double>(m.current));
      numbers = fmt::format("{:>8}/{}", cur, human_size(static_cast<double>(m.total)));
      if (m.current > m.total) numbers = fmt::format("{:>8}", cur);
    } else {
      numbers = fmt::format("{}/{} {}", m.current, m.total, m.units);
      if (m.current > m.total) numbers = fmt::format("{} {}", m.current, m.units);
    }
  }
  if (m.current > 0 && m.start > 0 && percentage < 50 && width > 50) {
    double per = static_cast<double>(now - m.start) / static_cast<double>(m.current);
    left = " " +
           go_duration_secs(static_cast<int64_t>(per * static_cast<double>(m.total - m.current)));
  }
  return bar + numbers + left;
}

void ProgressPrinter::display(const api::client::JsonMessage& m, int64_t now) {
  if (!m.aux.is_null()) return;  // aux messages (push digest, build ids) are not shown
  unsigned diff = 0;
  if (!m.id.empty() && (m.has_progress || !m.progress.empty())) {
    auto it = ids_.find(m.id);
    unsigned line;
    if (it == ids_.end()) {
      line = static_cast<unsigned>(ids_.size());
      ids_[m.id] = line;
      if (terminal_) write_("\n");
    } else {
      line = it->second;
    }
    diff = static_cast<unsigned>(ids_.size()) - line;
    if (terminal_ && diff > 0) write_(fmt::format("\x1b[{}A", diff));
  } else {
    // Lines outside the map (a status without an id) start a new group.
    ids_.clear();
  }
  display_one(m, now);
  if (!m.id.empty() && terminal_ && diff > 0) write_(fmt::format("\x1b[{}B", diff));
}

void ProgressPrinter::display_one(const api::client::JsonMessage& m, int64_t now) {
  if (m.error) return;
  std::string endl;
  std::string prog = m.has_progress ? progress_string(m, width_, now) : "";
  if (terminal_ && m.stream.empty() && m.has_progress) {
    write_("\x1b[2K\r");
    endl = "\r";
  } else if (m.has_progress && !prog.empty()) {
    return;  // no progress bars when not on a terminal
  }
  std::string out;
  if (m.time_nano != 0) out += rfc3339_nano_fixed_local(m.time_nano) + " ";
  if (!m.id.empty()) out += m.id + ": ";
  if (!m.from.empty()) out += "(from " + m.from + ") ";
  if (m.has_progress && terminal_) {
    out += m.status + " " + prog + endl;
  } else if (!m.progress.empty()) {
    out += m.status + " " + m.progress + endl;
  } else if (!m.stream.empty()) {
    out += m.stream + endl;
  } else {
    out += m.status + endl + "\n";
  }
  write_(out);
}

}  // namespace berth::cli
