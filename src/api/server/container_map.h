// api/server/container_map.h — copies between the wire structs of
// api/types (container_config.h, containers.h) and the engine's
// (engine/container_types.h, engine/containers.h). The two sides have the
// same field names, so one template per struct serves both directions.
// Internal to api/server.
#pragma once

#include "api/types/container_config.h"
#include "api/types/containers.h"
#include "engine/container_types.h"
#include "engine/containers.h"

namespace berth::api::server {

engine::ContainerConfig to_engine(const api::ContainerConfig& c);
engine::HostConfig to_engine(const api::HostConfig& h);
engine::Resources to_engine(const api::Resources& r);
engine::RestartPolicy to_engine(const api::RestartPolicy& r);

api::ContainerConfig to_wire(const engine::ContainerConfig& c);
api::HostConfig to_wire(const engine::HostConfig& h);
api::ContainerState to_wire(const engine::ContainerState& s);
api::ContainerSummary to_wire(const engine::ContainerSummary& s);
api::ContainerInspect to_wire(const engine::ContainerDetail& d);
api::ExecInspect to_wire(const engine::ExecDetail& e);
api::StatsSample to_wire(const engine::StatsSample& s);
api::PathStat to_wire(const engine::PathStat& p);

}  // namespace berth::api::server
