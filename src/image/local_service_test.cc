#include "image/service_test_util.h"

namespace berth::image {
namespace {

using testing::FakeRegistry;
namespace fs = std::filesystem;

TEST_F(ImageServiceTest, PullHappyPathThenUpToDate) {
  auto p = publish(*reg_, "docker.io/library/busybox:latest",
                   {make_tar({{"bin/sh", "shell"}}), make_tar({{"etc/hostname", "x"}})});
  std::vector<ProgressEvent> lines;
  auto r = pull("busybox", &lines);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->image_id, p.id);
  EXPECT_EQ(r->reference, "busybox:latest");
  EXPECT_FALSE(r->up_to_date);
  std::string l0 = p.layers[0].short_id();
  EXPECT_TRUE(saw(lines, "Pulling fs layer", l0));
  EXPECT_TRUE(saw(lines, "Verifying Checksum", l0));
  EXPECT_TRUE(saw(lines, "Download complete", l0));
  EXPECT_TRUE(saw(lines, "Pull complete", l0));
  EXPECT_TRUE(saw(lines, "Digest: " + p.manifest.str()));
  EXPECT_TRUE(saw(lines, "Status: Downloaded newer image for busybox:latest"));

  auto list = svc_->list({});
  ASSERT_TRUE(list) << list.error().message;
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].repo_tags, std::vector<std::string>{"busybox:latest"});
  EXPECT_EQ((*list)[0].repo_digests, std::vector<std::string>{"busybox@" + p.manifest.str()});
  EXPECT_EQ((*list)[0].labels.at("team"), "a");
  auto d = svc_->inspect("busybox");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->diff_ids.size(), 2u);
  EXPECT_TRUE(svc_->inspect(p.id.short_id()));
  auto missing = svc_->inspect("nothere");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::NotFound);
  // docker's familiar form of a missing reference; ids and prefixes as given.
  EXPECT_EQ(missing.error().message, "No such image: nothere:latest");
  EXPECT_EQ(svc_->inspect("sha256:abcdef").error().message, "No such image: sha256:abcdef");
  EXPECT_EQ(svc_->inspect("abcdef0123").error().message, "No such image: abcdef0123");

  lines.clear();
  auto again = pull("busybox:latest", &lines);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(again->up_to_date);
  EXPECT_TRUE(saw(lines, "Status: Image is up to date for busybox:latest"));
  for (const auto& l : p.layers) EXPECT_EQ(reg_->fetch_count(l), 1);
  auto h = svc_->history("busybox");
  ASSERT_TRUE(h);
  ASSERT_FALSE(h->empty());
  EXPECT_EQ((*h)[0].id, p.id.str());  // the top entry carries the image id, the rest "<missing>"
  EXPECT_EQ((*h)[1].id, "<missing>");
  EXPECT_EQ((*h)[0].tags, std::vector<std::string>{"busybox:latest"});
  auto evs = event_actions();
  EXPECT_EQ(std::count(evs.begin(), evs.end(), "pull"), 2);
}

TEST_F(ImageServiceTest, SharedLayerAlreadyExists) {
  std::string base = make_tar({{"bin/sh", "shell"}});
  publish(*reg_, "docker.io/library/a:latest", {base});
  publish(*reg_, "docker.io/library/b:latest", {base, make_tar({{"b", "b"}})});
  ASSERT_TRUE(pull("a"));
  std::vector<ProgressEvent> lines;
  ASSERT_TRUE(pull("b", &lines));
  EXPECT_TRUE(saw(lines, "Already exists", sha256_of(base).short_id()));
  EXPECT_EQ(reg_->fetch_count(sha256_of(base)), 1);
}

