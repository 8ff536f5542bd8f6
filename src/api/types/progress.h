// api/types/progress.h — docker's JSON progress stream (pull, push, import,
// load): one JSON object per line.
//   {"status":"Downloading","id":"a1b2c3d4e5f6","progressDetail":{"current":1,"total":9},
//    "progress":"[=>   ]  1B/9B"}
//   {"errorDetail":{"message":"..."},"error":"..."}
//   {"stream":"Loaded image: busybox:latest\n"}
// Depends on: base.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace berth::api {

struct ProgressMessage {
  std::string id;
  std::string status;
  int64_t current = -1;  // -1: no progressDetail
  int64_t total = -1;
};

// One line, '\n'-terminated.
std::string encode_progress_line(const ProgressMessage& m);
std::string encode_error_line(std::string_view message);
std::string encode_stream_line(std::string_view text);
std::string encode_aux_line(std::string_view key, std::string_view value);

// The "progress" text docker renders: "[==>      ]  1.2MB/3.4MB" (or "1.2MB"
// when the total is unknown).
std::string progress_bar(int64_t current, int64_t total);
// docker's HumanSize (decimal units, 3 significant digits): "1.23MB".
std::string human_size(int64_t bytes);

}  // namespace berth::api
