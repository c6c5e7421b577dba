// StateWriter / StateReader: the coordinator's state (the run's round, the
// model, a step rule's or a server optimiser's memory) as bytes, for
// checkpoints. Fixed-width little-endian fields in the order written; a
// reader checks it has the bytes it asks for. Not thread-safe.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <utility>
#include <vector>

#include "core/status.h"

namespace edgefl {

// Fields are written as the host holds them: little-endian on every host
// edgefl builds for.
static_assert(std::endian::native == std::endian::little, "checkpoints store little-endian fields");

class StateWriter {
 public:
  template <typename T>
  void Put(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    const auto* p = reinterpret_cast<const uint8_t*>(&value);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  template <typename T>
  void PutSpan(std::span<const T> values) {
    Put(static_cast<uint64_t>(values.size()));
    const auto* p = reinterpret_cast<const uint8_t*>(values.data());
    bytes_.insert(bytes_.end(), p, p + values.size_bytes());
  }
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  // Hands the bytes over; the writer is empty afterwards.
  std::vector<uint8_t> Release() { return std::exchange(bytes_, {}); }

 private:
  std::vector<uint8_t> bytes_;
};

class StateReader {
 public:
  explicit StateReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  template <typename T>
  Status Get(T* value) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (bytes_.size() - offset_ < sizeof(T)) return Short(sizeof(T));
    std::memcpy(value, bytes_.data() + offset_, sizeof(T));
    offset_ += sizeof(T);
    return Status::Ok();
  }
  // Reads a span written by PutSpan into `out`, which must have its length.
  template <typename T>
  Status GetSpan(std::span<T> out) {
    uint64_t size = 0;
    EDGEFL_RETURN_IF_ERROR(Get(&size));
    if (size != out.size()) {
      return Status::Error(StatusCode::kMalformed, "state holds %llu values where %zu are expected",
                           static_cast<unsigned long long>(size), out.size());
    }
    if (bytes_.size() - offset_ < out.size_bytes()) return Short(out.size_bytes());
    std::memcpy(out.data(), bytes_.data() + offset_, out.size_bytes());
    offset_ += out.size_bytes();
    return Status::Ok();
  }
  // Reads a span written by PutSpan into `out`, resized to its length (which
  // must fit in the bytes left).
  template <typename T>
  Status GetVector(std::vector<T>* out) {
    uint64_t size = 0;
    EDGEFL_RETURN_IF_ERROR(Get(&size));
    if (size > (bytes_.size() - offset_) / sizeof(T)) {
      return Short(static_cast<size_t>(std::min<uint64_t>(size, SIZE_MAX / sizeof(T))) * sizeof(T));
    }
    out->resize(size);
    std::memcpy(out->data(), bytes_.data() + offset_, size * sizeof(T));
    offset_ += size * sizeof(T);
    return Status::Ok();
  }
  bool done() const { return offset_ == bytes_.size(); }
  size_t left() const { return bytes_.size() - offset_; }

 private:
  Status Short(size_t wanted) const {
    return Status::Error(StatusCode::kMalformed, "state ends at byte %zu, %zu bytes short", bytes_.size(),
                         wanted - (bytes_.size() - offset_));
  }
  std::span<const uint8_t> bytes_;
  size_t offset_ = 0;
};

}  // namespace edgefl