TEST_F(ImageServiceTest, DigestMismatchStoresNothing) {
  std::string layer = make_tar({{"f", random_bytes(3000, 1)}});
  auto p = publish(*reg_, "docker.io/library/bad:latest", {layer});
  std::string other = layer;
  other[600] ^= 1;
  reg_->lies[p.layers[0]] = other;
  auto r = pull("bad");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("digest mismatch"), std::string::npos) << r.error().message;
  EXPECT_TRUE(svc_->list({})->empty());
  ASSERT_TRUE(svc_->gc());
  EXPECT_EQ(blob_count(), 0u);
}

TEST_F(ImageServiceTest, SizeLieRefused) {
  std::string layer = make_tar({{"f", "x"}});
  auto p = publish(*reg_, "docker.io/library/liar:latest", {layer});
  reg_->lies[p.layers[0]] = layer + std::string(1024, '\0');
  auto r = pull("liar");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("size mismatch"), std::string::npos) << r.error().message;
  EXPECT_TRUE(svc_->list({})->empty());
}

TEST_F(ImageServiceTest, TruncatedBlobResumesFromOffset) {
  std::string layer = make_tar({{"big", random_bytes(40000, 7)}});
  auto p = publish(*reg_, "docker.io/library/resume:latest", {layer});
  reg_->fail_after[p.layers[0]] = 12288;
  auto r = pull("resume");
  ASSERT_FALSE(r);
  EXPECT_TRUE(svc_->list({})->empty());
  auto r2 = pull("resume");
  ASSERT_TRUE(r2) << r2.error().message;
  std::lock_guard l(reg_->mu);
  EXPECT_NE(std::find(reg_->offsets.begin(), reg_->offsets.end(), 12288), reg_->offsets.end());
}

TEST_F(ImageServiceTest, ConcurrentPullsFetchEachBlobOnce) {
  auto p = publish(
      *reg_, "docker.io/library/c:latest",
      {make_tar({{"a", random_bytes(60000, 3)}}), make_tar({{"b", random_bytes(60000, 4)}})});
  reg_->chunk_delay = std::chrono::milliseconds(5);
  Result<PullResult> r1 = make_error(Errc::Internal, "unset"), r2 = r1;
  std::thread t1([&] { r1 = pull("c"); });
  std::thread t2([&] { r2 = pull("c"); });
  t1.join();
  t2.join();
  ASSERT_TRUE(r1) << r1.error().message;
  ASSERT_TRUE(r2) << r2.error().message;
  for (const auto& l : p.layers) EXPECT_EQ(reg_->fetch_count(l), 1) << l.str();
}

TEST_F(ImageServiceTest, PlatformFromIndex) {
  auto amd = publish(*reg_, "", {make_tar({{"amd", "1"}})}, "amd64", false);
  auto arm = publish(*reg_, "", {make_tar({{"arm", "1"}})}, "arm64", false);
  oci::ImageIndex idx;
  idx.media_type = oci::media::kOciIndex;
  idx.manifests.push_back(oci::Descriptor{std::string(oci::media::kOciManifest),
                                          arm.manifest,
                                          static_cast<int64_t>(arm.manifest_body.size()),
                                          {},
                                          {},
                                          oci::ImagePlatform{"linux", "arm64", "v8", "", {}}});
  idx.manifests.push_back(oci::Descriptor{std::string(oci::media::kOciManifest),
                                          amd.manifest,
                                          static_cast<int64_t>(amd.manifest_body.size()),
                                          {},
                                          {},
                                          oci::ImagePlatform{"linux", "amd64", "", "", {}}});
  std::string idx_body = oci::encode_index(idx);
  reg_->add_manifest("docker.io/library/multi:latest", std::string(oci::media::kOciIndex),
                     idx_body);
  // Distribution inspect reports the index and its platforms, pulling nothing.
  size_t blobs_before = blob_count();
  auto d = svc_->distribution_inspect("multi", {});
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->descriptor.media_type, oci::media::kOciIndex);
  EXPECT_EQ(d->descriptor.digest, sha256_of(idx_body));
  EXPECT_EQ(d->descriptor.size, static_cast<int64_t>(idx_body.size()));
  ASSERT_EQ(d->platforms.size(), 2u);
  EXPECT_EQ(d->platforms[0].architecture, "arm64");
  EXPECT_EQ(d->platforms[0].variant, "v8");
  EXPECT_EQ(blob_count(), blobs_before);
  // A single manifest's platform comes from its config.
  reg_->add_manifest("docker.io/library/armonly:latest", std::string(oci::media::kOciManifest),
                     arm.manifest_body);
  auto one = svc_->distribution_inspect("armonly", {});
  ASSERT_TRUE(one) << one.error().message;
  EXPECT_EQ(one->descriptor.digest, arm.manifest);
  ASSERT_EQ(one->platforms.size(), 1u);
  EXPECT_EQ(one->platforms[0].architecture, "arm64");
  EXPECT_EQ(one->platforms[0].os, "linux");
  auto missing = svc_->distribution_inspect("nope:1", {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::NotFound);
  auto r = pull("multi");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->image_id, amd.id);
  auto r2 = pull("multi", nullptr, Platform{"linux", "arm64", ""});
  ASSERT_TRUE(r2) << r2.error().message;
  EXPECT_EQ(r2->image_id, arm.id);
  auto r3 = pull("multi", nullptr, Platform{"linux", "s390x", ""});
  ASSERT_FALSE(r3);
  EXPECT_NE(r3.error().message.find("no matching manifest"), std::string::npos);
}

