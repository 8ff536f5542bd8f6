// snapshot/snapshotter.h — layer snapshots on disk and their mounts.
//
// Layout under root (= <data-root>/snapshots):
//   <key>/fs       the layer's own files (overlay) or a full tree (copy)
//   <key>/work     overlay workdir (active snapshots only)
//   tmp/           extraction in progress; renamed into place on commit
// Keys are short (decimal counters allocated by the snapshotter) so the
// overlay mount option "lowerdir=a:b:c..." stays under one page for ~100
// layers.
//
// OverlaySnapshotter stores each layer in overlay form: a whiteout is a 0:0
// character device, an opaque directory carries xattr trusted.overlay.opaque=y.
// Layers are independent, so several can be applied at once (a pull
// unpacks layer N while layer N+1 downloads).
// CopySnapshotter is the fallback where overlayfs is missing (or the data
// root is itself on overlay without support): each snapshot is a full copy of
// its parent with the layer applied (whiteouts become deletions), so a layer
// can only be applied once its parent is committed.
// Thread-safety: apply_layer may run concurrently for different keys.
//
// Durability: entries are written without any per-file fsync (a layer has
// thousands of files). With SnapshotterOptions::durable (the default) the new
// layer's filesystem is flushed once with syncfs(2) before the tmp dir is
// renamed into place, and the snapshots dir is fsynced after the rename, so a
// key that apply_layer returned (and the caller then recorded in SQLite)
// survives power loss with all its content. Without `durable` a committed key
// survives a process crash (rename is atomic) but not a power loss.
// Extraction: every parent directory is resolved inside the layer root with
// openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS), entries are created with *at()
// calls relative to that fd and never followed (O_NOFOLLOW,
// AT_SYMLINK_NOFOLLOW), so a symlink written by an earlier entry can never be
// written through. Compression filters are libarchive's built-in gzip, zstd,
// xz and bzip2 (not filter_all: it may fork external programs inside the
// multi-threaded daemon).
// Depends on: base, sys, libarchive.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/digest.h"
#include "base/file.h"
#include "base/result.h"

namespace berth::snapshot {

// Pulls compressed or plain tar bytes: returns the next chunk, an empty
// string at end of stream, or an error (which aborts the apply).
using ByteSource = std::function<Result<std::string>()>;

struct ApplyResult {
  std::string key;   // committed snapshot key
  Digest diff_id;    // sha256 of the uncompressed tar stream
  int64_t size = 0;  // bytes of regular file content written
};

// A mount for a container's rootfs (issue 4 uses it): type/source/options as
// for mount(2), e.g. {"overlay","overlay",{"lowerdir=..","upperdir=..","workdir=.."}}
// or a bind of a copy snapshot.
struct Mount {
  std::string type;
  std::string source;
  std::vector<std::string> options;
};

class Snapshotter {
 public:
  virtual ~Snapshotter() = default;
  virtual const char* name() const = 0;  // "overlayfs" | "copy" (docker info's Driver)
  // True when apply_layer needs no committed parent (overlay): the layers of
  // one image may then be applied concurrently and parent_key is ignored.
  // False (copy): parent_key must be a committed snapshot.
  virtual bool independent_layers() const { return false; }

  // Unpacks one layer (tar, tar+gzip or tar+zstd: detected from the bytes by
  // libarchive) on top of `parent_key` (empty for a base layer) and commits
  // it under a new key. Refuses, with InvalidArgument naming the entry and
  // leaving nothing behind: paths that escape the root ("../", absolute after
  // cleaning), entries reached through a symlink inside the tree, hardlinks
  // to outside the layer's tree, and non-tar input. Keeps uid/gid, modes
  // incl. setuid/setgid/sticky, mtimes, xattrs, hardlinks, device nodes,
  // fifos. OCI whiteouts (.wh.NAME, .wh..wh..opq) become overlay whiteouts
  // (overlay) or deletions (copy). The returned diff_id must be compared by
  // the caller with the image config's rootfs.diff_ids.
  virtual Result<ApplyResult> apply_layer(const std::string& parent_key, ByteSource src) = 0;

