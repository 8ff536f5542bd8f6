// LocalImageService::distribution_inspect: GET /distribution/{name}/json.
// Asks the registry for the manifest a name points at and reports its
// descriptor and platforms; nothing is stored.
#include "image/internal.h"

namespace berth::image {
Result<DistributionInfo> LocalImageService::distribution_inspect(
    const std::string& name, const registry::Credentials& cred) {
  auto ref = BERTH_TRY(oci::Reference::parse(name));
  auto top = BERTH_TRY(reg_->get_manifest(ref, cred));
  auto kind =
      BERTH_TRY_CTX(oci::manifest_kind(top.media_type, top.body), "manifest of " + ref.familiar());
  Digest digest = sha256_of(top.body);
  if (ref.digest() && *ref.digest() != digest) {
    return make_error(Errc::InvalidArgument, "manifest digest mismatch: expected {}, got {}",
                      ref.digest()->str(), digest.str());
  }
  DistributionInfo out;
  out.descriptor.media_type = kind;
  out.descriptor.digest = digest;
  out.descriptor.size = static_cast<int64_t>(top.body.size());

  if (oci::is_index_media_type(kind)) {
    auto idx = BERTH_TRY_CTX(oci::decode_index(top.body), "manifest list of " + ref.familiar());
    for (const auto& d : idx.manifests) {
      // An index may also list attestations and other artifacts: only
      // image manifests with a platform are images one could pull.
      if (d.platform && oci::is_manifest_media_type(d.media_type) && d.platform->os != "unknown") {
        out.platforms.push_back(*d.platform);
      }
    }
    return out;
  }
  auto m = BERTH_TRY_CTX(oci::decode_manifest(top.body), "manifest of " + ref.familiar());
  auto bytes = BERTH_TRY(fetch_config(ref, m.config, cred, nullptr));
  auto cfg = BERTH_TRY_CTX(oci::decode_image_config(bytes), "image config of " + ref.familiar());
  oci::ImagePlatform p;
  p.os = cfg.os;
  p.architecture = cfg.architecture;
  p.variant = cfg.variant;
  if (cfg.raw.is_object()) {
    if (auto v = cfg.raw.find("os.version"); v != cfg.raw.end() && v->is_string())
      p.os_version = v->get<std::string>();
    if (auto v = cfg.raw.find("os.features"); v != cfg.raw.end() && v->is_array()) {
      for (const auto& f : *v)
        if (f.is_string()) p.os_features.push_back(f.get<std::string>());
    }
  }
  out.platforms.push_back(std::move(p));
  return out;
}

}  // namespace berth::image