TEST_F(ImageServiceTest, Schema1AndUnknownTag) {
  reg_->add_manifest("docker.io/library/old:latest", std::string(oci::media::kDockerSchema1Signed),
                     R"({"schemaVersion":1,"name":"old","fsLayers":[]})");
  auto r = pull("old");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::NotImplemented);
  EXPECT_EQ(r.error().message, "schema1 manifests are not supported: old:latest");
  auto u = pull("nope:1");
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().code, Errc::NotFound);
}

TEST_F(ImageServiceTest, TagRemoveSemantics) {
  auto p = publish(*reg_, "docker.io/library/busybox:latest", {make_tar({{"x", "1"}})});
  ASSERT_TRUE(pull("busybox"));
  ASSERT_TRUE(svc_->tag("busybox", "other", "1"));
  EXPECT_FALSE(svc_->tag("busybox", "Bad", "1"));
  auto bad_tag = svc_->tag("busybox", "ok", "-x");
  ASSERT_FALSE(bad_tag);
  EXPECT_EQ(bad_tag.error().code, Errc::InvalidArgument);
  auto by_id = svc_->remove(p.id.str(), false, false);
  ASSERT_FALSE(by_id);
  EXPECT_EQ(by_id.error().code, Errc::Conflict);
  EXPECT_EQ(by_id.error().message,
            "conflict: unable to delete " + p.id.short_id() +
                " (must be forced) - image is referenced in multiple repositories");
  auto untag = svc_->remove("other:1", false, false);
  ASSERT_TRUE(untag) << untag.error().message;
  ASSERT_EQ(untag->size(), 1u);
  EXPECT_EQ((*untag)[0].untagged, "other:1");
  EXPECT_TRUE(svc_->inspect("busybox"));
  auto del = svc_->remove("busybox", false, false);
  ASSERT_TRUE(del) << del.error().message;
  bool deleted = false;
  for (const auto& i : *del) deleted |= i.deleted == p.id.str();
  EXPECT_TRUE(deleted);
  EXPECT_TRUE(svc_->list({})->empty());
  EXPECT_EQ(blob_count(), 0u);
  auto evs = event_actions();
  EXPECT_NE(std::find(evs.begin(), evs.end(), "tag"), evs.end());
  EXPECT_NE(std::find(evs.begin(), evs.end(), "untag"), evs.end());
  EXPECT_NE(std::find(evs.begin(), evs.end(), "delete"), evs.end());
}

