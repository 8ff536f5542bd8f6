// base/digest.h — content digests ("sha256:<64 hex>") and streaming SHA-256.
//
// Digest is the strong type for every content address in berth (blobs, image
// ids, diff ids, chain ids). Only sha256 is accepted: it is the only algorithm
// Docker and the OCI distribution spec require, and accepting others would let
// a manifest name content berth cannot verify.
// Depends on: std, fmt, OpenSSL (libcrypto).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

namespace berth {

class Digest {
 public:
  Digest() = default;  // empty: valid() is false

  // Accepts exactly "sha256:" + 64 lowercase hex digits. InvalidArgument
  // names the bad input otherwise.
  static Result<Digest> parse(std::string_view s);
  // From 64 lowercase hex digits (no algorithm prefix).
  static Result<Digest> from_hex(std::string_view hex);

  bool valid() const { return !hex_.empty(); }
  std::string str() const { return "sha256:" + hex_; }         // "sha256:abc..."
  const std::string& hex() const { return hex_; }              // "abc..."
  std::string short_id() const { return hex_.substr(0, 12); }  // docker's 12-char id

  auto operator<=>(const Digest&) const = default;

 private:
  std::string hex_;
};

// Incremental SHA-256 (OpenSSL EVP). Not thread-safe; one per stream.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  void update(std::string_view data);
  void update(const void* data, size_t n);
  uint64_t bytes() const { return bytes_; }
  // Ends the stream; the object must not be updated afterwards.
  Digest finish();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
  uint64_t bytes_ = 0;
};

Digest sha256_of(std::string_view data);

// Random 64-hex identifier (container ids, lease ids): 32 bytes from getrandom.
std::string random_hex_id();

}  // namespace berth

template <>
struct std::hash<berth::Digest> {
  size_t operator()(const berth::Digest& d) const noexcept {
    return std::hash<std::string>()(d.hex());
  }
};
