#include "node/arena.h"

#include <cstring>

namespace edgefl {

Arena::Arena(size_t capacity_bytes)
    : storage_(new uint8_t[capacity_bytes + kAlignment]), capacity_(capacity_bytes) {
  const auto address = reinterpret_cast<uintptr_t>(storage_.get());
  base_ = storage_.get() + (kAlignment - address % kAlignment) % kAlignment;
}

void* Arena::AllocateBytes(size_t bytes, const char* purpose) {
  const size_t start = (used_ + kAlignment - 1) / kAlignment * kAlignment;
  if (start > capacity_ || bytes > capacity_ - start) {
    if (status_.ok()) {
      status_ = Status::Error(StatusCode::kResourceExhausted,
                              "memory budget of %zu bytes is too small: %s needs %zu bytes at offset %zu", capacity_,
                              purpose, bytes, start);
    }
    return nullptr;
  }
  used_ = start + bytes;
  std::memset(base_ + start, 0, bytes);
  return base_ + start;
}

}  // namespace edgefl
