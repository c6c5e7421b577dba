#include "node/memory_budget.h"

#include <unistd.h>

#include <algorithm>
#include <limits>

namespace edgefl {

uint64_t DefaultMemoryBudgetBytes(uint64_t physical_memory_bytes) {
  if (physical_memory_bytes == 0) return kMaxDefaultMemoryBudgetBytes;
  return std::min(physical_memory_bytes / 4, kMaxDefaultMemoryBudgetBytes);
}

uint64_t PhysicalMemoryBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_bytes = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_bytes <= 0) return 0;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_bytes);
}

uint64_t EffectiveMemoryBudgetBytes(uint64_t given_bytes) {
  return given_bytes != 0 ? given_bytes : DefaultMemoryBudgetBytes(PhysicalMemoryBytes());
}

Status ArenaBytesFor(const codec::TaskSpec& task, size_t needed_bytes, uint64_t given_bytes, uint64_t default_bytes,
                     size_t* arena_bytes, uint32_t shared_by) {
  *arena_bytes = 0;
  const uint32_t d = task.objective.dimension;
  const char* compressor = codec::CompressorName(task.compressor.kind);
  if (given_bytes == 0) {
    if (needed_bytes > default_bytes && shared_by > 1) {
      return Status::Error(StatusCode::kResourceExhausted,
                           "refused the task: it needs %zu bytes (d = %u, %s), over this node's share of the default "
                           "memory budget, 1/%u: %llu bytes; give --memory-budget to allow more",
                           needed_bytes, d, compressor, shared_by, static_cast<unsigned long long>(default_bytes));
    }
    if (needed_bytes > default_bytes) {
      return Status::Error(StatusCode::kResourceExhausted,
                           "refused the task: it needs %zu bytes (d = %u, %s), over this node's default memory budget "
                           "of %llu bytes (a quarter of physical memory, at most 256 MiB); give --memory-budget to "
                           "allow more",
                           needed_bytes, d, compressor, static_cast<unsigned long long>(default_bytes));
    }
    *arena_bytes = needed_bytes;
    return Status::Ok();
  }
  // On a 32-bit board a budget beyond the address space would wrap around.
  if (given_bytes > std::numeric_limits<size_t>::max()) {
    return Status::Error(StatusCode::kInvalidArgument, "memory budget of %llu bytes exceeds this board's address space",
                         static_cast<unsigned long long>(given_bytes));
  }
  if (given_bytes < needed_bytes) {
    return Status::Error(StatusCode::kResourceExhausted,
                         "memory budget of %zu bytes is too small: this task (d = %u, %s) needs %zu bytes",
                         static_cast<size_t>(given_bytes), d, compressor, needed_bytes);
  }
  *arena_bytes = static_cast<size_t>(given_bytes);
  return Status::Ok();
}

}  // namespace edgefl
