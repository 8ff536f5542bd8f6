// engine/images.h — the image domain as the engine exposes it to api/server.
// The engine serves images through image::ImageService unchanged; these
// aliases let api/server name the types without depending on image/ itself.
// Depends on: image, registry.
#pragma once

#include "image/service.h"

namespace berth::engine {

using image::ByteSink;
using image::ByteSource;
using image::CommitRequest;
using image::DeleteItem;
using image::DiskUsage;
using image::EventFn;
using image::HistoryEntry;
using image::ImageDetail;
using image::ImageEvent;
using image::ImageService;
using image::ImageSummary;
using image::ImportRequest;
using image::ListFilters;
using image::Platform;
using image::ProgressEvent;
using image::ProgressFn;
using image::PruneReport;
using image::PullRequest;
using image::PullResult;
using image::PushRequest;
using registry::Credentials;
using RegistrySearchResult = registry::SearchResult;

}  // namespace berth::engine
