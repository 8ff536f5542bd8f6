// cli/progress.h — renders a JSON progress stream the way docker's
// jsonmessage.DisplayJSONMessagesStream does.
//
// Terminal: one line per layer id, redrawn in place with ANSI cursor moves
// (ESC[<n>A / ESC[<n>B / ESC[2K) and a bar "[=====>     ]  1.2MB/3.4MB" when
// the terminal is wider than 110 columns. Not a terminal: messages that carry
// a non-empty progress are dropped and every other one is a plain line
// ("a1b2c3d4e5f6: Pull complete"), so logs stay readable.
// Depends on: api/client (JsonMessage), cli/units.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "api/client/types.h"

namespace berth::cli {

// docker's JSONProgress.String(): "" when there is nothing to show.
std::string progress_string(const api::client::JsonMessage& m, int term_width, int64_t now_unix);

class ProgressPrinter {
 public:
  using Write = std::function<void(std::string_view)>;
  ProgressPrinter(Write write, bool terminal, int term_width)
      : write_(std::move(write)), terminal_(terminal), width_(term_width) {}

  // Renders one message. Errors in the message are not printed here (the
  // stream call returns them).
  void display(const api::client::JsonMessage& m, int64_t now_unix);

 private:
  void display_one(const api::client::JsonMessage& m, int64_t now_unix);

  Write write_;
  bool terminal_;
  int width_;
  std::map<std::string, unsigned> ids_;
};

}  // namespace berth::cli
