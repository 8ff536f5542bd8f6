// engine/commit_config.h — the image config that `commit` writes.
//
// docker's POST /commit: with a body config, what the body leaves empty comes
// from the container's config (which create already merged with its image):
// User, WorkingDir, StopSignal when empty; Cmd (and ArgsEscaped) when both
// Entrypoint and Cmd are empty, Entrypoint when absent; Env gains the
// container's variables whose names the body does not set; Labels, exposed
// ports and volumes are unions (the body wins on a label key); Healthcheck
// fields left zero are the container's. Without a body the container's
// config is used as it is.
// Depends on: base, engine/container_types.h.
#pragma once

#include "base/json.h"
#include "engine/container_types.h"

namespace berth::engine {

ContainerConfig merge_commit_config(ContainerConfig body, const ContainerConfig& container);

// The image config's "config" object in docker's keys (User, ExposedPorts,
// Env, Entrypoint, Cmd, Volumes, WorkingDir, Labels, StopSignal, and the
// docker extensions Healthcheck, OnBuild, Shell, ArgsEscaped when set).
Json image_config_json(const ContainerConfig& c);

}  // namespace berth::engine
