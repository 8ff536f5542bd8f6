#include "base/digest.h"

#include <openssl/evp.h>
#include <sys/random.h>

#include <cerrno>

namespace berth {

namespace {
bool is_lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}
constexpr char kHex[] = "0123456789abcdef";
std::string to_hex(const unsigned char* p, size_t n) {
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[p[i] >> 4];
    out[2 * i + 1] = kHex[p[i] & 15];
  }
  return out;
}
}  // namespace

Result<Digest> Digest::from_hex(std::string_view hex) {
  if (hex.size() != 64 || !is_lower_hex(hex)) {
    return make_error(Errc::InvalidArgument,
                      "invalid digest \"{}\": expected 64 lowercase hex digits", hex);
  }
  Digest d;
  d.hex_ = std::string(hex);
  return d;
}

Result<Digest> Digest::parse(std::string_view s) {
  auto colon = s.find(':');
  if (colon == std::string_view::npos) {
    return make_error(Errc::InvalidArgument, "invalid digest \"{}\": missing algorithm", s);
  }
  if (s.substr(0, colon) != "sha256") {
    return make_error(Errc::InvalidArgument,
                      "unsupported digest algorithm \"{}\" in \"{}\" (only sha256)",
                      s.substr(0, colon), s);
  }
  auto d = from_hex(s.substr(colon + 1));
  if (!d) return make_error(Errc::InvalidArgument, "invalid digest \"{}\"", s);
  return d;
}

struct Sha256::Ctx {
  EVP_MD_CTX* md = nullptr;
  ~Ctx() { EVP_MD_CTX_free(md); }
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
  ctx_->md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr);
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(const void* data, size_t n) {
  EVP_DigestUpdate(ctx_->md, data, n);
  bytes_ += n;
}
void Sha256::update(std::string_view data) { update(data.data(), data.size()); }

Digest Sha256::finish() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx_->md, out, &n);
  return Digest::from_hex(to_hex(out, n)).value();
}

Digest sha256_of(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.finish();
}

std::string random_hex_id() {
  unsigned char buf[32];
  size_t got = 0;
  while (got < sizeof buf) {
    ssize_t n = getrandom(buf + got, sizeof buf - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // cannot happen on Linux >= 3.17 for <= 256 bytes
    got += static_cast<size_t>(n);
  }
  return to_hex(buf, sizeof buf);
}

}  // namespace berth
