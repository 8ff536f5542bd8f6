#include "store/metadata/sqlite.h"
#include "store/metadata/test_fixture.h"

namespace berth::metadata {
namespace {

LayerRecord layer(const Digest& chain, std::optional<Digest> parent, std::string key) {
  LayerRecord l;
  l.chain_id = chain;
  l.parent = std::move(parent);
  l.diff_id = sha256_of("diff of " + chain.hex());
  l.snapshot_key = std::move(key);
  l.size = 42;
  return l;
}

TEST_F(MetaTest, PutLayerIsIdempotentAndRoundTrips) {
  LayerRecord base = layer(d("L1"), std::nullopt, "1");
  LayerRecord top = layer(d("L2"), d("L1"), "2");
  ASSERT_TRUE(store_->put_layer(base).has_value());
  ASSERT_TRUE(store_->put_layer(top).has_value());
  ASSERT_TRUE(store_->put_layer(top).has_value());
  auto got = store_->get_layer(d("L2"));
  ASSERT_TRUE(got.has_value()) << got.error().message;
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->chain_id, d("L2"));
  EXPECT_EQ((*got)->parent, std::optional<Digest>(d("L1")));
  EXPECT_EQ((*got)->diff_id, top.diff_id);
  EXPECT_EQ((*got)->snapshot_key, "2");
  EXPECT_EQ((*got)->size, 42);
  EXPECT_FALSE(store_->get_layer(d("L1")).value()->parent.has_value());
  EXPECT_FALSE(store_->get_layer(d("none"))->has_value());
  LayerRecord bad;
  EXPECT_EQ(store_->put_layer(bad).error().code, Errc::InvalidArgument);
}

TEST_F(MetaTest, DeleteLayerRefusesLayersOfImages) {
  ASSERT_TRUE(store_->put_layer(layer(d("L1"), std::nullopt, "1")).has_value());
  ASSERT_TRUE(store_->commit_image(image(d("img"), {d("L1")})).has_value());
  auto r = store_->delete_layer(d("L1"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::Conflict);
  EXPECT_EQ(r.error().message, "layer " + d("L1").str() + " is used by image " + d("img").str());
  ASSERT_TRUE(store_->delete_image(d("img")).has_value());
  ASSERT_TRUE(store_->delete_layer(d("L1")).has_value());
  EXPECT_FALSE(store_->get_layer(d("L1"))->has_value());
  EXPECT_TRUE(store_->delete_layer(d("L1")).has_value()) << "absent is a no-op";
}

TEST_F(MetaTest, CreateLeaseWithProtectsItsLayerAtOnce) {
  ASSERT_TRUE(store_->put_layer(layer(d("L1"), std::nullopt, "1")).has_value());
  ASSERT_TRUE(store_->put_layer(layer(d("L2"), d("L1"), "2")).has_value());
  auto l = store_->create_lease_with("ctr", 1000, LeaseKind::Layer, d("L2").str());
  ASSERT_TRUE(l.has_value()) << l.error().message;
  EXPECT_EQ(l->id, "ctr");
  auto roots = store_->gc_roots(999).value();
  EXPECT_TRUE(roots.layers.contains(d("L2")));
  EXPECT_TRUE(roots.layers.contains(d("L1"))) << "parents of a leased layer stay too";
  ASSERT_TRUE(store_->release_lease("ctr").has_value());
  EXPECT_FALSE(store_->gc_roots(999).value().layers.contains(d("L2")));
}

TEST_F(MetaTest, BlobLayers) {
  BlobLayer gz{d("blob.gz"), d("diff"), "application/vnd.oci.image.layer.v1.tar+gzip", 10};
  BlobLayer zst{d("blob.zst"), d("diff"), "application/vnd.oci.image.layer.v1.tar+zstd", 8};
  ASSERT_TRUE(store_->put_blob_layer(gz).has_value());
  ASSERT_TRUE(store_->put_blob_layer(zst).has_value());
  ASSERT_TRUE(store_->put_blob_layer(zst).has_value());
  auto got = store_->blob_layer(d("blob.gz")).value();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->diff_id, d("diff"));
  EXPECT_EQ(got->media_type, gz.media_type);
  EXPECT_EQ(got->size, 10);
  EXPECT_FALSE(store_->blob_layer(d("other"))->has_value());
  auto both = store_->blobs_for_diff(d("diff")).value();
  EXPECT_EQ(both.size(), 2u);
  EXPECT_TRUE(store_->blobs_for_diff(d("other"))->empty());
}

TEST_F(MetaTest, LeasesCreateExtendRelease) {
  auto anon = store_->create_lease("", 100);
  ASSERT_TRUE(anon.has_value());
  EXPECT_EQ(anon->id.size(), 64u);
  ASSERT_TRUE(store_->create_lease("pull:a", 100).has_value());
  ASSERT_TRUE(store_->add_lease_resource("pull:a", LeaseKind::Blob, d("b").str()).has_value());
  ASSERT_TRUE(store_->add_lease_resource("pull:a", LeaseKind::Blob, d("b").str()).has_value());
  // Re-creating extends and keeps the resources.
  auto again = store_->create_lease("pull:a", 500);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->expires_unix, 500);
  auto roots = store_->gc_roots(200).value();
  EXPECT_EQ(roots.expired_leases_removed, 1) << "only the anonymous lease expired";
  EXPECT_EQ(roots.blobs, std::set<Digest>{d("b")});
  auto leases = store_->list_leases().value();
  ASSERT_EQ(leases.size(), 1u);
  EXPECT_EQ(leases[0].id, "pull:a");
  EXPECT_EQ(leases[0].expires_unix, 500);