// The list is served from an index kept between calls: every change must
// show, whether it went through the service, straight to its store, or
// through another connection to the database (berthd opens three).
TEST_F(ImageServiceTest, ListFollowsEveryChange) {
  auto p = publish(*reg_, "docker.io/library/busybox:latest", {make_tar({{"x", "1"}})});
  ASSERT_TRUE(pull("busybox"));
  auto tags = [&] {
    auto l = svc_->list({});
    EXPECT_TRUE(l) << l.error().message;
    return l && l->size() == 1 ? (*l)[0].repo_tags : std::vector<std::string>{"<count>"};
  };
  EXPECT_EQ(tags(), (std::vector<std::string>{"busybox:latest"}));
  ASSERT_TRUE(svc_->tag("busybox", "other", "1"));
  EXPECT_EQ(tags(), (std::vector<std::string>{"busybox:latest", "other:1"}));
  ASSERT_TRUE(meta_->set_tag("docker.io/library/third:2", p.id));
  EXPECT_EQ(tags(), (std::vector<std::string>{"busybox:latest", "other:1", "third:2"}));
  auto other = metadata::MetadataStore::open(dir_ + "/metadata.db");
  ASSERT_TRUE(other) << other.error().message;
  ASSERT_TRUE((*other)->delete_tag("docker.io/library/other:1"));
  EXPECT_EQ(tags(), (std::vector<std::string>{"busybox:latest", "third:2"}));
  ASSERT_TRUE((*other)->set_tag("docker.io/library/fourth:3", p.id));
  EXPECT_EQ(tags(), (std::vector<std::string>{"busybox:latest", "fourth:3", "third:2"}));
  ASSERT_TRUE(svc_->remove(p.id.str(), true, false));
  EXPECT_TRUE(svc_->list({})->empty());
}

TEST_F(ImageServiceTest, RemoveInUseIsConflict) {
  auto p = publish(*reg_, "docker.io/library/busybox:latest", {make_tar({{"x", "1"}})});
  ASSERT_TRUE(pull("busybox"));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/metadata.db").c_str(), &db), SQLITE_OK);
  std::string sql =
      "INSERT INTO containers (id, name, image_id) VALUES ('c0ffee0123456789', "
      "'web', '" +
      p.id.str() + "')";
  char* err = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << err;
  sqlite3_close(db);
  auto r = svc_->remove("busybox", false, false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Conflict);
  EXPECT_EQ(r.error().message,
            "conflict: unable to remove repository reference \"busybox\" (must force) - container "
            "c0ffee012345 is using its referenced image " +
                p.id.short_id());
  EXPECT_FALSE(svc_->remove(p.id.str(), false, false));
  auto pr = svc_->prune(true, {}, std::nullopt);
  ASSERT_TRUE(pr);
  EXPECT_TRUE(pr->deleted.empty());
  EXPECT_EQ(svc_->list({})->size(), 1u);
}

TEST_F(ImageServiceTest, ImportWithChangesAndPrune) {
  std::string tar = make_tar({{"hello", "world"}});
  bool sent = false;
  ByteSource src = [&]() -> Result<std::string> {
    if (sent) return std::string();
    sent = true;
    return tar;
  };
  ImportRequest req;
  req.changes = {"CMD [\"/hello\"]", "ENV A=b C=d", "EXPOSE 80",
                 "WORKDIR /srv",     "USER nobody", "LABEL k=v"};
  auto id = svc_->import(req, src, nullptr);
  ASSERT_TRUE(id) << id.error().message;
  auto d = svc_->inspect(id->str());
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->config["config"]["Cmd"], Json({"/hello"}));
  EXPECT_EQ(d->config["config"]["Env"], Json({"A=b", "C=d"}));
  EXPECT_TRUE(d->config["config"]["ExposedPorts"].contains("80/tcp"));
  EXPECT_EQ(d->config["config"]["WorkingDir"], "/srv");
  EXPECT_EQ(d->config["comment"], "Imported from -");  // docker's, without a message
  EXPECT_EQ(d->diff_ids[0], sha256_of(tar));
  EXPECT_FALSE(svc_->import(ImportRequest{"", "", {"FROB x"}, "", {}}, src, nullptr));

  publish(*reg_, "docker.io/library/keep:latest", {make_tar({{"k", "1"}})});
  ASSERT_TRUE(pull("keep"));
  ListFilters dangling;
  dangling.dangling = true;
  EXPECT_EQ(svc_->list(dangling)->size(), 1u);
  ListFilters ref;
  ref.references = {"ke*"};
  EXPECT_EQ(svc_->list(ref)->size(), 1u);
  auto pr = svc_->prune(false, {}, std::nullopt);
  ASSERT_TRUE(pr) << pr.error().message;
  ASSERT_EQ(pr->deleted.size(), 1u);
  EXPECT_EQ(pr->deleted[0].deleted, id->str());
  EXPECT_GT(pr->space_reclaimed, 0);
  EXPECT_EQ(svc_->list({})->size(), 1u);
  auto all = svc_->prune(true, {}, std::nullopt);
  ASSERT_TRUE(all);
  EXPECT_TRUE(svc_->list({})->empty());
}

