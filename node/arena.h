// Arena: the node's whole working memory, taken once at Init and carved into
// fixed buffers (TensorFlow Lite Micro's two-phase model). Allocation is a
// bump of an offset; nothing is ever freed until the arena goes away, so the
// round loop cannot touch the heap through it. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "core/status.h"

namespace edgefl {

class Arena {
 public:
  // Takes `capacity_bytes` from the heap now (the only allocation).
  explicit Arena(size_t capacity_bytes);

  // `count` zero-initialised elements of T aligned to 64 bytes, or an empty
  // span and a failed status() if the arena is out of room.
  template <typename T>
  std::span<T> Allocate(size_t count, const char* purpose) {
    void* p = AllocateBytes(count * sizeof(T), purpose);
    return p == nullptr ? std::span<T>() : std::span<T>(static_cast<T*>(p), count);
  }

  void* AllocateBytes(size_t bytes, const char* purpose);

  size_t capacity() const { return capacity_; }
  size_t used() const { return used_; }
  // First failure: names the buffer, what it needed and what was left.
  const Status& status() const { return status_; }

  static constexpr size_t kAlignment = 64;

 private:
  std::unique_ptr<uint8_t[]> storage_;
  uint8_t* base_ = nullptr;
  size_t capacity_ = 0;
  size_t used_ = 0;
  Status status_;
};

}  // namespace edgefl
