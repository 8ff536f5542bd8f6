// sys/signals.h — signal names as runc and docker accept them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::sys {

// "KILL", "SIGKILL", "kill", "9", "SIGRTMIN+3" -> number; InvalidArgument
// ("unknown signal \"FOO\"") otherwise.
Result<int> parse_signal(std::string_view s);
// 9 -> "SIGKILL"; "SIG<n>" for unnamed numbers.
std::string signal_name(int sig);

}  // namespace berth::sys
