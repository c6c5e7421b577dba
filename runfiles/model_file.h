// model.bin: a run's model as a file (docs/outputs.md gives the layout and
// a reader in Python). A 32-byte header, then the d values:
//
//   offset  bytes  field
//        0      8  magic "EDGEFLMD"
//        8      4  u32 format version (kModelFormatVersion)
//       12      4  u32 value type: 1 = float32, little-endian
//       16      8  u64 d
//       24      8  u64 FNV-1a-64 of bytes 32 .. 32 + 4d (core/fnv.h): the summary's model_hash
//       32     4d  the values, x_0 .. x_{d-1}
//
// Integers are little-endian. The hash is codec::ModelHash of the model, as
// it hashes each f32's bytes in little-endian order. Written atomically
// (atomic_file.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace edgefl {

inline constexpr char kModelMagic[8] = {'E', 'D', 'G', 'E', 'F', 'L', 'M', 'D'};
inline constexpr uint32_t kModelFormatVersion = 1;
inline constexpr uint32_t kModelFloat32 = 1;
inline constexpr size_t kModelHeaderBytes = 32;

// Writes `model` to `path`; *hash receives the hash of the values as the
// file holds them.
Status WriteModelFile(const std::string& path, std::span<const float> model, uint64_t* hash);

// Reads a model file, checking its magic, version, value type, length and
// hash; the error names the file and what is wrong with it.
Status ReadModelFile(const std::string& path, std::vector<float>* model, uint64_t* hash);

}  // namespace edgefl
