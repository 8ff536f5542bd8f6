// engine/container_messages.h — docker's error texts for container verbs
// (clients and scripts match them, so they are reproduced exactly).
// Depends on: base.
#pragma once

#include <fmt/format.h>

#include <string>

#include "base/result.h"

namespace berth::engine::msg {

inline Error no_such_container(const std::string& name) {
  return Error{Errc::NotFound, 0, fmt::format("No such container: {}", name)};
}
inline Error no_such_image(const std::string& name) {
  return Error{Errc::NotFound, 0, fmt::format("No such image: {}", name)};
}
inline Error no_such_exec(const std::string& id) {
  return Error{Errc::NotFound, 0, fmt::format("No such exec instance: {}", id)};
}
inline Error name_in_use(const std::string& name, const std::string& id) {
  return Error{Errc::Conflict, 0,
               fmt::format("Conflict. The container name \"/{}\" is already in use by container "
                           "\"{}\". You have to remove (or rename) that container to be able to "
                           "reuse that name.",
                           name, id)};
}
inline Error invalid_name(const std::string& name) {
  return Error{Errc::InvalidArgument, 0,
               fmt::format("Invalid container name ({}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
                           "allowed",
                           name)};
}
inline Error remove_running(const std::string& id) {
  return Error{Errc::Conflict, 0,
               fmt::format("You cannot remove a running container {}. Stop the container before "
                           "attempting removal or force remove",
                           id)};
}
inline Error remove_paused(const std::string& id) {
  return Error{Errc::Conflict, 0,
               fmt::format("You cannot remove a paused container {}. Unpause and then stop the "
                           "container before attempting removal or force remove",
                           id)};
}
inline Error not_running(const std::string& id) {
  return Error{Errc::Conflict, 0, fmt::format("Container {} is not running", id)};
}
inline Error is_paused(const std::string& id) {
  return Error{
      Errc::Conflict, 0,
      fmt::format("Container {} is paused, unpause the container before stop or kill", id)};
}
// docker names the container as the client did ("web", not its id).
inline Error exec_paused(const std::string& name) {
  return Error{Errc::Conflict, 0,
               fmt::format("Container {} is paused, unpause the container before exec", name)};
}
inline Error not_paused(const std::string& id) {
  return Error{Errc::Conflict, 0, fmt::format("Container {} is not paused", id)};
}
inline Error already_paused(const std::string& id) {
  return Error{Errc::Conflict, 0, fmt::format("Container {} is already paused", id)};
}
inline Error restarting(const std::string& id) {
  return Error{Errc::Conflict, 0,
               fmt::format("Container {} is restarting, wait until the container is running", id)};
}
inline Error attach_stopped() {
  return Error{Errc::Conflict, 0, "You cannot attach to a stopped container, start it first"};
}
inline Error attach_paused() {
  return Error{Errc::Conflict, 0, "You cannot attach to a paused container, unpause it first"};
}
inline Error already_removing(const std::string& id) {
  return Error{Errc::Conflict, 0,
               fmt::format("removal of container {} is already in progress", id)};
}
inline Error no_logs_driver(const std::string& driver) {
  return Error{Errc::InvalidArgument, 0,
               fmt::format("configured logging driver does not support reading: {}", driver)};
}
// docker's prefix for start failures of the runtime.
inline std::string start_failed(const std::string& detail) {
  return fmt::format(
      "failed to create task for container: failed to create shim task: OCI runtime create "
      "failed: {}: unknown",
      detail);
}

}  // namespace berth::engine::msg
