// NodeRuntime: everything a node computes in a round, over memory carved
// once from its Arena by one MemoryPlan. ComputeUpdate is the round's whole
// work, a pipeline of stages that each own their buffers:
//
//   local training  E steps of the local optimiser, each at a minibatch
//                   gradient with its noise (LocalTrainer, the objective)
//   clip            the update scaled to privacy.clip_norm (ClipToNorm)
//   privacy noise   N(0, (z C)^2) per coordinate, under local DP
//   compression     the payload (Compressor)
//   encoding        the Update message
//
// It does not allocate once the builder has reached its planned size.
// Not thread-safe: one per node process.
#pragma once

#include <cstdint>
#include <optional>
#include <array>
#include <span>

#include "flatbuffers/flatbuffers.h"
#include "node/arena.h"
#include "node/attack.h"
#include "node/arena_allocator.h"
#include "node/compressor.h"
#include "node/local_trainer.h"
#include "node/memory_plan.h"
#include "maths/data_objective.h"
#include "maths/dataset.h"
#include "maths/synthetic_objective.h"
#include "schemas/codec/task_spec.h"

namespace edgefl {

// Every buffer a node needs for `task`, all carved from one Arena: the
// budget a board must have. Data objectives also need their shard's size.
MemoryPlan PlanNodeMemory(const codec::TaskSpec& task, uint32_t shard_rows = 0);

// Largest Update message the task can produce, in bytes: exact
// (codec::UpdateMessageBytes at the most values the compressor keeps).
size_t MaxUpdateMessageBytes(const codec::TaskSpec& task);

// The node's update builder block: the largest Update and the builder's
// scratch.
size_t UpdateBuilderBytes(const codec::TaskSpec& task);

// Largest RoundStart a node accepts: one part of the model (at most
// codec::kRoundStartPartValues values), Scaffold's control values beside it,
// and its framing.
size_t MaxRoundStartBytes(const codec::TaskSpec& task);

// Heartbeat and Bye messages are built in a small buffer of their own, so
// they never overwrite an update still on its way out.
inline constexpr size_t kControlMessageBytes = 1024;

// Random streams of a node, derived from (run seed, node index, round,
// purpose). Local step t > 0 draws its minibatch and noise from purpose
// + kLocalStepStride t (docs/protocol.md 6.6).
enum class Stream : uint64_t { kNoise = 1, kCompression = 2, kMinibatch = 3, kPrivacy = 4 };
inline constexpr uint64_t kLocalStepStride = 256;

class NodeRuntime {
 public:
  // Data objectives pass the loaded data set and this node's shard of it;
  // the shard is copied into the arena and `data` may go afterwards.
  NodeRuntime(const codec::TaskSpec& task, Arena& arena, const Dataset* data = nullptr,
              std::span<const uint32_t> shard = {});

  // Builds the round's Update message at `model`: the loss and the
  // gradient's norm before compression are in its header. The returned bytes
  // stay valid until the next call.
  std::span<const uint8_t> ComputeUpdate(uint32_t round, std::span<const float> model);
  // The same at the model already in model_replica(), where the parts of a
  // round start are copied as they arrive.
  std::span<const uint8_t> ComputeUpdate(uint32_t round);
  std::span<float> model_replica() { return model_; }
  // Computes as node `node_index` of the same task from the next
  // ComputeUpdate: only for a task whose nodes keep no state across rounds
  // (persistent_state() all empty), whose update is then a function of the
  // task, the node's index, the round and the model alone. In-process nodes
  // share one runtime so (node/in_process_nodes.h).
  void Retarget(uint32_t node_index) { task_.node_index = node_index; }
  // Makes this node hostile, a testing aid (node/attack.h): its gradients
  // are attacked after the noise, before compression.
  void set_attack(const NodeAttack& attack) { attack_ = attack; }

  const LocalTrainer& trainer() const { return trainer_; }
  // What this node carries from one round to the next (error memory,
  // moments kept for the run, SCAFFOLD's c_i), as bytes to save and restore;
  // all empty for a node without such state.
  std::array<std::span<uint8_t>, 5> persistent_state();
  // SCAFFOLD's c, where the parts of a round start's control values are copied.
  std::span<float> server_control() { return trainer_.server_control(); }
  // The plan this node's buffers were carved by (PlanNodeMemory).
  const MemoryPlan& memory_plan() const { return plan_; }
  // Where received messages land, sized by MaxRoundStartBytes, 8-aligned.
  std::span<uint8_t> receive_buffer() { return receive_buffer_; }
  // A builder for heartbeats and byes.
  flatbuffers::FlatBufferBuilder& control_builder() { return control_builder_; }

  const codec::TaskSpec& task() const { return task_; }
  // The samples behind each update, sent as its weight (FedAvg's n_i): the
  // shard's for a data objective, the batch's for a synthetic one.
  uint32_t weight() const { return weight_; }
  const Compressor& compressor() const { return compressor_; }

 private:
  // The gradient at the trainer's position for local step `t`, its noise
  // (and a hostile node's attack) added; returns the minibatch loss.
  double NoisyGradient(uint32_t round, uint32_t t);
  // The seed of `stream` for local step t of `round`.
  uint64_t SeedOf(uint32_t round, Stream stream, uint32_t t = 0) const;
  template <typename T>
  std::span<T> Carve(Arena& arena, NodeBuffer buffer) { return plan_.Carve<T>(arena, buffer); }

  codec::TaskSpec task_;
  MemoryPlan plan_;
  std::span<float> spectrum_;
  std::span<float> model_;
  std::span<float> gradient_;
  LocalTrainer trainer_;
  Compressor compressor_;
  std::optional<SyntheticObjective> synthetic_;
  std::optional<DataObjective> data_;
  Objective* objective_ = nullptr;  // one of the two
  std::span<uint8_t> receive_buffer_;
  ArenaBlockAllocator update_allocator_;
  ArenaBlockAllocator control_allocator_;
  flatbuffers::FlatBufferBuilder update_builder_;
  flatbuffers::FlatBufferBuilder control_builder_;
  Rng rng_;
  NodeAttack attack_;
  uint32_t weight_;
};

}  // namespace edgefl
