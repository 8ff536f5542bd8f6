// logs/options.cc — docker's --log-opt keys for the json-file and local drivers.
#include "base/size.h"
#include "base/strings.h"
#include "logs/json_file.h"

namespace berth::logs {

Result<RotateOptions> parse_log_opts(const std::map<std::string, std::string>& opts,
                                     std::string_view driver) {
  RotateOptions r;
  const bool local = driver == "local";
  if (local) {
    // docker's local driver: 100 MB per container, compressed.
    r.max_size = 20 * 1024 * 1024;
    r.max_files = 5;
    r.compress = true;
  }
  for (const auto& [k, v] : opts) {
    if (k == "max-size") {
      auto n = parse_ram_in_bytes(v);
      if (!n) return std::move(n).error();
      if (*n <= 0) return make_error(Errc::InvalidArgument, "max-size must be a positive number");
      r.max_size = *n;
    } else if (k == "max-file") {
      auto n = parse_int(v);
      if (!n)
        return make_error(Errc::InvalidArgument,
                          "strconv.Atoi: parsing \"{}\": invalid syntax (max-file)", v);
      if (*n < 1) return make_error(Errc::InvalidArgument, "max-file cannot be less than 1");
      if (*n > 1'000'000) return make_error(Errc::InvalidArgument, "max-file {} is too large", *n);
      r.max_files = static_cast<int>(*n);
    } else if (k == "compress") {
      if (v == "true" || v == "1" || v == "t" || v == "T" || v == "TRUE" || v == "True") {
        r.compress = true;
      } else if (v == "false" || v == "0" || v == "f" || v == "F" || v == "FALSE" || v == "False") {
        r.compress = false;
      } else {
        return make_error(Errc::InvalidArgument,
                          "strconv.ParseBool: parsing \"{}\": invalid syntax (compress)", v);
      }
    } else if (!local && (k == "labels" || k == "labels-regex" || k == "env" || k == "env-regex" ||
                          k == "tag")) {
      // The entries' attrs (log_attributes, logs/attrs.cc); "tag" is unused by
      // json-file, as in docker.
    } else if (local) {
      return make_error(Errc::InvalidArgument, "unknown log opt '{}' for local log driver", k);
    } else {
      return make_error(Errc::InvalidArgument, "unknown log opt '{}' for json-file log driver", k);
    }
  }
  // Compression applies to rotated files: none without a second file.
  if (r.compress && r.max_files < 2) {
    if (local)
      return make_error(Errc::InvalidArgument,
                        "compression cannot be enabled when max file count is 1");
    return make_error(
        Errc::InvalidArgument,
        "compress cannot be true when max-file is less than 2 or max-size is not set");
  }
  return r;
}

}  // namespace berth::logs
