// UpdateLog: updates.bin, every update a run aggregated, as its message
// bytes were received, kept when the coordinator runs with --keep-updates,
// so that `edgefl verify --replay` can take the run's steps again and
// confirm each model the audit chain recorded (run_replay.h). The layout:
//
//   offset  bytes  field
//        0      8  magic "EDGEFLUP"
//        8      4  u32 format version (1)
//       12      4  zero
//   then one record per update, in the order the run accepted them:
//        0      4  u32 round
//        4      4  u32 node id
//        8      4  u32 n, the message's bytes
//       12      4  zero
//       16      n  the Update message (docs/protocol.md), then zeros to a multiple of 8
//
// Integers are little-endian. Records are flushed as rounds end, and a
// resumed run cuts the file back to its checkpoint's rounds. Not
// thread-safe.
#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace edgefl {

inline constexpr const char* kUpdateLogFile = "updates.bin";

struct KeptUpdate {
  uint32_t round = 0;
  uint32_t node = 0;
  std::vector<uint64_t> message;  // 8-byte aligned, as the decoder needs
  size_t bytes = 0;
};

class UpdateLog {
 public:
  Status Open(const std::string& dir);
  // Keeps the records of the rounds before `rounds` and appends after them.
  Status Resume(const std::string& dir, uint32_t rounds);
  Status Append(uint32_t round, uint32_t node, std::span<const uint8_t> message);
  Status Sync();
  bool open() const { return file_ != nullptr; }
  ~UpdateLog();

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

// Reads updates.bin; the error names the record that is damaged.
Status ReadUpdateLog(const std::string& path, std::vector<KeptUpdate>* updates);

}  // namespace edgefl
