// logs/json_file.h — docker's json-file log driver: write with rotation,
// read with tail/since/until, follow across rotations.
//
// Format (byte-compatible with docker's json-file): one JSON object per line,
//   {"log":"hello\n","stream":"stdout","time":"2026-11-29T20:56:54.123456789Z"}
// "log" holds the bytes of one line including its '\n' (a partial line —
// no newline before a flush or before 16 KiB — is written without '\n',
// as docker does); "stream" is "stdout" or "stderr"; "time" is RFC3339Nano
// UTC. Invalid UTF-8 is replaced (U+FFFD) as docker's encoder does.
//
// Files: `path` is the live file (<data-root>/containers/<id>/<id>-json.log);
// rotated files are path.1 (newest) .. path.(max_files-1) (oldest). Rotation
// happens when a write would push the live file past max_size: path.N-1 is
// dropped, each path.k is renamed to path.k+1, path to path.1, and a new
// path is created. Readers tolerate rotation at any moment (they keep the
// open fd of the file they read and move to the next newer file at EOF).
// Defaults as the issue asks (docker's json-file has none): max-size 10m,
// max-file 3. max_size 0 = never rotate.
//
// With compress, rotated files are path.1.gz .. path.(max_files-1).gz
// (logs/gz_internal.h; path.k stays plain until its compression is done).
//
// Durability: lines are written with one write(2) each (no userspace
// buffer), so a kill -9 of the writer loses no completed line; no fsync
// (docker does none either).
// Thread-safety: a Writer is used by one thread (the monitor); Readers are
// independent objects, one per `logs` call, on any thread.
// Depends on: base, sys, zlib (compressed rotated files).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace berth::logs {

enum class Stream { Stdout = 1, Stderr = 2 };

struct RotateOptions {
  int64_t max_size = 10 * 1024 * 1024;  // bytes; 0 = unlimited
  int max_files = 3;                    // >= 1; counts the live file
  // docker's "compress": rotated files are path.k.gz (gzip, done in the
  // background by a grandchild of the writer; logs/gz_internal.h); needs
  // max_files >= 2.
  bool compress = false;
  // The "attrs" object of every entry (docker's labels/env log opts), as
  // JSON text ("{\"k\":\"v\"}"); "" = none. Not from parse_log_opts: the
  // values come from the container (log_attributes).
  std::string attrs;
};

// docker's extra attributes of a container's log entries: the labels named
// by "labels" (comma-separated) or matching "labels-regex", the env variables
// named by "env" or matching "env-regex" (ECMAScript regexes, unanchored, as
// Go's MatchString). Unknown names are skipped. InvalidArgument for a bad
// regex.
Result<std::map<std::string, std::string>> log_attributes(
    const std::map<std::string, std::string>& opts,
    const std::map<std::string, std::string>& labels, const std::vector<std::string>& env);

// Parses docker's --log-opt keys for `driver` "json-file": max-size ("10m",
// "1g", "512k", plain bytes; docker's units, base 1024), max-file (integer
// >= 1), compress (Go's ParseBool), labels, labels-regex, env, env-regex (for
// log_attributes), tag (unused by json-file, as docker's). Unknown keys:
// InvalidArgument "unknown log opt 'k' for json-file log driver" (docker's
// wording). max-file > 1 without max-size is accepted (docker refuses it; we
// keep the 10m default then). compress with max-file 1: docker's refusal.
//
// `driver` "local" is docker's local driver: the same files, with its
// defaults (max-size 20m, max-file 5, compress true) and only max-size,
// max-file and compress. docker keeps its local logs in a protobuf format of
// its own; both are internal to their engine (only `logs` reads them), and
// berth keeps one reader.
Result<RotateOptions> parse_log_opts(const std::map<std::string, std::string>& opts,
                                     std::string_view driver = "json-file");

class Writer {
 public:
  // Opens (O_APPEND, created 0640) the live file; existing content is kept
  // (a restarted container appends, as docker does).
  static Result<std::unique_ptr<Writer>> open(const std::string& path, RotateOptions opts);
  virtual ~Writer() = default;
  // Writes the complete lines of `data` as entries timestamped `time_ns`
  // (unix ns; 0 = now), keeping a trailing partial line buffered per stream
  // until its '\n' arrives, 16 KiB accumulate, or flush().
  virtual Result<void> write(Stream s, std::string_view data, int64_t time_ns = 0) = 0;
  // Writes any buffered partial lines (at container exit).
  virtual Result<void> flush() = 0;
  // Waits for the background compression of a rotated file, if one runs
  // (the monitor calls it before it exits: nothing of a container writes
  // in its directory after its monitor is gone). The destructor does too.
  virtual void settle() = 0;
};

struct Entry {
  Stream stream = Stream::Stdout;
  int64_t time_ns = 0;
  std::string line;  // the "log" bytes (usually ends with '\n')
  // The entry's "attrs" as `logs --details` prints them: "k=v,k2=v2", keys
  // sorted, both query-escaped as Go's url.QueryEscape; "" = none.
  std::string attrs;
};

struct ReadOptions {
  bool stdout = true;
  bool stderr = true;
  std::optional<int64_t> since_ns;  // entries with time >= since
  std::optional<int64_t> until_ns;  // entries with time <= until (follow ends there)
  int64_t tail = -1;                // last N entries (after the stream filter); -1 = all
  bool follow = false;
};

// Called per entry; an error (client gone: Errc::Cancelled) stops reading and
// is returned by read().
using EntryFn = std::function<Result<void>(const Entry&)>;
// Polled while following, each time the reader has delivered everything
// written so far and is about to wait for more (so at least every 250 ms
// while idle; callers that batch EntryFn output flush it here): returns true
// when the follow should end — the container stopped and the writer is
// gone — after which the reader drains to EOF and returns.
using StopFn = std::function<bool()>;

// Reads every file of the set oldest first (path.(max-1) .. path.1, path).
// Corrupt lines (a torn write after a crash) are skipped, not fatal.
// Follow uses inotify on the directory to wake on writes and rotations.
// NotFound when the live file does not exist and follow is off (a container
// with --log-driver none is refused earlier by the engine with docker's
// message).
Result<void> read(const std::string& path, const ReadOptions& o, const EntryFn& fn,
                  const StopFn& stop = {});

// docker's multiplexed stream frame (stdcopy) for non-TTY logs/attach:
// [stream(1) 0 0 0 size(4, big endian)] + payload. stream 0 stdin, 1 stdout,
// 2 stderr, 3 system error.
std::string frame(int stream, std::string_view payload);

// RFC3339Nano UTC as docker writes it (trailing zeros of the fraction
// trimmed: "2026-11-29T20:56:54.1234Z").
std::string format_time(int64_t unix_ns);
// docker's RFC3339NanoFixed (always 9 fraction digits: "2026-11-29T20:56:54.123400000Z"),
// the form `logs --timestamps` prints before each line.
std::string format_time_fixed(int64_t unix_ns);
Result<int64_t> parse_time(std::string_view rfc3339);

}  // namespace berth::logs