TEST_F(ImageServiceTest, SaveLoadRoundTrip) {
  auto p = publish(*reg_, "docker.io/library/busybox:latest",
                   {make_tar({{"a", "1"}}), make_tar({{"b", "2"}})});
  ASSERT_TRUE(pull("busybox"));
  std::string tarball;
  auto s = svc_->save({"busybox"}, [&](std::string_view d) -> Result<void> {
    tarball.append(d);
    return ok();
  });
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_TRUE(svc_->remove("busybox", false, false));
  EXPECT_EQ(blob_count(), 0u);
  std::vector<ProgressEvent> lines;
  auto l = svc_->load(from_string(tarball), [&](const ProgressEvent& e) { lines.push_back(e); });
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_EQ(*l, std::vector<std::string>{"Loaded image: busybox:latest"});
  auto d = svc_->inspect("busybox:latest");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->summary.id, p.id);
  // The saved tarball also loads as an OCI layout (no manifest.json).
  ASSERT_TRUE(svc_->remove("busybox", false, false));
  std::map<std::string, std::string> links;
  std::string x = dir_ + "/x";
  fs::create_directories(x);
  ASSERT_TRUE(extract_archive(from_string(tarball), x, links));
  EXPECT_TRUE(fs::exists(x + "/index.json"));
  EXPECT_TRUE(fs::exists(x + "/oci-layout"));
  EXPECT_TRUE(fs::exists(x + "/blobs/sha256/" + p.id.hex()));
}

TEST_F(ImageServiceTest, LoadOldDockerArchiveFixture) {
  std::string layer = make_tar({{"etc/os-release", "ID=test"}});
  Digest diff = sha256_of(layer);
  std::string cfg = dump_json(Json{{"architecture", "amd64"},
                                   {"os", "linux"},
                                   {"rootfs", {{"type", "layers"}, {"diff_ids", {diff.str()}}}}});
  Digest id = sha256_of(cfg);
  std::string manifest = dump_json(Json::array({Json{{"Config", id.hex() + ".json"},
                                                     {"RepoTags", {"localhost:5000/t:1"}},
                                                     {"Layers", {"abc/layer.tar"}}}}));
  std::string tarball = make_tar({{id.hex() + ".json", cfg},
                                  {"abc/layer.tar", layer},
                                  {"abc/VERSION", "1.0"},
                                  {"manifest.json", manifest}});
  auto l = svc_->load(from_string(tarball), nullptr);
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_EQ(*l, std::vector<std::string>{"Loaded image: localhost:5000/t:1"});
  auto d = svc_->inspect("localhost:5000/t:1");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->summary.id, id);
  // A config whose name lies about its digest is refused.
  std::string bad_manifest = dump_json(Json::array(
      {Json{{"Config", std::string(64, 'a') + ".json"}, {"Layers", {"abc/layer.tar"}}}}));
  std::string bad = make_tar({{std::string(64, 'a') + ".json", cfg},
                              {"abc/layer.tar", layer},
                              {"manifest.json", bad_manifest}});
  auto lb = svc_->load(from_string(bad), nullptr);
  ASSERT_FALSE(lb);
  EXPECT_NE(lb.error().message.find("digest mismatch"), std::string::npos) << lb.error().message;
}

