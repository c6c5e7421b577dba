#include "node/node_runtime.h"

#include <cmath>

#include "core/clock.h"
#include "core/rng.h"
#include "maths/compressor_maths.h"
#include "maths/gradient_noise.h"
#include "maths/vector_norms.h"
#include "schemas/codec/bit_pack.h"
#include "schemas/codec/wire.h"

namespace edgefl {
size_t MaxUpdateMessageBytes(const codec::TaskSpec& task) {
  const uint32_t d = task.objective.dimension;
  return codec::UpdateMessageBytes(task.compressor, d, MaxKeptValues(task.compressor, d), task.local.HasControl());
}

size_t UpdateBuilderBytes(const codec::TaskSpec& task) {
  // While it builds, the builder keeps its scratch (the current table's
  // field offsets, the vtables' offsets) in the same block as the message;
  // an Update's few tables need well under 128 bytes of it. A multiple of 8,
  // so the builder's first (and only) block fits exactly.
  return (MaxUpdateMessageBytes(task) + 128 + 7) / 8 * 8;
}

size_t MaxRoundStartBytes(const codec::TaskSpec& task) {
  // Scaffold's control values travel beside the model's, as many.
  const size_t values = std::min(task.objective.dimension, codec::kRoundStartPartValues);
  const size_t vectors = task.local.HasControl() ? 2 : 1;
  return (vectors * values * sizeof(float) + 256 + 7) / 8 * 8;
}

MemoryPlan PlanNodeMemory(const codec::TaskSpec& task, uint32_t shard_rows) {
  const size_t d = task.objective.dimension;
  MemoryPlan plan;
  const DatasetInfo* info = codec::IsDataObjective(task.objective.kind) ? FindDataset(task.objective.dataset) : nullptr;
  if (info != nullptr) {
    plan.Add(NodeBuffer::kDataShard, size_t{shard_rows} * info->features * sizeof(float));
    plan.Add(NodeBuffer::kDataShardLabels, shard_rows);
    const size_t batch_rows = size_t{task.batch_size} * info->features * sizeof(float);
    plan.Add(NodeBuffer::kMinibatch, batch_rows);
    plan.Add(NodeBuffer::kMinibatchLabels, task.batch_size);
    plan.Add(NodeBuffer::kClassifierWorkspace, DataObjective::BatchBytes(task, *info) - batch_rows - task.batch_size);
  } else {
    plan.Add(NodeBuffer::kObjectiveSpectrum, d * sizeof(float));
  }
  plan.Add(NodeBuffer::kModelReplica, d * sizeof(float));
  plan.Add(NodeBuffer::kGradient, d * sizeof(float));
  LocalTrainer::Plan(task.local, task.objective.dimension, &plan);
  plan.Add(NodeBuffer::kCompressorBuffers, Compressor::ArenaBytes(task.compressor, task.objective.dimension));
  plan.Add(NodeBuffer::kReceiveBuffer, MaxRoundStartBytes(task));
  plan.Add(NodeBuffer::kUpdateMessage, UpdateBuilderBytes(task));
  plan.Add(NodeBuffer::kControlMessage, kControlMessageBytes);
  plan.total_bytes += Arena::kAlignment;  // the arena aligns its own start
  return plan;
}

NodeRuntime::NodeRuntime(const codec::TaskSpec& task, Arena& arena, const Dataset* data,
                         std::span<const uint32_t> shard)
    : task_(task),
      plan_(PlanNodeMemory(task, static_cast<uint32_t>(shard.size()))),
      spectrum_(Carve<float>(arena, NodeBuffer::kObjectiveSpectrum)),
      model_(Carve<float>(arena, NodeBuffer::kModelReplica)),
      gradient_(Carve<float>(arena, NodeBuffer::kGradient)),
      trainer_(task.local, plan_, arena),
      compressor_(task.compressor, task.objective.dimension, arena),
      receive_buffer_(Carve<uint8_t>(arena, NodeBuffer::kReceiveBuffer)),
      update_allocator_(Carve<uint8_t>(arena, NodeBuffer::kUpdateMessage)),
      control_allocator_(Carve<uint8_t>(arena, NodeBuffer::kControlMessage)),
      update_builder_(update_allocator_.capacity(), &update_allocator_),
      control_builder_(control_allocator_.capacity(), &control_allocator_),
      weight_(data != nullptr ? static_cast<uint32_t>(shard.size()) : task.batch_size) {
  if (data == nullptr) {
    objective_ = &synthetic_.emplace(task.objective, spectrum_);
    return;
  }
  const Classifier classifier = ClassifierFor(task.objective, *data->info);
  const auto rows = Carve<float>(arena, NodeBuffer::kDataShard);
  const auto labels = Carve<uint8_t>(arena, NodeBuffer::kDataShardLabels);
  const DataObjectiveMemory memory{.rows = rows,
                                   .labels = labels,
                                   .batch_rows = Carve<float>(arena, NodeBuffer::kMinibatch),
                                   .batch_labels = Carve<uint8_t>(arena, NodeBuffer::kMinibatchLabels),
                                   .workspace = Carve<float>(arena, NodeBuffer::kClassifierWorkspace),
                                   .hessian_scratch = {}};
  if (!arena.status().ok()) return;  // it names the buffer that did not fit
  GatherRows(*data, shard, rows, labels);
  objective_ = &data_.emplace(classifier, task.batch_size, memory);
}

std::span<const uint8_t> NodeRuntime::ComputeUpdate(uint32_t round, std::span<const float> model) {
  std::copy(model.begin(), model.end(), model_.begin());
  return ComputeUpdate(round);
}

std::array<std::span<uint8_t>, 5> NodeRuntime::persistent_state() {
  const std::span<float> error = compressor_.mutable_error_memory();
  const auto trainer = trainer_.persistent_state();
  return {std::span<uint8_t>(reinterpret_cast<uint8_t*>(error.data()), error.size_bytes()), trainer[0], trainer[1],
          trainer[2], trainer[3]};
}

uint64_t NodeRuntime::SeedOf(uint32_t round, Stream stream, uint32_t t) const {
  return DeriveSeed(task_.seed, task_.node_index, round, static_cast<uint64_t>(stream) + kLocalStepStride * t);
}

double NodeRuntime::NoisyGradient(uint32_t round, uint32_t t) {
  const std::span<const float> x = trainer_.position(model_);
  rng_.Seed(SeedOf(round, Stream::kMinibatch, t));
  const double loss = objective_->SampleLossAndGradient(x, rng_, gradient_);
  if (UsesGradientBeforeNoise(attack_)) {
    // A hostile node's update built from the gradient before noise (node/attack.h).
    // Synthetic objectives have their optimum at x* = 0, so x - x* is the model.
    const AttackContext context{.noise_std = AttackNoiseStd(task_.noise, task_.batch_size, gradient_),
                                .away = synthetic_.has_value() ? x : std::span<const float>()};
    ApplyAttack(attack_, context, gradient_);
  } else {
    rng_.Seed(SeedOf(round, Stream::kNoise, t));
    AddGradientNoise(task_.noise, task_.batch_size, rng_, gradient_);
    ApplyAttack(attack_, {}, gradient_);
  }
  return loss;
}

std::span<const uint8_t> NodeRuntime::ComputeUpdate(uint32_t round) {
  const int64_t start_us = NowUs();

  codec::UpdateHeader header;
  header.node_id = task_.node_index;
  header.weight = weight_;
  trainer_.BeginRound(model_);
  for (uint32_t t = 0; t < task_.local.steps; ++t) {
    const double loss = NoisyGradient(round, t);
    if (t == 0) header.loss = loss;  // at the round's model
    trainer_.Step(t, gradient_, model_);
  }
  const std::span<float> update = trainer_.update(gradient_);
  trainer_.EndRound(update);
  header.control_delta = trainer_.control_delta();

  const codec::PrivacySpec& privacy = task_.privacy;
  if (privacy.clip_norm > 0.0) ClipToNorm(update, privacy.clip_norm);
  if (privacy.noise_multiplier > 0.0) {
    const codec::NoiseSpec noise{.kind = wire::NoiseKind::Gaussian,
                                 .sigma = privacy.noise_multiplier * privacy.clip_norm};
    rng_.Seed(SeedOf(round, Stream::kPrivacy));
    AddGradientNoise(noise, /*batch_size=*/1, rng_, update);
  }
  header.grad_norm = std::sqrt(SquaredNorm(update));

  rng_.Seed(SeedOf(round, Stream::kCompression));
  codec::PayloadView payload;
  compressor_.Compress(update, rng_, &payload);
  header.compute_us = static_cast<uint32_t>(NowUs() - start_us);
  codec::EncodeUpdate(update_builder_, round, header, payload);
  return {update_builder_.GetBufferPointer(), update_builder_.GetSize()};
}

}  // namespace edgefl