  auto missing = store_->add_lease_resource("nope", LeaseKind::Layer, d("x").str());
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, Errc::NotFound);
  ASSERT_TRUE(store_->release_lease("pull:a").has_value());
  ASSERT_TRUE(store_->release_lease("pull:a").has_value()) << "absent is a no-op";
  EXPECT_TRUE(store_->list_leases()->empty());
  EXPECT_TRUE(store_->gc_roots(0)->blobs.empty()) << "released resources are not roots";
}

TEST_F(MetaTest, GcRootsDropExpiredLeasesAndKeepImagesAndLiveLeases) {
  ASSERT_TRUE(store_->commit_image(image(d("img"), {d("L1")})).has_value());
  ASSERT_TRUE(store_->put_layer(layer(d("L1"), std::nullopt, "1")).has_value());
  ASSERT_TRUE(store_->create_lease("old", 1000).has_value());
  ASSERT_TRUE(store_->add_lease_resource("old", LeaseKind::Blob, d("oldblob").str()).has_value());
  ASSERT_TRUE(store_->add_lease_resource("old", LeaseKind::Layer, d("oldlayer").str()).has_value());
  ASSERT_TRUE(store_->create_lease("live", 3000).has_value());
  ASSERT_TRUE(store_->add_lease_resource("live", LeaseKind::Blob, d("newblob").str()).has_value());
  ASSERT_TRUE(
      store_->add_lease_resource("live", LeaseKind::Layer, d("newlayer").str()).has_value());
  ASSERT_TRUE(store_->add_lease_resource("live", LeaseKind::Blob, "not-a-digest").has_value());

  auto at1000 = store_->gc_roots(1000).value();
  EXPECT_EQ(at1000.expired_leases_removed, 0) << "a lease lives until its second has passed";
  EXPECT_TRUE(at1000.blobs.count(d("oldblob")));

  auto roots = store_->gc_roots(2000);
  ASSERT_TRUE(roots.has_value()) << roots.error().message;
  EXPECT_EQ(roots->expired_leases_removed, 1);
  std::set<Digest> want_blobs{d("img"), sha256_of("manifest of " + d("img").hex()), d("newblob")};
  EXPECT_EQ(roots->blobs, want_blobs);
  EXPECT_EQ(roots->layers, (std::set<Digest>{d("L1"), d("newlayer")}));
  ASSERT_EQ(roots->all_layers.size(), 1u);
  EXPECT_EQ(roots->all_layers[0].chain_id, d("L1"));
  auto leases = store_->list_leases().value();
  ASSERT_EQ(leases.size(), 1u);
  EXPECT_EQ(leases[0].id, "live");
}

TEST_F(MetaTest, ParentsOfLiveLayersAreLive) {
  // L1 <- L2 <- L3 (leased, e.g. mid-pull) and M1 <- M2 (image's chain names
  // only M2, as an image built elsewhere might); X1 <- X2 belong to nothing.
  for (auto& l : {layer(d("L1"), std::nullopt, "1"), layer(d("L2"), d("L1"), "2"),
                  layer(d("L3"), d("L2"), "3"), layer(d("M1"), std::nullopt, "4"),
                  layer(d("M2"), d("M1"), "5"), layer(d("X1"), std::nullopt, "6"),
                  layer(d("X2"), d("X1"), "7")}) {
    ASSERT_TRUE(store_->put_layer(l).has_value());
  }
  ASSERT_TRUE(store_->create_lease("pull", 9999).has_value());
  ASSERT_TRUE(store_->add_lease_resource("pull", LeaseKind::Layer, d("L3").str()).has_value());
  ASSERT_TRUE(store_->commit_image(image(d("img"), {d("M2")})).has_value());
  auto roots = store_->gc_roots(100).value();
  EXPECT_EQ(roots.layers, (std::set<Digest>{d("L1"), d("L2"), d("L3"), d("M1"), d("M2")}));
  EXPECT_EQ(roots.all_layers.size(), 7u);
}

TEST_F(MetaTest, ContainersUsing) {
  EXPECT_TRUE(store_->containers_using(d("img"))->empty());
  auto db = sql::Db::open(db_path_).value();
  ASSERT_TRUE(db.run("INSERT INTO containers (id, name, image_id, created) VALUES "
                     "('c2', '/b', ?1, 2), ('c1', '/a', ?1, 1), ('c3', '/c', ?2, 3)",
                     d("img"), d("other"))
                  .has_value());
  EXPECT_EQ(store_->containers_using(d("img")).value(), (std::vector<std::string>{"c1", "c2"}));
}

}  // namespace
}  // namespace berth::metadata
