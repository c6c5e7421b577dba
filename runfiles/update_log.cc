#include "runfiles/update_log.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "runfiles/atomic_file.h"

namespace edgefl {
namespace {

constexpr char kMagic[8] = {'E', 'D', 'G', 'E', 'F', 'L', 'U', 'P'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 16;
constexpr size_t kRecordHeaderBytes = 16;

size_t Padded(size_t bytes) { return (bytes + 7) / 8 * 8; }

uint32_t U32At(const std::vector<uint8_t>& bytes, size_t at) {
  uint32_t v = 0;
  std::memcpy(&v, bytes.data() + at, sizeof(v));
  return v;
}

// The record boundaries of `bytes` (a whole file), up to a torn last record.
Status Records(const std::vector<uint8_t>& bytes, const std::string& path, std::vector<size_t>* starts) {
  if (bytes.size() < kHeaderBytes || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0 ||
      U32At(bytes, 8) != kVersion) {
    return Status::Error(StatusCode::kMalformed, "%s is not an edgefl update log of version %u", path.c_str(),
                         kVersion);
  }
  for (size_t at = kHeaderBytes; at + kRecordHeaderBytes <= bytes.size();) {
    const size_t end = at + kRecordHeaderBytes + Padded(U32At(bytes, at + 8));
    if (end > bytes.size()) break;  // torn by a crash: dropped
    starts->push_back(at);
    at = end;
  }
  return Status::Ok();
}

}  // namespace

Status UpdateLog::Open(const std::string& dir) {
  path_ = dir + "/" + kUpdateLogFile;
  file_ = std::fopen(path_.c_str(), "wb");
  if (file_ == nullptr) {
    return Status::Error(StatusCode::kInvalidArgument, "cannot write %s: %s", path_.c_str(), std::strerror(errno));
  }
  uint8_t header[kHeaderBytes] = {};
  std::memcpy(header, kMagic, sizeof(kMagic));
  std::memcpy(header + 8, &kVersion, sizeof(kVersion));
  if (std::fwrite(header, 1, sizeof(header), file_) != sizeof(header) || std::fflush(file_) != 0) {
    return Status::Error(StatusCode::kInvalidArgument, "cannot write %s: %s", path_.c_str(), std::strerror(errno));
  }
  return Status::Ok();
}

Status UpdateLog::Resume(const std::string& dir, uint32_t rounds) {
  const std::string path = dir + "/" + kUpdateLogFile;
  if (!std::filesystem::exists(path)) return Open(dir);
  std::vector<uint8_t> bytes;
  EDGEFL_RETURN_IF_ERROR(ReadWholeFile(path, &bytes));
  std::vector<size_t> starts;
  EDGEFL_RETURN_IF_ERROR(Records(bytes, path, &starts));
  size_t keep = kHeaderBytes;
  for (const size_t at : starts) {
    if (U32At(bytes, at) >= rounds) break;
    keep = at + kRecordHeaderBytes + Padded(U32At(bytes, at + 8));
  }
  EDGEFL_RETURN_IF_ERROR(WriteFileAtomically(path, std::string(bytes.begin(), bytes.begin() + keep)));
  path_ = path;
  file_ = std::fopen(path_.c_str(), "ab");
  if (file_ == nullptr) {
    return Status::Error(StatusCode::kInvalidArgument, "cannot write %s: %s", path_.c_str(), std::strerror(errno));
  }
  return Status::Ok();
}

Status UpdateLog::Append(uint32_t round, uint32_t node, std::span<const uint8_t> message) {
  if (file_ == nullptr) return Status::Ok();
  uint32_t head[4] = {round, node, static_cast<uint32_t>(message.size()), 0};
  static constexpr uint8_t kZeros[8] = {};
  const size_t pad = Padded(message.size()) - message.size();
  if (std::fwrite(head, 1, sizeof(head), file_) != sizeof(head) ||
      std::fwrite(message.data(), 1, message.size(), file_) != message.size() ||
      std::fwrite(kZeros, 1, pad, file_) != pad || std::fflush(file_) != 0) {
    return Status::Error(StatusCode::kInvalidArgument, "cannot write %s: %s", path_.c_str(), std::strerror(errno));
  }
  return Status::Ok();
}

Status UpdateLog::Sync() { return file_ == nullptr ? Status::Ok() : SyncFile(file_, path_); }

UpdateLog::~UpdateLog() {
  if (file_ != nullptr) std::fclose(file_);
}

Status ReadUpdateLog(const std::string& path, std::vector<KeptUpdate>* updates) {
  std::vector<uint8_t> bytes;
  EDGEFL_RETURN_IF_ERROR(ReadWholeFile(path, &bytes));
  std::vector<size_t> starts;
  EDGEFL_RETURN_IF_ERROR(Records(bytes, path, &starts));
  updates->clear();
  for (const size_t at : starts) {
    KeptUpdate u;
    u.round = U32At(bytes, at);
    u.node = U32At(bytes, at + 4);
    u.bytes = U32At(bytes, at + 8);
    u.message.resize(Padded(u.bytes) / 8);
    std::memcpy(u.message.data(), bytes.data() + at + kRecordHeaderBytes, u.bytes);
    updates->push_back(std::move(u));
  }
  return Status::Ok();
}

}  // namespace edgefl
