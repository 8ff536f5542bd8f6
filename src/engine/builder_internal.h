// engine/builder_internal.h — the state of one build, shared by the
// builder's files (builder.cc: stages and config-only steps; builder_run.cc:
// RUN and the step containers; builder_copy.cc: COPY, ADD, WORKDIR).
// Internal to engine.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/json.h"
#include "build/dockerfile.h"
#include "build/expand.h"
#include "engine/builder.h"

namespace berth::engine::builder {

// One stage: from its FROM to the next.
struct Stage {
  std::string name;  // `AS name`, lower case ("" when unnamed)
  int index = 0;
  std::optional<Digest> image;   // none: FROM scratch before its first commit
  Json config = Json::object();  // docker's "config" object of the image being built
  std::string author;            // MAINTAINER
  bool cmd_set = false;          // CMD given in this stage (ENTRYPOINT keeps it then)
  // ARGs declared in this stage: name -> value (nullopt: declared, no value).
  std::vector<std::pair<std::string, std::optional<std::string>>> args;
};

class Build {
 public:
  Build(ContainerService& containers, ImageService& images, std::string context_dir,
        std::string scratch_dir, const BuildOptions& o, const BuildSink& out)
      : containers_(containers),
        images_(images),
        context_(std::move(context_dir)),
        scratch_(std::move(scratch_dir)),
        o_(o),
        out_(out) {}
  Result<Digest> run();

 private:
  // builder.cc
  Result<void> dispatch(Stage& s, const build::Instruction& in);
  Result<void> from(Stage& s, const build::Instruction& in);
  Result<Digest> base_image(const std::string& ref);
  Result<void> config_step(Stage& s, const std::string& comment);
  Result<void> config_only(Stage& s, const build::Instruction& in);
  build::Lookup lookup(const Stage& s) const;
  build::Lookup meta_lookup() const;  // the ARGs before the first FROM
  // "|2 A=1 B=2 " for RUN's created_by and the env its container gets.
  std::vector<std::string> run_args_env(const Stage& s) const;
  Result<std::vector<std::string>> shell_or_exec(const Stage& s, const build::Instruction& in);
  void say(std::string_view text);
  // Removes images this build restored from a --cache-from source that
  // nothing uses (not `result`, untagged, no child).
  void drop_dangling_restores(const Digest& result);
  Result<void> check_cancel() const;

  // builder_run.cc
  Result<void> run_step(Stage& s, const build::Instruction& in);
  // A container of the current image for a step (not started); creates the
  // blank base first for scratch. Its id is remembered for removal.
  Result<std::string> step_container(Stage& s, const Json& config,
                                     const std::vector<std::string>& cmd,
                                     const std::vector<std::string>& extra_env);
  void remove_container(const std::string& id, bool failed);
  // Commits `container` ("" = none: config only) as the stage's next image.
  Result<void> commit(Stage& s, const std::string& container, const std::string& created_by);
  Result<Digest> commit_image(const Stage& s, const std::string& container,
                              const std::string& created_by);
  // Commits a step's container, then removes it (as rm says) and clears
  // `container`.
  Result<void> commit_and_remove(Stage& s, std::string& container, const std::string& created_by);
  // Gives a scratch stage its (empty) base image.
  Result<void> ensure_image(Stage& s);
  // Looks the step up in the cache; true when it was used.
  Result<bool> cached(Stage& s, const std::string& created_by);
  std::string shell_prefix(const Stage& s) const;  // "/bin/sh -c"

  // builder_copy.cc
  Result<void> copy_step(Stage& s, const build::Instruction& in);
  Result<void> workdir_step(Stage& s, const build::Instruction& in);

  ContainerService& containers_;
  ImageService& images_;
  const std::string context_;
  const std::string scratch_;
  const BuildOptions& o_;
  const BuildSink& out_;

  std::vector<Stage> stages_;                                    // done and current
  std::map<std::string, std::optional<std::string>> meta_args_;  // ARGs before the first FROM
  std::set<std::string> used_args_;                              // build args an ARG consumed
  int step_ = 0, steps_ = 0;
  char escape_ = '\\';
  std::map<std::string, Digest> from_images_;  // COPY --from=<image> pulls, by name
  // --cache-from images still in play: all of them until one is used, then
  // that one only (docker's rule: a build does not hop between sources).
  std::vector<Digest> cache_sources_;
  std::vector<Digest> restored_;  // images restore_build_cache made for this build
};

// The strings of a JSON array (an image config's Env, Shell, OnBuild);
// anything else gives none.
inline std::vector<std::string> strings_of(const Json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& e : j)
      if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

// Go's FileMode directory bit (PathStat.mode).
constexpr uint32_t kGoModeDir = 1u << 31;

}  // namespace berth::engine::builder
