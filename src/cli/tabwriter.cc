#include "cli/tabwriter.h"

#include <vector>

#include "cli/units.h"

namespace berth::cli {
namespace {

using Line = std::vector<std::string>;  // cells; the last one is the unterminated tail

class Formatter {
 public:
  Formatter(std::vector<Line> lines, const TabwriterOptions& o) : lines_(std::move(lines)), o_(o) {}

  std::string run() {
    format(0, lines_.size());
    return out_;
  }

 private:
  // Go's tabwriter.format: find the column blocks of column len(widths_),
  // compute each block's width, recurse for the columns to its right.
  void format(size_t line0, size_t line1) {
    size_t column = widths_.size();
    for (size_t cur = line0; cur < line1; ++cur) {
      if (column + 1 >= lines_[cur].size()) continue;
      write_lines(line0, cur);
      line0 = cur;
      size_t width = o_.minwidth;
      for (; cur < line1; ++cur) {
        const Line& line = lines_[cur];
        if (column + 1 >= line.size()) break;
        size_t w = rune_count(line[column]) + o_.padding;
        if (w > width) width = w;
      }
      widths_.push_back(width);
      format(line0, cur);
      widths_.pop_back();
      // `cur` has no cell in this column; the loop's ++ skips it, as Go's does.
      line0 = cur;
    }
    write_lines(line0, line1);
  }

  void write_lines(size_t line0, size_t line1) {
    for (size_t i = line0; i < line1; ++i) {
      const Line& line = lines_[i];
      for (size_t j = 0; j < line.size(); ++j) {
        const std::string& c = line[j];
        out_ += c;
        if (j < widths_.size() && j + 1 < line.size()) {
          size_t w = rune_count(c);
          if (widths_[j] > w) out_.append(widths_[j] - w, o_.padchar);
        }
      }
      if (i + 1 < lines_.size() || had_final_newline_) out_ += '\n';
    }
  }

 public:
  bool had_final_newline_ = true;

 private:
  std::vector<Line> lines_;
  TabwriterOptions o_;
  std::vector<size_t> widths_;
  std::string out_;
};

}  // namespace

std::string tabwrite(std::string_view text, const TabwriterOptions& opts) {
  std::vector<Line> lines;
  Line cur;
  std::string cell;
  for (char ch : text) {
    if (ch == '\t') {
      cur.push_back(std::move(cell));
      cell.clear();
    } else if (ch == '\n') {
      cur.push_back(std::move(cell));
      cell.clear();
      lines.push_back(std::move(cur));
      cur.clear();
    } else {
      cell += ch;
    }
  }
  bool final_newline = true;
  if (!cell.empty() || !cur.empty()) {
    cur.push_back(std::move(cell));
    lines.push_back(std::move(cur));
    final_newline = false;
  }
  Formatter f(std::move(lines), opts);
  f.had_final_newline_ = final_newline;
  return f.run();
}

}  // namespace berth::cli
