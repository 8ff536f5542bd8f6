// base/shared_library.cc — dlopen/dlsym behind SharedLibrary.
#include "base/shared_library.h"

#include <dlfcn.h>

namespace berth {

Result<SharedLibrary> SharedLibrary::open(const std::string& soname, std::string_view purpose) {
  void* h = dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* why = dlerror();
    return make_error(Errc::FailedPrecondition, "{} needs {}, which could not be loaded: {}",
                      purpose, soname, why ? why : "unknown error");
  }
  return SharedLibrary(soname, h);
}

void* SharedLibrary::lookup(const char* name) {
  void* sym = dlsym(handle_, name);
  if (!sym) {
    if (!missing_.empty()) missing_ += ", ";
    missing_ += name;
  }
  return sym;
}

Result<void> SharedLibrary::finish(std::string_view requirement) const {
  if (missing_.empty()) return ok();
  return make_error(Errc::FailedPrecondition, "{} lacks {} ({})", soname_, missing_, requirement);
}

}  // namespace berth
