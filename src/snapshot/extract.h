// snapshot/extract.h — writes the entries of a layer tar into a directory,
// refusing every escape (see snapshotter.h for the contract).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "snapshot/layer_reader.h"

namespace berth::snapshot {

enum class WhiteoutMode {
  Overlay,  // .wh.NAME -> 0:0 char device NAME; .wh..wh..opq -> trusted.overlay.opaque=y
  Delete,   // .wh.NAME -> NAME removed; .wh..wh..opq -> the dir's older content removed
};

// Extracts r's tar (open_tar() is called here) into the directory open at
// root_fd (the caller's fresh tmp dir). Returns the bytes of regular file
// content written. Errors: InvalidArgument "layer entry \"NAME\": why" for a
// refused entry or corrupt/non-tar data, the ByteSource's error, or the
// failing syscall's error prefixed with the entry name. On error the caller
// removes the tmp dir.
Result<int64_t> extract_layer(LayerReader& r, int root_fd, WhiteoutMode mode);

// Lexically cleans a tar entry name like Go's filepath.Clean on a path made
// relative: leading '/' dropped, "." and empty components removed, ".."
// pops. nullopt when ".." would leave the root. "" names the root itself.
std::optional<std::string> clean_entry_path(std::string_view p);

}  // namespace berth::snapshot
