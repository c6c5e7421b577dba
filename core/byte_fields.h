// Fixed-offset fields of a binary file header (model.bin, checkpoint.bin),
// in the host's byte order, which is little-endian on every host edgefl
// builds for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace edgefl {

template <typename T>
void PutAt(uint8_t* bytes, size_t offset, T value) {
  std::memcpy(bytes + offset, &value, sizeof(T));
}

template <typename T>
T GetAt(const uint8_t* bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes + offset, sizeof(T));
  return value;
}

}  // namespace edgefl
