// The build's context on disk: the client's tar extracted into a private
// directory under the data root, removed with the build.
#include <sys/stat.h>

#include <filesystem>

#include "base/digest.h"
#include "base/log.h"
#include "engine/archive.h"
#include "engine/builder.h"
#include "engine/engine.h"

namespace berth::engine {

Result<void> extract_context(const ByteSourceFn& tar, const std::string& dir) {
  // archive_put's extraction resolves every name inside `dir` (never
  // through a symlink the tar made) and refuses names that climb out.
  auto root = BERTH_TRY(open_root(dir));
  PutOptions po;
  po.chown_to = PutOptions::Owner{0, 0};
  auto r = archive_put(root.get(), "/", tar, po);
  if (!r) return std::move(r).error().context("build context");
  return ok();
}

Result<Digest> Engine::build(const ByteSourceFn& tar, const BuildOptions& o, const BuildSink& out) {
  if (!containers_)
    return make_error(Errc::NotImplemented, "this berthd was started without containers");
  const std::string base = opts_.data_root + "/builds";
  ::mkdir(base.c_str(), 0700);
  const std::string dir = base + "/" + random_hex_id().substr(0, 16);
  if (::mkdir(dir.c_str(), 0700) != 0) return sys_error("mkdir " + dir);
  struct Remove {
    std::string dir;
    ~Remove() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
      if (ec) log_warn("build: removing {}: {}", dir, ec.message());
    }
  } remove{dir};
  const std::string context = dir + "/context", scratch = dir + "/scratch";
  if (::mkdir(context.c_str(), 0700) != 0) return sys_error("mkdir " + context);
  if (::mkdir(scratch.c_str(), 0700) != 0) return sys_error("mkdir " + scratch);
  BERTH_TRY(extract_context(tar, context));
  return build_image(*containers_, *images_, context, scratch, o, out);
}

}  // namespace berth::engine
