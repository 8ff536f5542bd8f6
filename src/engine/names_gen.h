// engine/names_gen.h — docker-style generated container names:
// "<adjective>_<surname>" from berth's own word lists (surnames of notable
// scientists and engineers). retry > 0 appends a random digit, as docker
// does when a generated name is taken.
// Depends on: std only.
#pragma once

#include <cstdint>
#include <random>
#include <string>

namespace berth::engine {

std::string generate_name(std::mt19937_64& rng, int retry = 0);
// Convenience: a process-wide, randomly seeded generator (thread-safe).
std::string generate_name(int retry = 0);

}  // namespace berth::engine
