// checkpoint.bin: what a resumed run needs to carry on exactly where a run
// stopped — the config it ran with and its whole round state (RunState,
// then ServerStep with the rule's and optimiser's memory, then the
// aggregator's memory if it keeps any, as their Save writes them). docs/outputs.md gives the layout. A 40-byte header:
//
//   offset  bytes  field
//        0      8  magic "EDGEFLCK"
//        8      4  u32 format version (kCheckpointFormatVersion)
//       12      4  u32 round: the rounds done, the next round to run
//       16      1  u8 finished: 1 when the run ended (nothing to resume)
//       17      7  zero
//       24      8  u64 payload bytes
//       32      8  u64 checksum: FNV-1a-64 (core/fnv.h) of bytes 0 .. 31, then of the payload
//       40         payload: config.toml's text and the stop reason (each a u64 length and its bytes),
//                  then the state
//
// Integers are little-endian. A file that is short, long, of another
// version or whose checksum fails is refused with the reason. Written
// atomically (atomic_file.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace edgefl {

inline constexpr char kCheckpointMagic[8] = {'E', 'D', 'G', 'E', 'F', 'L', 'C', 'K'};
// 2: RunState ends with the control variate; 3: then with the tasks sent (buffered aggregation)
inline constexpr uint32_t kCheckpointFormatVersion = 3;
inline constexpr size_t kCheckpointHeaderBytes = 40;

struct Checkpoint {
  uint32_t round = 0;          // the rounds done: the next round to run
  bool finished = false;       // the run ended by completion, the target loss or divergence
  std::string config_toml;     // ToToml of the config the run was started with
  std::string stop_reason;     // the summary's stop_reason when it was written at the end ("" during the run)
  std::vector<uint8_t> state;  // RunState::Save, ServerStep::Save, Aggregator::Save
};

// Writes `checkpoint` to `path`.
Status WriteCheckpointFile(const std::string& path, const Checkpoint& checkpoint);

// Reads and checks a whole checkpoint file; the error names the file and
// what is wrong with it.
Status ReadCheckpointFile(const std::string& path, Checkpoint* checkpoint);
// The header alone (round, finished), unchecked: for a quick look.
Status ReadCheckpointHeader(const std::string& path, Checkpoint* checkpoint);
// The same as ReadCheckpointFile for bytes already read; `origin` names them in errors.
Status DecodeCheckpoint(std::span<const uint8_t> bytes, const std::string& origin, Checkpoint* checkpoint);

// Ok when `now` (ToToml of the config a resume would run) is the config
// the checkpoint was taken with; otherwise the error names the keys that
// differ and their two values.
Status CheckSameConfig(const std::string& at_checkpoint, const std::string& now);

// How the ToToml text `now` differs from `before`: "" when they are the
// same, else the first three keys that differ with both values
// ("step.eta = 0.2, was 0.1; ..."), as CheckSameConfig reports them.
std::string ConfigChanges(const std::string& before, const std::string& now);

}  // namespace edgefl
