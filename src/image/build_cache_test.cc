// The builder's cache in the image service: config-only commits found again
// by find_build_cache, intermediate images, and --cache-from's
// restore_build_cache.
#include "image/service_test_util.h"

namespace berth::image {
namespace {

// The builder's config-only steps: commits without a container, found
// again by the cache; untagged parents are intermediate images (listed only
// with all, not dangling) and go with their last child.
TEST_F(ImageServiceTest, ConfigOnlyCommitsCacheAndIntermediates) {
  publish(*reg_, "docker.io/library/keep:latest", {make_tar({{"k", "1"}})});
  auto base = pull("keep");
  ASSERT_TRUE(base) << base.error().message;
  const std::string env_step = "/bin/sh -c #(nop)  ENV A=1";
  CommitRequest step;
  step.parent = base->image_id;
  step.config = Json{{"Env", {"A=1"}}, {"Cmd", {"sh"}}};
  step.created_by = env_step;
  auto mid = svc_->commit_container(step);
  ASSERT_TRUE(mid) << mid.error().message;
  auto d = svc_->inspect(mid->str());
  ASSERT_TRUE(d);
  EXPECT_EQ(d->config["parent"], base->image_id.str());
  EXPECT_EQ(d->config["history"].back()["created_by"], env_step);
  EXPECT_EQ(d->config["history"].back()["empty_layer"], true);
  EXPECT_EQ(d->diff_ids.size(), 1u);  // the base's layer, nothing added

  auto hit = svc_->find_build_cache(base->image_id, env_step, step.config);
  ASSERT_TRUE(hit) << hit.error().message;
  EXPECT_EQ(*hit, std::optional<Digest>(*mid));
  EXPECT_FALSE(*svc_->find_build_cache(base->image_id, env_step, Json{{"Env", {"A=2"}}}));
  EXPECT_FALSE(*svc_->find_build_cache(base->image_id, env_step + " ", step.config));
  EXPECT_FALSE(*svc_->find_build_cache(*mid, env_step, step.config));

  CommitRequest last = step;
  last.parent = *mid;
  last.created_by = "/bin/sh -c #(nop)  LABEL x=y";
  last.repository = "final";
  auto top = svc_->commit_container(last);
  ASSERT_TRUE(top) << top.error().message;
  auto ids = [&](ListFilters f) {
    std::set<Digest> out;
    auto l = svc_->list(f);
    EXPECT_TRUE(l);
    if (l)
      for (const auto& s : *l) out.insert(s.id);
    return out;
  };
  ListFilters all, dangling;
  all.all = true;
  dangling.dangling = true;
  EXPECT_EQ(ids({}), (std::set<Digest>{base->image_id, *top}));
  EXPECT_EQ(ids(all), (std::set<Digest>{base->image_id, *mid, *top}));
  EXPECT_TRUE(ids(dangling).empty());

  auto rm = svc_->remove("final", false, false);
  ASSERT_TRUE(rm) << rm.error().message;
  std::vector<std::string> deleted;
  for (const auto& i : *rm)
    if (!i.deleted.empty()) deleted.push_back(i.deleted);
  EXPECT_EQ(deleted, (std::vector<std::string>{top->str(), mid->str()}));
  EXPECT_EQ(ids(all), (std::set<Digest>{base->image_id}));  // the tagged base stays

  // The blank base of FROM scratch: no layers, and the same image each time.
  CommitRequest blank;
  blank.config = Json::object();
  blank.no_history = blank.blank = true;
  auto b1 = svc_->commit_container(blank), b2 = svc_->commit_container(blank);
  ASSERT_TRUE(b1 && b2);
  EXPECT_EQ(*b1, *b2);
  EXPECT_TRUE(svc_->inspect(b1->str())->diff_ids.empty());
}

// A history entry as a registry image carries it.
Json entry(const std::string& created_by, bool empty) {
  Json e = {{"created", "2024-01-02T03:04:05Z"}, {"created_by", created_by}};
  if (empty) e["empty_layer"] = true;
  return e;
}

// --cache-from: an image pulled from elsewhere whose history continues the
// build's current image stands in for the local cache, one step at a time;
// restored steps share its layers and survive its removal.
TEST_F(ImageServiceTest, RestoreBuildCacheFollowsTheSourceHistory) {
  const std::string base_layer = make_tar({{"bin/sh", "shell"}});
  const std::string run_layer = make_tar({{"app/built", "yes"}});
  const Json base_hist = Json::array({entry("/bin/sh -c #(nop) ADD file:abc in /", false)});
  publish(*reg_, "docker.io/library/base:latest", {base_layer}, "amd64", true, {}, base_hist);
  const std::string run = "/bin/sh -c make";
  const std::string env = "/bin/sh -c #(nop)  ENV A=1";
  const std::string label = "/bin/sh -c #(nop)  LABEL v=2";
  Json src_hist = base_hist;
  src_hist.push_back(entry(run, false));
  src_hist.push_back(entry(env, true));
  src_hist.push_back(entry(label, true));
  publish(*reg_, "docker.io/library/app:latest", {base_layer, run_layer}, "amd64", true, {},
          src_hist);
  auto base = pull("base");
  ASSERT_TRUE(base) << base.error().message;
  auto app = pull("app");
  ASSERT_TRUE(app) << app.error().message;
  const Json cfg = {{"Cmd", {"sh"}}, {"Env", {"A=1"}}};

  // Not the next step, or a parent the source does not continue: no hit.
  EXPECT_FALSE(*svc_->restore_build_cache(base->image_id, app->image_id, env, cfg));
  EXPECT_FALSE(*svc_->restore_build_cache(app->image_id, base->image_id, run, cfg));

  // RUN: a new image with the base's layer and the source's second one.
  auto step1 = svc_->restore_build_cache(base->image_id, app->image_id, run, cfg);
  ASSERT_TRUE(step1) << step1.error().message;
  ASSERT_TRUE(*step1);
  auto d1 = svc_->inspect((*step1)->str());
  ASSERT_TRUE(d1) << d1.error().message;
  EXPECT_EQ(d1->config["parent"], base->image_id.str());
  EXPECT_EQ(d1->config["config"]["Env"], Json({"A=1"}));
  EXPECT_EQ(d1->config["history"].size(), 2u);
  EXPECT_EQ(d1->config["history"].back()["created_by"], run);
  auto da = svc_->inspect(app->image_id.str());
  ASSERT_TRUE(da);
  EXPECT_EQ(d1->diff_ids, da->diff_ids);
  // The same restore gives the same image.
  EXPECT_EQ(*svc_->restore_build_cache(base->image_id, app->image_id, run, cfg), *step1);

  // ENV: an empty-layer step on top; LABEL, the source's last, is the source.
  auto step2 = svc_->restore_build_cache(**step1, app->image_id, env, cfg);
  ASSERT_TRUE(step2 && *step2) << (step2 ? "no hit" : step2.error().message);
  auto d2 = svc_->inspect((*step2)->str());
  ASSERT_TRUE(d2);
  EXPECT_EQ(d2->diff_ids.size(), 2u);
  EXPECT_EQ(d2->config["history"].back()["empty_layer"], true);
  auto step3 = svc_->restore_build_cache(**step2, app->image_id, label, cfg);
  ASSERT_TRUE(step3);
  EXPECT_EQ(*step3, std::optional<Digest>(app->image_id));

  // The restored images keep their layers when the source goes.
  ASSERT_TRUE(svc_->remove("app", true, false)) << "rmi app";
  ASSERT_TRUE(svc_->gc());
  auto mounts = svc_->prepare_container_rootfs("c-restored", **step2);
  ASSERT_TRUE(mounts) << mounts.error().message;
  EXPECT_TRUE(svc_->remove_container_rootfs("c-restored"));
}

}  // namespace
}  // namespace berth::image
