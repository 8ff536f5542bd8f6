// base/errno_text.h — errno texts as docker's Go code prints them.
#pragma once

#include <string>

namespace berth {

// strerror(err) with its first letter in lower case ("no such file or
// directory"), as Go's syscall.Errno prints. docker's messages carry that
// text, and its CLI reads it: a run whose error says "no such file or
// directory" exits 127, "permission denied" 126.
std::string go_errno_text(int err);

}  // namespace berth
