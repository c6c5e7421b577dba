// MemoryPlan: every buffer a node carves from its Arena, by name and size.
// The round's stages (objective, local training, compression, messages)
// each add their buffers to one plan (PlanNodeMemory, node_runtime.h) and
// carve them back from it by the same NodeBuffer, so the plan a node prints
// (--print-memory-plan), the budget the coordinator checks and the arena's
// carving are one list.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "node/arena.h"

namespace edgefl {

// Every buffer a node may carve. A plan has one slot for each.
enum class NodeBuffer : uint8_t {
  kDataShard,
  kDataShardLabels,
  kMinibatch,
  kMinibatchLabels,
  kClassifierWorkspace,
  kObjectiveSpectrum,
  kModelReplica,
  kGradient,
  kLocalModel,     // x_t during local steps (local.steps > 1)
  kDirectionSum,   // sum of the local steps' directions (local.steps > 1)
  kFirstMoment,    // momentum, nesterov, adam
  kSecondMoment,   // adam
  kClientControl,  // scaffold: c_i, this node's control variate
  kServerControl,  // scaffold: c, the coordinator's (from RoundStart)
  kControlDelta,   // scaffold: c_i+ - c_i, sent with the update
  kCompressorBuffers,
  kReceiveBuffer,
  kUpdateMessage,
  kControlMessage,
  kCount,  // not a buffer: how many there are
};
inline constexpr size_t kNodeBufferCount = static_cast<size_t>(NodeBuffer::kCount);
const char* NodeBufferName(NodeBuffer buffer);

struct MemoryPlan {
  size_t bytes[kNodeBufferCount] = {};  // by NodeBuffer
  bool used[kNodeBufferCount] = {};
  size_t total_bytes = 0;  // including alignment padding

  // Plans `buffer` (each at most once).
  void Add(NodeBuffer buffer, size_t size_bytes);
  size_t BytesOf(NodeBuffer buffer) const { return bytes[static_cast<size_t>(buffer)]; }

  // `buffer`'s planned bytes as elements of T, carved under its name (empty
  // when it is not planned).
  template <typename T>
  std::span<T> Carve(Arena& arena, NodeBuffer buffer) const {
    return arena.Allocate<T>(BytesOf(buffer) / sizeof(T), NodeBufferName(buffer));
  }
};

}  // namespace edgefl