TEST_F(ImageServiceTest, LoadRefusesPathTraversal) {
  std::string tarball = make_tar({{"../evil", "x"}, {"manifest.json", "[]"}});
  auto l = svc_->load(from_string(tarball), nullptr);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().code, Errc::InvalidArgument);
  EXPECT_NE(l.error().message.find("../evil"), std::string::npos) << l.error().message;
  EXPECT_TRUE(svc_->list({})->empty());
  EXPECT_EQ(blob_count(), 0u);
  EXPECT_FALSE(fs::exists(dir_ + "/evil"));
  EXPECT_FALSE(svc_->load(from_string("not a tarball at all"), nullptr));
}

TEST_F(ImageServiceTest, PushThenLayerAlreadyExists) {
  auto p = publish(*reg_, "docker.io/library/busybox:latest", {make_tar({{"x", "1"}})});
  ASSERT_TRUE(pull("busybox"));
  ASSERT_TRUE(svc_->tag("busybox", "localhost:5000/x", "1"));
  {
    std::lock_guard l(reg_->mu);
    reg_->remote.clear();
  }
  std::vector<ProgressEvent> lines;
  PushRequest req;
  req.reference = "localhost:5000/x:1";
  auto r = svc_->push(req, [&](const ProgressEvent& e) { lines.push_back(e); });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(saw(lines, "Pushed", p.layers[0].short_id()));
  EXPECT_TRUE(saw(lines, "1: digest: " + p.manifest.str() +
                             " size: " + std::to_string(p.manifest_body.size())));
  lines.clear();
  ASSERT_TRUE(svc_->push(req, [&](const ProgressEvent& e) { lines.push_back(e); }));
  EXPECT_TRUE(saw(lines, "Layer already exists", p.layers[0].short_id()));
}

TEST_F(ImageServiceTest, DiskFullIsAClearError) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs";
  std::string small = dir_ + "/small";
  fs::create_directories(small);
  ASSERT_EQ(mount("tmpfs", small.c_str(), "tmpfs", 0, "size=512k"), 0) << strerror(errno);
  struct Unmount {
    std::string p;
    ~Unmount() { umount2(p.c_str(), MNT_DETACH); }
  } unmount{small};
  publish(*reg_, "docker.io/library/big:latest", {make_tar({{"big", random_bytes(2 << 20, 9)}})});
  LocalOptions o;
  o.data_root = small;
  o.storage_driver = "copy";
  o.registry_client = reg_;
  auto s = open_local_image_service(o, meta_);
  ASSERT_TRUE(s) << s.error().message;
  PullRequest r;
  r.reference = "big";
  auto res = (*s)->pull(r, nullptr);
  ASSERT_FALSE(res);
  EXPECT_NE(res.error().message.find("no space left on device"), std::string::npos)
      << res.error().message;
  EXPECT_TRUE((*s)->list({})->empty());
}

TEST_F(ImageServiceTest, FailedPullKeepsItsBlobsForTheRetry) {
  auto p = publish(
      *reg_, "docker.io/library/two:latest",
      {make_tar({{"a", random_bytes(20000, 5)}}), make_tar({{"b", random_bytes(20000, 6)}})});
  // Layer 0 downloads; layer 1 dies mid-stream (as a killed connection would).
  // Layer 1 is held until layer 0 is served: otherwise its failure can come
  // before layer 0's worker starts, and the pull rightly starts no new download.
  reg_->fail_after[p.layers[1]] = 8192;
  reg_->served_after[p.layers[1]] = p.layers[0];
  ASSERT_FALSE(pull("two"));
  ASSERT_TRUE(svc_->gc());  // the pull's lease protects layer 0's blob
  EXPECT_TRUE(fs::exists(dir_ + "/content/blobs/sha256/" + p.layers[0].hex()));
  auto r = pull("two");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(reg_->fetch_count(p.layers[0]), 1);
  EXPECT_EQ(reg_->fetch_count(p.layers[1]), 2);
  EXPECT_TRUE(meta_->list_leases()->empty());  // released by the commit
}

