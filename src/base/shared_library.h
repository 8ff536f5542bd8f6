// base/shared_library.h — a shared library opened at run time, for optional
// or rarely used dependencies that an idle daemon should not map.
//
// SharedLibrary::open dlopens a soname (RTLD_NOW | RTLD_LOCAL, so the
// library's symbols never interpose on anything else); bind() resolves entry
// points into typed function pointers and remembers the names it could not
// find; finish() turns those into one error. The library is never closed:
// the pointers stay valid for the life of the process.
//
// Typical use is a function-local static built on first call, which makes
// loading thread-safe and happen at most once.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace berth {

class SharedLibrary {
 public:
  // FailedPrecondition "<purpose> needs <soname>, which could not be loaded:
  // <dlerror>" when the library is absent or broken.
  static Result<SharedLibrary> open(const std::string& soname, std::string_view purpose);

  // Sets `out` to the symbol `name`, or records it as missing (out unchanged).
  template <class F>
  void bind(const char* name, F& out) {
    void* sym = lookup(name);
    if (sym) out = reinterpret_cast<F>(sym);
  }

  // ok() when every bind() succeeded, else FailedPrecondition
  // "<soname> lacks a, b (<requirement>)".
  Result<void> finish(std::string_view requirement) const;

 private:
  SharedLibrary(std::string soname, void* handle) : soname_(std::move(soname)), handle_(handle) {}
  void* lookup(const char* name);

  std::string soname_;
  void* handle_;
  std::string missing_;
};

}  // namespace berth
