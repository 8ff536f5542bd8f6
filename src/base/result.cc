#include "base/result.h"

#include <cstring>

namespace berth {

const char* errc_name(Errc c) {
  switch (c) {
    case Errc::InvalidArgument:
      return "invalid argument";
    case Errc::NotFound:
      return "not found";
    case Errc::AlreadyExists:
      return "already exists";
    case Errc::Conflict:
      return "conflict";
    case Errc::FailedPrecondition:
      return "failed precondition";
    case Errc::PermissionDenied:
      return "permission denied";
    case Errc::Unavailable:
      return "unavailable";
    case Errc::Cancelled:
      return "cancelled";
    case Errc::DeadlineExceeded:
      return "deadline exceeded";
    case Errc::NotImplemented:
      return "not implemented";
    case Errc::Io:
      return "i/o error";
    case Errc::Internal:
      return "internal error";
  }
  return "unknown";
}

Error Error::context(std::string_view outer) const& {
  Error e = *this;
  e.message = fmt::format("{}: {}", outer, message);
  return e;
}

Error Error::context(std::string_view outer) && {
  message = fmt::format("{}: {}", outer, message);
  return std::move(*this);
}

Errc errc_from_errno(int err) {
  switch (err) {
    case ENOENT:
    case ESRCH:
      return Errc::NotFound;
    case EEXIST:
      return Errc::AlreadyExists;
    case EPERM:
    case EACCES:
      return Errc::PermissionDenied;
    case EINVAL:
      return Errc::InvalidArgument;
    case EBUSY:
      return Errc::Conflict;
    case ENOSYS:
    case EOPNOTSUPP:
      return Errc::NotImplemented;
    case ETIMEDOUT:
      return Errc::DeadlineExceeded;
    case EINTR:
      return Errc::Cancelled;
    default:
      return Errc::Io;
  }
}

Error sys_error(std::string_view what, int err) {
  return Error{errc_from_errno(err), err, fmt::format("{}: {}", what, std::strerror(err))};
}

}  // namespace berth
