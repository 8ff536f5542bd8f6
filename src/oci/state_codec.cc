// OCI state (runtime.md "State"): the JSON that `state` prints and that hooks
// receive on stdin.
#include "oci/json_reader.h"
#include "oci/spec_codec.h"

namespace berth::oci {

Json state_to_json(const State& s) {
  // pid and bundle are always written: runc does, and consumers (containerd,
  // docker) read pid 0 as "no process" for stopped containers.
  Json j{{"ociVersion", s.oci_version},
         {"id", s.id},
         {"status", s.status},
         {"pid", s.pid},
         {"bundle", s.bundle}};
  if (!s.annotations.empty()) j["annotations"] = s.annotations;
  return j;
}

Result<State> parse_state(std::string_view text) {
  constexpr std::string_view kWhat = "state";
  Json j = BERTH_TRY(parse_json(text, kWhat));
  auto decode = [&j]() -> Result<State> {
    detail::JsonReader r(j, "");
    BERTH_TRY(r.expect_object());
    State s;
    for (const char* key : {"ociVersion", "id", "status"}) {
      if (!r.has(key)) return r.error(fmt::format("missing required field \"{}\"", key));
    }
    s.oci_version = BERTH_TRY(r.string("ociVersion"));
    s.id = BERTH_TRY(r.string("id"));
    s.status = BERTH_TRY(r.string("status"));
    s.pid = BERTH_TRY(r.integer<int>("pid"));
    s.bundle = BERTH_TRY(r.string("bundle"));
    s.annotations = BERTH_TRY(r.string_map("annotations"));
    if (s.pid < 0) return r.member("pid").error("must not be negative");
    return s;
  };
  auto s = decode();
  if (!s) return std::move(s).error().context(kWhat);
  return s;
}

}  // namespace berth::oci
