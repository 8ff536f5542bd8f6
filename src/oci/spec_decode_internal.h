// oci/spec_decode_internal.h — decoders for the parts of config.json, shared
// by the files that implement parse_spec. Internal to the oci module.
// Each decoder reads one JSON object (checking that it is one) and returns
// InvalidArgument naming the JSON path on a type or range error.
#pragma once

#include "base/result.h"
#include "oci/json_reader.h"
#include "oci/spec.h"

namespace berth::oci::detail {

Result<IdMapping> decode_id_mapping(const JsonReader& r);
Result<Process> decode_process(const JsonReader& r);
Result<Linux> decode_linux(const JsonReader& r);
Result<Resources> decode_resources(const JsonReader& r);
Result<Seccomp> decode_seccomp(const JsonReader& r);

}  // namespace berth::oci::detail