  // Idempotent. The snapshot disappears from list() atomically (renamed into
  // tmp/ first); a removal cut short is finished by clean_tmp(). Refuses
  // (Conflict) to descend into a mount point inside the snapshot.
  virtual Result<void> remove(const std::string& key) = 0;
  // remove() whose deleting of files happens on a background thread: the
  // snapshot is out of list() (renamed into tmp/) when it returns. For a
  // container's writable layer, whose size the caller must not wait for.
  // A failed deletion is logged and left to clean_tmp().
  virtual Result<void> remove_deferred(const std::string& key) = 0;
  // Returns once every deferred deletion queued before the call is done.
  virtual void wait_deferred() = 0;
  // Keys present on disk (committed layers and prepare_rw snapshots), for GC
  // to compare with the metadata.
  virtual Result<std::vector<std::string>> list() const = 0;
  // Deletes leftovers of interrupted applies under tmp/.
  virtual Result<void> clean_tmp() = 0;

  // Read-only view of a committed chain, top key last-to-first order as
  // overlay wants it: lowerdir=top:...:base. For export (docker save of a
  // layer needs only its own tar, which image/ keeps as a blob).
  // Overlay: one <key>/fs per key, top first. Copy: only the top's <key>/fs
  // (it is the full tree). NotFound when a key is missing.
  virtual Result<std::vector<std::string>> layer_dirs(
      const std::vector<std::string>& keys_bottom_first) const = 0;
  // Writable mounts for a container rootfs on top of the chain (issue 4).
  // Creates <rw_key>/fs (+ /work for overlay); AlreadyExists when rw_key is
  // taken. Overlay: one "overlay" Mount with absolute lowerdir/upperdir/
  // workdir (a bind of the empty fs when the chain is empty). Copy: a copy
  // of the top snapshot, returned as {"bind", <rw_key>/fs, {"rbind","rw"}}.
  // Keys: [A-Za-z0-9_.-], not starting with '.', not "tmp". ProcessCrashSafe:
  // the new directory entry is not fsynced (the caller can make the layer
  // again, or does not need it after a reboot).
  virtual Result<std::vector<Mount>> prepare_rw(const std::string& rw_key,
                                                const std::vector<std::string>& keys_bottom_first,
                                                Durability d = Durability::Durable) = 0;
  // The directory holding only what a prepare_rw snapshot changed (overlay:
  // its upperdir, whiteouts in overlay form). NotFound when rw_key is
  // missing; NotImplemented on the copy snapshotter (its rw snapshot is a
  // full tree, not a diff).
  virtual Result<std::string> changes_dir(const std::string& rw_key) const {
    (void)rw_key;
    return Error{Errc::NotImplemented, 0,
                 "the copy storage driver keeps no separate changes directory"};
  }
};

struct SnapshotterOptions {
  bool durable = true;  // syncfs before each commit (see Durability above)
};

// Picks overlay when a test mount of overlay over root works (a 1-layer
// mount under root/tmp whose whiteout hides a lower file), else copy.
// `force` = "overlayfs" | "copy" | "" (auto), from daemon.json "storage-driver"
// (docker's names "overlay2" and "vfs" are accepted as aliases). Unknown
// names, or a forced overlayfs that does not work, are errors naming the
// driver. Creates root and root/tmp when missing.
Result<std::unique_ptr<Snapshotter>> open_snapshotter(const std::string& root,
                                                      const std::string& force,
                                                      const SnapshotterOptions& opts = {});

// Streams the uncompressed tar of a layer blob (gzip, zstd or plain,
// detected by libarchive) to `sink` and returns its digest (the diff id).
// docker save writes layers uncompressed; image/ keeps the pulled blobs.
Result<Digest> decompress_layer(ByteSource src,
                                const std::function<Result<void>(std::string_view)>& sink);

// Writes the changes of an overlay upper dir as an uncompressed OCI layer tar
// to `sink` (docker commit): entries in lexical order per directory, a
// directory before its children, uid/gid/mode/mtime/xattrs kept (overlay's
// own trusted.overlay.* / user.overlay.* xattrs dropped), hardlinks within
// the dir as tar hardlinks, sockets skipped. An overlay whiteout (0:0
// character device) becomes an empty ".wh.NAME" file, an opaque directory
// (xattr trusted.overlay.opaque=y) is followed by ".wh..wh..opq". Refuses
// (FailedPrecondition) entries made by overlay's redirect_dir or metacopy
// features, which a layer cannot express. The stream ends with tar's two
// zero blocks and no padding (an empty dir gives docker's empty layer,
// sha256:5f70bf18...). Symlinks in the tree are never followed.
Result<void> write_overlay_changes(const std::string& upper_dir,
                                   const std::function<Result<void>(std::string_view)>& sink);

}  // namespace berth::snapshot
