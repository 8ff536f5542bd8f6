// cli/tabwriter.h — column alignment with the semantics of Go's text/tabwriter,
// which docker's tables use (minwidth 10, tabwidth 1, padding 3, ' ', no flags).
//
// Input: lines separated by '\n', cells terminated by '\t'; the text after a
// line's last tab is not a cell and is never padded. Columns are aligned per
// "column block" (consecutive lines that have a cell in that column), exactly
// as Go does, so tables match docker byte for byte. Widths count UTF-8 runes.
// Depends on: std only.
#pragma once

#include <string>
#include <string_view>

namespace berth::cli {

struct TabwriterOptions {
  size_t minwidth = 10;
  size_t padding = 3;
  char padchar = ' ';
};

// Aligns the whole text at once (docker flushes once, after all rows).
std::string tabwrite(std::string_view text, const TabwriterOptions& opts = {});

}  // namespace berth::cli
