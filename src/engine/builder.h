// engine/builder.h — docker's classic image builder (POST /build, what
// `docker build` with DOCKER_BUILDKIT=0, docker-py's images.build and
// compose's `build:` use), over the container and image services.
//
// A build runs the Dockerfile's instructions in order, stage by stage (a
// stage starts at each FROM; --target stops after the named one). Each
// instruction makes one new image whose parent is the one before:
//  - RUN runs the command in a container made from the current image
//    (entrypoint reset, the stage's user, workdir and env plus the build
//    args in scope), streams its output, and commits the container's
//    changes; a non-zero exit fails the build with docker's message
//    "The command '<cmd>' returned a non-zero code: N".
//  - COPY and ADD put context files (or, with --from, another stage's or
//    image's files) into a container made from the current image, then
//    commit it. Destinations resolve inside the image's root, sources
//    inside the context (neither can reach outside). ADD also unpacks local
//    tar archives; ADD of a URL is refused by name.
//  - Every other instruction changes only the config: no container, an
//    image with an empty-layer history entry.
// Intermediate images are untagged and record their parent (config
// "parent"); the build cache reuses one when an image with the same parent,
// the same history line (for COPY/ADD it carries a digest of the copied
// content) and the same config exists (" ---> Using cache"), unless
// no_cache. With cache_from, an image whose history continues the current
// image's with the same step stands in too (docker's --cache-from; the
// step's layer is shared, not rebuilt). Intermediate containers are removed (remove / force_remove
// as docker's rm / forcerm).
//
// Output goes through BuildSink.stream as docker's text ("Step 2/5 : RUN
// ...", " ---> Running in <id>", the command's output, " ---> <id>",
// "Successfully built <id>", "Successfully tagged <name>"); pulls of FROM
// images report progress through BuildSink.progress.
// Errors: a parse error, a missing base image, a failed step: the Error
// (InvalidArgument/NotFound/...) with docker's message; what was built up to
// then stays as untagged images (docker's behaviour), containers of the
// failed step are removed when remove/force_remove say so.
// Thread-safety: builds may run concurrently (each has its own context dir).
// Depends on: base, build, image (through engine/images.h), engine/containers.h.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/digest.h"
#include "base/result.h"
#include "engine/containers.h"
#include "engine/images.h"

namespace berth::engine {

struct BuildOptions {
  std::string dockerfile = "Dockerfile";  // path inside the context
  std::vector<std::string> tags;          // "name:tag", validated by the caller
  // --build-arg: a null value (nullopt) means "not given" (docker's
  // buildargs {"A": null}).
  std::map<std::string, std::optional<std::string>> build_args;
  std::map<std::string, std::string> labels;  // added to the final image
  bool no_cache = false;
  bool pull = false;   // pull every FROM image even when present
  bool quiet = false;  // no step lines; only errors and the id (api/server)
  bool remove = true;
  bool force_remove = false;
  std::string target;        // stage name to stop after ("" = the last)
  std::string network_mode;  // for RUN ("" = default)
  std::vector<std::string> extra_hosts;
  std::string platform;  // "" | "linux/amd64"
  // The RUN/COPY containers' cgroup limits, ulimits and /dev/shm size
  // (docker build's --memory, --cpu-shares, --ulimit, --shm-size, ...),
  // checked by the caller as a create body's; 0 / empty = the defaults.
  Resources resources;
  int64_t shm_size = 0;
  // --cache-from: local images whose history may stand in for the cache
  // (names that are not here are skipped with a line saying so).
  std::vector<std::string> cache_from;
  // Registry credentials by registry host ("docker.io" for Docker Hub), as
  // X-Registry-Config carries them.
  std::map<std::string, Credentials> auth;
  const std::atomic<bool>* cancel = nullptr;  // the client went away
};

struct BuildSink {
  std::function<void(std::string_view text)> stream;
  ProgressFn progress;
};

// Builds from an extracted context directory (owned by the caller, read
// only); `scratch_dir` is an empty directory for the build's temporary
// files. Returns the final image id; tags it with every tag in `o.tags`.
Result<Digest> build_image(ContainerService& containers, ImageService& images,
                           const std::string& context_dir, const std::string& scratch_dir,
                           const BuildOptions& o, const BuildSink& out);

// Extracts a build context tar (plain or compressed, detected) into `dir`,
// an existing empty directory: regular files, directories, symlinks and
// hard links, with their modes and times (ownership is not kept: COPY sets
// its own). Names that escape `dir` (absolute, "..") and links through
// which a later entry would be written outside it are refused with
// InvalidArgument naming the entry; every entry is owned by root.
Result<void> extract_context(const ByteSourceFn& tar, const std::string& dir);

}  // namespace berth::engine
