// base/result.h — berth's error model: Result<T> and Error.
//
// Result<T> mirrors the names of std::expected<T, Error> (has_value, value,
// error, and_then, transform, value_or) so it can become an alias once the
// toolchain ships <expected>. No berth function throws; failures travel as
// Error values and are mapped to exit codes / HTTP statuses at the edges.
// Depends on: std and fmt only.
#pragma once

#include <fmt/format.h>

#include <cerrno>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace berth {

enum class Errc {
  InvalidArgument,
  NotFound,
  AlreadyExists,
  Conflict,
  FailedPrecondition,
  PermissionDenied,
  Unavailable,
  Cancelled,
  DeadlineExceeded,
  NotImplemented,
  Io,
  Internal,
};

const char* errc_name(Errc c);

struct Error {
  Errc code = Errc::Internal;
  int sys_errno = 0;  // errno of the failing syscall, 0 when not a syscall failure
  std::string message;

  // Prefixes the message: "outer: inner". Returns a copy so it chains on temporaries.
  Error context(std::string_view outer) const&;
  Error context(std::string_view outer) &&;
};

// Error from errno: message is "what: strerror(errno)". The Errc is derived
// from errno (ENOENT -> NotFound, EEXIST -> AlreadyExists, EPERM/EACCES ->
// PermissionDenied, EINVAL -> InvalidArgument, EBUSY -> Conflict, else Io).
Error sys_error(std::string_view what, int err = errno);
Errc errc_from_errno(int err);

template <typename... Args>
Error make_error(Errc code, fmt::format_string<Args...> f, Args&&... args) {
  return Error{code, 0, fmt::format(f, std::forward<Args>(args)...)};
}

// Marker used to construct a failed Result, like std::unexpected.
struct Unexpected {
  Error error;
};
inline Unexpected unexpected(Error e) { return Unexpected{std::move(e)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  using value_type = T;
  Result(T v) : v_(std::in_place_index<0>, std::move(v)) {}                 // NOLINT(implicit)
  Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}             // NOLINT(implicit)
  Result(Unexpected u) : v_(std::in_place_index<1>, std::move(u.error)) {}  // NOLINT
  template <typename U>
  requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, T> &&
           !std::is_same_v<std::decay_t<U>, Error> &&
           !std::is_same_v<std::decay_t<U>, Unexpected> &&
           !std::is_same_v<std::decay_t<U>, Result<T>>) Result(U&& u)
      : v_(std::in_place_index<0>, T(std::forward<U>(u))) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

  template <typename U>
  T value_or(U&& def) const& {
    return has_value() ? value() : static_cast<T>(std::forward<U>(def));
  }
  template <typename F>
  auto and_then(F&& f) && -> std::invoke_result_t<F, T&&> {
    if (!has_value()) return std::move(*this).error();
    return std::forward<F>(f)(std::move(*this).value());
  }
  template <typename F>
  auto transform(F&& f) && -> Result<std::invoke_result_t<F, T&&>> {
    if (!has_value()) return std::move(*this).error();
    return std::forward<F>(f)(std::move(*this).value());
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  using value_type = void;
  Result() = default;
  Result(Error e) : err_(std::move(e)), ok_(false) {}             // NOLINT
  Result(Unexpected u) : err_(std::move(u.error)), ok_(false) {}  // NOLINT
  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  void value() const {}
  const Error& error() const& { return err_; }
  Error&& error() && { return std::move(err_); }
  template <typename F>
  auto and_then(F&& f) && -> std::invoke_result_t<F> {
    if (!ok_) return std::move(err_);
    return std::forward<F>(f)();
  }
  template <typename F>
  auto transform(F&& f) && -> Result<std::invoke_result_t<F>> {
    if (!ok_) return std::move(err_);
    if constexpr (std::is_void_v<std::invoke_result_t<F>>) {
      std::forward<F>(f)();
      return {};
    } else {
      return std::forward<F>(f)();
    }
  }

 private:
  Error err_;
  bool ok_ = true;
};

inline Result<void> ok() { return {}; }

}  // namespace berth

// Evaluates a Result expression; on error returns the error from the caller.
// In expression form, yields the value: `auto fd = BERTH_TRY(open_file(p));`
#define BERTH_TRY(expr)                                                                         \
  ({                                                                                            \
    auto&& berth_try_r_ = (expr);                                                               \
    if (!berth_try_r_.has_value()) return ::berth::unexpected(std::move(berth_try_r_).error()); \
    std::move(berth_try_r_).value();                                                            \
  })

// Like BERTH_TRY, prefixing the error with a context string.
#define BERTH_TRY_CTX(expr, ctx)                                                \
  ({                                                                            \
    auto&& berth_try_r_ = (expr);                                               \
    if (!berth_try_r_.has_value())                                              \
      return ::berth::unexpected(std::move(berth_try_r_).error().context(ctx)); \
    std::move(berth_try_r_).value();                                            \
  })
