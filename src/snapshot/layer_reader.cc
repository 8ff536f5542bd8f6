// snapshot/layer_reader.cc — the chained libarchive readers (see header).
#include "snapshot/layer_reader.h"

#include <archive_entry.h>

#include <cerrno>

namespace berth::snapshot {

namespace {
// Every compression docker accepts for a layer. All are in-process in
// Debian's libarchive; archive_read_support_filter_all would also enable
// filters that fork external programs (lrzip, lzop, grzip), which must never
// happen inside the multi-threaded daemon.
void support_filters(archive* a) {
  archive_read_support_filter_gzip(a);
  archive_read_support_filter_zstd(a);
  archive_read_support_filter_xz(a);
  archive_read_support_filter_bzip2(a);
}
}  // namespace

LayerReader::LayerReader(ByteSource src) : src_(std::move(src)) {}

LayerReader::~LayerReader() {
  if (tar_) archive_read_free(tar_);
  if (raw_) archive_read_free(raw_);
}

la_ssize_t LayerReader::raw_read_cb(archive* a, void* self, const void** buf) {
  auto* r = static_cast<LayerReader*>(self);
  auto chunk = r->src_();
  if (!chunk) {
    r->src_error_ = std::move(chunk).error();
    archive_set_error(a, EIO, "%s", r->src_error_->message.c_str());
    return -1;
  }
  r->chunk_ = std::move(*chunk);
  *buf = r->chunk_.data();
  return static_cast<la_ssize_t>(r->chunk_.size());  // 0 = end of stream
}

la_ssize_t LayerReader::tar_read_cb(archive* a, void* self, const void** buf) {
  auto* r = static_cast<LayerReader*>(self);
  auto block = r->next_raw();
  if (!block) {
    archive_set_error(a, EIO, "%s", block.error().message.c_str());
    return -1;
  }
  *buf = block->data();
  return static_cast<la_ssize_t>(block->size());
}

Result<std::unique_ptr<LayerReader>> LayerReader::open(ByteSource src) {
  std::unique_ptr<LayerReader> r(new LayerReader(std::move(src)));
  r->raw_ = archive_read_new();
  if (!r->raw_) return make_error(Errc::Internal, "archive_read_new failed");
  support_filters(r->raw_);
  archive_read_support_format_raw(r->raw_);
  archive_read_support_format_empty(r->raw_);  // a 0-byte blob is an empty layer
  if (archive_read_open(r->raw_, r.get(), nullptr, raw_read_cb, nullptr) != ARCHIVE_OK)
    return r->error(r->raw_, "reading the layer");
  archive_entry* e = nullptr;
  int rc = archive_read_next_header(r->raw_, &e);
  if (rc == ARCHIVE_EOF) {
    r->raw_eof_ = true;
  } else if (rc < ARCHIVE_WARN) {
    return r->error(r->raw_, "reading the layer");
  }
  return r;
}

Result<std::string_view> LayerReader::next_raw() {
  if (raw_eof_) return std::string_view();
  const void* buf = nullptr;
  size_t len = 0;
  la_int64_t off = 0;
  int rc = archive_read_data_block(raw_, &buf, &len, &off);
  if (rc == ARCHIVE_EOF) {
    raw_eof_ = true;
    return std::string_view();
  }
  if (rc < ARCHIVE_WARN) return error(raw_, "decompressing the layer");
  sha_.update(buf, len);
  return std::string_view(static_cast<const char*>(buf), len);
}

Result<void> LayerReader::open_tar() {
  tar_ = archive_read_new();
  if (!tar_) return make_error(Errc::Internal, "archive_read_new failed");
  archive_read_support_format_tar(tar_);  // ustar, pax and GNU tar
  archive_read_support_format_empty(tar_);
  if (archive_read_open(tar_, this, nullptr, tar_read_cb, nullptr) != ARCHIVE_OK)
    return error(tar_, "reading the layer tar");
  return ok();
}

Result<Digest> LayerReader::finish() {
  for (;;) {
    auto b = BERTH_TRY(next_raw());
    if (b.empty()) break;
  }
  return sha_.finish();
}

Error LayerReader::error(archive* a, std::string_view what) const {
  if (src_error_) return src_error_->context(what);
  const char* msg = a ? archive_error_string(a) : nullptr;
  std::string m = msg ? msg : "unknown libarchive error";
  if (m == "Unrecognized archive format") m = "not a tar archive";
  return make_error(Errc::InvalidArgument, "{}: {}", what, m);
}

Result<Digest> stream_uncompressed(ByteSource src,
                                   const std::function<Result<void>(std::string_view)>& sink) {
  auto r = BERTH_TRY(LayerReader::open(std::move(src)));
  for (;;) {
    auto b = BERTH_TRY(r->next_raw());
    if (b.empty()) break;
    BERTH_TRY(sink(b));
  }
  return r->finish();
}

}  // namespace berth::snapshot
