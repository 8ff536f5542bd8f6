// cli/version.h — berth's own version, shown by `berth --version` and
// `berth version`.
#pragma once

namespace berth::cli {

inline constexpr const char* kBerthVersion = "0.1.0";
#ifdef BERTH_GIT_COMMIT
inline constexpr const char* kBerthGitCommit = BERTH_GIT_COMMIT;
#else
inline constexpr const char* kBerthGitCommit = "unknown";
#endif

}  // namespace berth::cli