TEST_F(ImageServiceTest, CancelledPullStopsAndListsNothing) {
  publish(*reg_, "docker.io/library/slow:latest", {make_tar({{"a", random_bytes(200000, 8)}})});
  reg_->chunk_delay = std::chrono::milliseconds(5);
  std::atomic<bool> cancel{false};
  PullRequest r;
  r.reference = "slow";
  r.cancel = &cancel;
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    cancel = true;
  });
  auto res = svc_->pull(r, nullptr);
  t.join();
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, Errc::Cancelled) << res.error().message;
  EXPECT_TRUE(svc_->list({})->empty());
}

TEST_F(ImageServiceTest, GzipLayerPullSaveLoad) {
  std::string data = random_bytes(10000, 11);
  std::string gz = make_tar_gz("data.bin", data);
  // The diff id is the digest of the plain tar inside the gzip stream.
  std::string plain;
  auto diff = snapshot::decompress_layer(from_string(gz), [&](std::string_view d) -> Result<void> {
    plain.append(d);
    return ok();
  });
  ASSERT_TRUE(diff) << diff.error().message;
  auto p = publish(*reg_, "docker.io/library/gz:latest", {gz}, "amd64", true, {*diff});
  auto r = pull("gz");
  ASSERT_TRUE(r) << r.error().message;
  std::string tarball;
  ASSERT_TRUE(svc_->save({"gz"}, [&](std::string_view d) -> Result<void> {
    tarball.append(d);
    return ok();
  }));
  std::map<std::string, std::string> links;
  std::string x = dir_ + "/x";
  fs::create_directories(x);
  ASSERT_TRUE(extract_archive(from_string(tarball), x, links));
  // docker save writes layers uncompressed, named by their diff id.
  auto saved = read_file(x + "/blobs/sha256/" + diff->hex());
  ASSERT_TRUE(saved);
  EXPECT_EQ(*saved, plain);
  ASSERT_TRUE(svc_->remove("gz", false, false));
  auto l = svc_->load(from_string(tarball), nullptr);
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_EQ(svc_->inspect("gz")->summary.id, p.id);
}

TEST(ImageChanges, ShellAndJsonForms) {
  oci::ContainerConfig c;
  ASSERT_TRUE(apply_changes({"ENTRYPOINT /bin/app --x", "VOLUME [\"/a\", \"/b\"]",
                             "ENV PATH /usr/bin:/bin", "LABEL \"a b\"=\"c d\""},
                            c));
  EXPECT_EQ(*c.entrypoint, (std::vector<std::string>{"/bin/sh", "-c", "/bin/app --x"}));
  EXPECT_EQ(c.volumes.size(), 2u);
  EXPECT_EQ(c.env, std::vector<std::string>{"PATH=/usr/bin:/bin"});
  EXPECT_EQ(c.labels.at("a b"), "c d");
  EXPECT_FALSE(apply_changes({"EXPOSE 80/foo"}, c));
  EXPECT_FALSE(apply_changes({"RUN x"}, c));
}

TEST(ImageNames, PlatformParse) {
  EXPECT_EQ(Platform::parse("linux/arm64")->str(), "linux/arm64/v8");
  EXPECT_EQ(Platform::parse("linux/amd64")->str(), "linux/amd64");
  EXPECT_EQ(Platform::parse("arm")->str(), "linux/arm/v7");
  EXPECT_FALSE(Platform::parse("linux//x"));
  EXPECT_FALSE(Platform::parse("a/b/c/d"));
}

}  // namespace
}  // namespace berth::image
