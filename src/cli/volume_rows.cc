// cli/volume_rows: docker's volumeContext fields (see volume_rows.h).
#include "cli/volume_rows.h"

#include <algorithm>
#include <string>
#include <vector>

#include "base/strings.h"
#include "cli/format.h"
#include "cli/units.h"

namespace berth::cli {
namespace {

std::string labels_text(const Json& labels) {
  std::vector<std::string> parts;
  if (labels.is_object())
    for (auto it = labels.begin(); it != labels.end(); ++it)
      parts.push_back(it.key() + "=" + (it->is_string() ? it->get<std::string>() : ""));
  return join(parts, ",");
}

}  // namespace

Json volume_headers() {
  return Json{{"Name", "VOLUME NAME"},
              {"Driver", "DRIVER"},
              {"Scope", "SCOPE"},
              {"Mountpoint", "MOUNTPOINT"},
              {"Labels", "LABELS"},
              {"Links", "LINKS"},
              {"Size", "SIZE"},
              {"Group", "GROUP"},
              {"Availability", "AVAILABILITY"},
              {"Status", "STATUS"}};
}

Json volume_row(const Json& v) {
  std::string links = "N/A", size = "N/A";
  if (v.contains("UsageData") && v["UsageData"].is_object()) {
    const Json& u = v["UsageData"];
    links = std::to_string(u.value("RefCount", int64_t{0}));
    size = human_size(static_cast<double>(std::max<int64_t>(0, u.value("Size", int64_t{0}))));
  }
  Json labels = v.contains("Labels") && v["Labels"].is_object() ? v["Labels"] : Json::object();
  return Json{{kRowLabels, labels},
              {"Name", v.value("Name", "")},
              {"Driver", v.value("Driver", "")},
              {"Scope", v.value("Scope", "")},
              {"Mountpoint", v.value("Mountpoint", "")},
              {"Labels", labels_text(v.value("Labels", Json::object()))},
              {"Links", links},
              {"Size", size},
              {"Group", "N/A"},
              {"Availability", "N/A"},
              {"Status", "N/A"}};
}

}  // namespace berth::cli
