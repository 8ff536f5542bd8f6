// save, load, import: tarballs between files/stdio and the daemon.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fd.h"
#include "base/file.h"
#include "base/scope_exit.h"
#include "base/strings.h"
#include "cli/context.h"
#include "oci/reference.h"

namespace berth::cli {
namespace {

using api::client::EngineClient;

// Reads fd in 1 MiB chunks; "" at the end.
api::client::ByteSource fd_source(int fd) {
  return [fd]() -> Result<std::string> {
    std::string buf(1 << 20, '\0');
    while (true) {
      ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys_error("reading input");
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
  };
}

Result<int> run_save(Context& ctx, const FlagSet& f, const std::vector<std::string>& args) {
  std::string output = f.get_string("output");
  if (output.empty() && ctx.out_is_terminal())
    return make_error(Errc::InvalidArgument,
                      "cowardly refusing to save to a terminal. Use the -o flag or redirect");
  EngineClient* c = BERTH_TRY(ctx.client());
  if (output.empty()) {
    ctx.flush();
    BERTH_TRY(
        c->save(args, [](std::string_view chunk) { return write_all(STDOUT_FILENO, chunk); }));
    return 0;
  }
  // Like docker: a temp file beside the target, renamed over it when complete.
  std::string dir = ".";
  if (auto slash = output.rfind('/'); slash != std::string::npos)
    dir = slash == 0 ? "/" : output.substr(0, slash);
  std::string tmp = dir + "/.berth_temp_" + std::to_string(::getpid());
  int raw = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (raw < 0)
    return sys_error(fmt::format("failed to save image: unable to create file {}", output));
  Fd fd(raw);
  bool done = false;
  ScopeExit cleanup([&] {
    if (!done) ::unlink(tmp.c_str());
  });
  BERTH_TRY(c->save(args, [&](std::string_view chunk) { return write_all(fd.get(), chunk); }));
  if (::fsync(fd.get()) != 0) return sys_error("failed to save image: fsync " + tmp);
  if (::rename(tmp.c_str(), output.c_str()) != 0)
    return sys_error("failed to save image: unable to rename to " + output);
  done = true;
  return 0;
}

Result<int> run_load(Context& ctx, const FlagSet& f, const std::vector<std::string>&) {
  std::string input = f.get_string("input");
  Fd owned;
  int fd = STDIN_FILENO;
  if (!input.empty()) {
    int raw = ::open(input.c_str(), O_RDONLY | O_CLOEXEC);
    if (raw < 0) return sys_error("open " + input);
    owned = Fd(raw);
    fd = raw;
  } else if (ctx.in_is_terminal()) {
    return make_error(Errc::InvalidArgument, "requested load from stdin, but stdin is empty");
  }
  EngineClient* c = BERTH_TRY(ctx.client());
  bool quiet = f.get_bool("quiet");
  BERTH_TRY(c->load(fd_source(fd), quiet, progress_printer(ctx, false)));
  return 0;
}

Result<int> run_import(Context& ctx, const FlagSet& f, const std::vector<std::string>& args) {
  api::client::ImportOptions o;
  const std::string& src = args[0];
  Fd owned;
  if (src == "-") {
    o.source = fd_source(STDIN_FILENO);
  } else if (starts_with(src, "http://") || starts_with(src, "https://")) {
    o.source_url = src;
  } else {
    int raw = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
    if (raw < 0) return sys_error("open " + src);
    owned = Fd(raw);
    o.source = fd_source(raw);
  }
  if (args.size() > 1) {
    auto ref = oci::Reference::parse(args[1], false);
    if (!ref) return ref.error();
    if (ref->digest())
      return make_error(Errc::InvalidArgument, "refusing to create a tag with a digest reference");
    o.repo = args[1];
  }
  o.message = f.get_string("message");
  o.changes = f.get_list("change");
  o.platform = f.get_string("platform");
  EngineClient* c = BERTH_TRY(ctx.client());
  BERTH_TRY(c->import(o, progress_printer(ctx, false)));
  return 0;
}

}  // namespace

void add_archive_commands(std::vector<Command>& cmds) {
  cmds.push_back({"image save",
                  {"save"},
                  "[OPTIONS] IMAGE [IMAGE...]",
                  "Save one or more images to a tar archive (streamed to STDOUT by default)",
                  1,
                  -1,
                  [](FlagSet& f) {
                    f.add_string("output", 'o', "", "Write to a file, instead of STDOUT");
                    f.add_list("platform", 0, "Save only the given platform variant", "strings");
                  },
                  run_save});
  cmds.push_back({"image load",
                  {"load"},
                  "[OPTIONS]",
                  "Load an image from a tar archive or STDIN",
                  0,
                  0,
                  [](FlagSet& f) {
                    f.add_string("input", 'i', "", "Read from tar archive file, instead of STDIN");
                    f.add_list("platform", 0, "Load only the given platform variant", "strings");
                    f.add_bool("quiet", 'q', "Suppress the load output");
                  },
                  run_load});
  cmds.push_back({"image import",
                  {"import"},
                  "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
                  "Import the contents from a tarball to create a filesystem image",
                  1,
                  2,
                  [](FlagSet& f) {
                    f.add_list("change", 'c', "Apply Dockerfile instruction to the created image");
                    f.add_string("message", 'm', "", "Set commit message for imported image");
                    f.add_string("platform", 0, "",
                                 "Set platform if server is multi-platform capable");
                  },
                  run_import});
}

}  // namespace berth::cli
