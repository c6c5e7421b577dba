// ArenaBlockAllocator: a flatbuffers::Allocator over one fixed block of the
// node's Arena, so a FlatBufferBuilder sized for the largest message it will
// ever build never touches the heap. The block is handed out whole, once;
// a builder that would need more is a bug in the memory plan, and the
// process stops with a message saying so rather than silently allocating.
// Not thread-safe: one per builder.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <span>

#include "flatbuffers/flatbuffers.h"

namespace edgefl {

class ArenaBlockAllocator : public flatbuffers::Allocator {
 public:
  explicit ArenaBlockAllocator(std::span<uint8_t> block) : block_(block) {}

  uint8_t* allocate(size_t size) override {
    if (in_use_ || size > block_.size()) {
      std::fprintf(stderr, "edgefl: a %zu-byte message does not fit its %zu-byte arena buffer (memory plan bug)\n",
                   size, block_.size());
      std::abort();
    }
    in_use_ = true;
    return block_.data();
  }

  void deallocate(uint8_t* p, size_t) override {
    if (p == block_.data()) in_use_ = false;
  }

  size_t capacity() const { return block_.size(); }

 private:
  std::span<uint8_t> block_;
  bool in_use_ = false;
};

}  // namespace edgefl
