#include "runfiles/model_file.h"

#include <bit>
#include <cstring>

#include "runfiles/atomic_file.h"
#include "core/byte_fields.h"
#include "core/fnv.h"

namespace edgefl {

// The values are written as the host holds them, which is the file's
// little-endian order on every host edgefl builds for.
static_assert(std::endian::native == std::endian::little, "model.bin stores little-endian values");

Status WriteModelFile(const std::string& path, std::span<const float> model, uint64_t* hash) {
  const std::span<const uint8_t> values(reinterpret_cast<const uint8_t*>(model.data()), model.size_bytes());
  *hash = Fnv1a64(values);
  uint8_t header[kModelHeaderBytes] = {};
  std::memcpy(header, kModelMagic, sizeof(kModelMagic));
  PutAt<uint32_t>(header, 8, kModelFormatVersion);
  PutAt<uint32_t>(header, 12, kModelFloat32);
  PutAt<uint64_t>(header, 16, model.size());
  PutAt<uint64_t>(header, 24, *hash);
  return WriteFileAtomically(path, {std::span<const uint8_t>(header), values});
}

Status ReadModelFile(const std::string& path, std::vector<float>* model, uint64_t* hash) {
  std::vector<uint8_t> bytes;
  EDGEFL_RETURN_IF_ERROR(ReadWholeFile(path, &bytes));
  if (bytes.size() < kModelHeaderBytes || std::memcmp(bytes.data(), kModelMagic, sizeof(kModelMagic)) != 0) {
    return Status::Error(StatusCode::kMalformed, "%s is not an edgefl model file (no EDGEFLMD header)", path.c_str());
  }
  const auto version = GetAt<uint32_t>(bytes.data(), 8);
  if (version != kModelFormatVersion) {
    return Status::Error(StatusCode::kMalformed, "%s is model format version %u; this build reads version %u",
                         path.c_str(), version, kModelFormatVersion);
  }
  const auto type = GetAt<uint32_t>(bytes.data(), 12);
  if (type != kModelFloat32) {
    return Status::Error(StatusCode::kMalformed, "%s holds values of type %u; this build reads 1 (float32)",
                         path.c_str(), type);
  }
  const auto dimension = GetAt<uint64_t>(bytes.data(), 16);
  const size_t values = bytes.size() - kModelHeaderBytes;
  if (dimension > values / 4 || values != 4 * dimension) {
    return Status::Error(StatusCode::kMalformed,
                         "%s says d = %llu (%llu bytes of values) but holds %zu bytes of values", path.c_str(), static_cast<unsigned long long>(dimension),
                         static_cast<unsigned long long>(dimension) * 4, values);
  }
  const std::span<const uint8_t> value_bytes(bytes.data() + kModelHeaderBytes, values);
  *hash = Fnv1a64(value_bytes);
  const auto stored = GetAt<uint64_t>(bytes.data(), 24);
  if (stored != *hash) {
    return Status::Error(StatusCode::kMalformed, "%s is corrupt: its values hash to %016llx, its header says %016llx",
                         path.c_str(), static_cast<unsigned long long>(*hash), static_cast<unsigned long long>(stored));
  }
  model->resize(dimension);
  std::memcpy(model->data(), value_bytes.data(), values);
  return Status::Ok();
}

}  // namespace edgefl
