// engine/user_lookup.h — docker's user resolution (-u / USER / exec -u)
// against the container's /etc/passwd and /etc/group.
//
// Accepted forms: "" (root), "name", "uid", "name:group", "uid:gid",
// "name:gid", "uid:group". Numeric ids need no passwd entry (gid then comes
// from the passwd entry when there is one, else 0). Names must exist:
// NotFound "unable to find user x: no matching entries in passwd file" /
// "unable to find group x: no matching entries in group file" (docker's
// messages). Ids must be in 0..2147483647 (InvalidArgument otherwise).
// Additional gids = the groups of /etc/group listing the user by name (only
// when no explicit group was given, as runc does) + --group-add entries
// (names resolved through /etc/group, numbers taken as is).
// Depends on: base.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::engine {

// Reads a whole file of the container's root ("/etc/passwd"). NotFound when
// it does not exist (then resolution treats it as empty).
using RootfsFileReader = std::function<Result<std::string>(const std::string& path)>;

// Reader over an image's layer directories, top layer first (overlay form as
// the overlay snapshotter stores them: a 0:0 character device is a
// whiteout, xattr trusted.overlay.opaque=y hides lower layers below a
// directory). Symlinks inside the path are resolved within the layered view
// (absolute targets relative to the root, at most 40 hops).
RootfsFileReader layered_reader(std::vector<std::string> layers_top_first);

// Reader over a root directory fd (a running container's /proc/<pid>/root or
// a mounted rootfs), resolved with openat2 RESOLVE_IN_ROOT so symlinks never
// leave it. The fd is borrowed: it must outlive the reader.
RootfsFileReader root_fd_reader(int root_fd);

struct ResolvedUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
  // gid first (docker's order), then the others sorted; no duplicates.
  std::vector<uint32_t> additional_gids;
  std::string name;        // "" when not in passwd
  std::string home = "/";  // passwd's home, "/" when unknown
};

Result<ResolvedUser> resolve_user(std::string_view user, const std::vector<std::string>& group_add,
                                  const RootfsFileReader& read);

}  // namespace berth::engine
