// cli/image_rows.h — docker's formatter contexts for image lists, history and
// search, as JSON rows (field -> string) for cli/format.h, with docker's
// column titles. Rows follow docker's rules: one row per repository:tag, per
// digest with --digests, "<none>" for what is missing.
// Depends on: api/client (types), cli/units.
#pragma once

#include <string>
#include <vector>

#include "api/client/types.h"
#include "base/json.h"
#include "cli/template.h"

namespace berth::cli {

// Only the fields in `fields` are filled (all when nullopt).
std::vector<Json> image_rows(const std::vector<api::client::ImageSummary>& images, bool digests,
                             bool trunc, int64_t now_unix, const FieldSet& fields = std::nullopt);
Json image_headers();
inline constexpr const char* kImagesTable =
    "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
inline constexpr const char* kImagesDigestsTable =
    "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";

std::vector<Json> history_rows(const std::vector<api::client::HistoryItem>& items, bool human,
                               bool trunc, int64_t now_unix);
Json history_headers();

std::vector<Json> search_rows(const std::vector<api::client::SearchResult>& rows, bool trunc);
Json search_headers();

// "sha256:0123456789abcdef..." -> "0123456789ab" (docker's stringid.TruncateID).
std::string truncate_id(const std::string& id);
// "docker.io/library/busybox" -> "busybox" (docker's FamiliarName).
std::string familiar_name(const std::string& name);

}  // namespace berth::cli
