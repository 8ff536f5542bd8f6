// monitor/memory.h — the monitor's memory footprint (internal to the monitor).
#pragma once

namespace berth::monitor {

// Hands back the heap's free pages (malloc_trim), the stack pages that
// runtime calls touched below the caller's frame, and the clean read-only
// file pages (text, rodata) this process has mapped. Reads /proc/self/smaps
// and makes a few madvise calls: ~0.25 ms of CPU, so callers defer it to a
// quiet moment. Must not be inlined into a deep frame (it keeps 8 KiB below
// its own).
void release_memory();

}  // namespace berth::monitor
