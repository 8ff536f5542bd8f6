// cli/volume_rows.h — docker's volume formatter context as a JSON row
// (field -> string) for cli/format.h: `volume ls` and `system df -v`.
// Links and Size come from UsageData (only /system/df fills it), "N/A"
// without; Group, Availability and Status are docker 28's cluster-volume
// columns, "N/A" for local volumes.
// Depends on: base, cli/units.
#pragma once

#include "base/json.h"

namespace berth::cli {

Json volume_headers();
// One element of /volumes' "Volumes" or /system/df's "Volumes".
Json volume_row(const Json& v);

}  // namespace berth::cli
