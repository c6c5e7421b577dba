#include "coordinator/downlink_step.h"

#include <cmath>

#include "schemas/codec/bit_pack.h"

namespace edgefl {
namespace {

constexpr uint32_t kMaxLevels = 0xFFFF;  // Quantized's fields are 16 bits at most

// Whether every u_j is a count times 1/L (L = levels), exactly as
// ApplyModelStep computes it back.
bool CountsExactly(std::span<const double> u, uint32_t levels) {
  if (levels < 1 || levels > kMaxLevels) return false;
  const double inverse = 1.0 / static_cast<double>(levels);
  for (const double v : u) {
    if (v == 0.0) continue;
    const double level = std::nearbyint(std::fabs(v) * levels);
    if (!(level >= 1.0 && level <= levels) || level * inverse != std::fabs(v)) return false;
  }
  return true;
}

void AddCountsPart(std::span<const double> u, uint32_t offset, uint32_t dimension, uint32_t levels, bool last,
                   StepRecord* record) {
  const unsigned bits = codec::BitsFor(levels);
  std::vector<uint16_t> fields(u.size());
  std::vector<uint8_t> signs(codec::PackedSignBytes(u.size()), 0);
  bool any = false;
  for (size_t j = 0; j < u.size(); ++j) {
    fields[j] = static_cast<uint16_t>(std::nearbyint(std::fabs(u[j]) * levels));
    if (u[j] < 0.0) signs[j / 8] |= static_cast<uint8_t>(1u << (j % 8));
    any |= fields[j] != 0;
  }
  if (!any && !last) return;
  StepRecord::Part part{.offset = offset, .type = wire::Payload::Quantized, .levels = levels};
  part.packed_levels.resize(codec::PackedFieldBytes(u.size(), bits));
  codec::PackFields(fields, bits, part.packed_levels);
  part.packed_signs = std::move(signs);
  record->message_bytes += codec::StepPartBytes(dimension, offset, wire::Payload::Quantized, levels);
  record->parts.push_back(std::move(part));
}

size_t NonZeroFloats(std::span<const double> u) {
  size_t nonzero = 0;
  for (const double v : u) nonzero += static_cast<float>(v) != 0.0f;
  return nonzero;
}

// A part of f32 values: sparse while 8 bytes a value is less than 4 a coordinate.
bool SparsePart(size_t nonzero, size_t length) { return 8 * nonzero < 4 * length; }

// The bytes of u's parts as f32 values, before building any.
size_t FloatStepBytes(std::span<const double> u) {
  const uint32_t d = static_cast<uint32_t>(u.size());
  size_t bytes = 0;
  for (uint32_t offset = 0; offset < d; offset += codec::kRoundStartPartValues) {
    const uint32_t length = codec::PartLength(d, offset);
    const size_t nonzero = NonZeroFloats(u.subspan(offset, length));
    if (nonzero == 0 && offset + length < d) continue;
    bytes += codec::StepPartBytes(d, offset, SparsePart(nonzero, length) ? wire::Payload::SparseF32
                                                                         : wire::Payload::DenseF32,
                                  1, static_cast<uint32_t>(nonzero));
  }
  return bytes;
}

void AddFloatPart(std::span<const double> u, uint32_t offset, uint32_t dimension, bool last, StepRecord* record) {
  const size_t nonzero = NonZeroFloats(u);
  if (nonzero == 0 && !last) return;
  StepRecord::Part part{.offset = offset};
  if (SparsePart(nonzero, u.size())) {
    part.type = wire::Payload::SparseF32;
    part.indices.reserve(nonzero);
    part.values.reserve(nonzero);
    for (size_t j = 0; j < u.size(); ++j) {
      const float v = static_cast<float>(u[j]);
      if (v == 0.0f) continue;
      part.indices.push_back(static_cast<uint32_t>(j));
      part.values.push_back(v);
    }
  } else {
    part.type = wire::Payload::DenseF32;
    part.values.resize(u.size());
    for (size_t j = 0; j < u.size(); ++j) part.values[j] = static_cast<float>(u[j]);
  }
  record->message_bytes +=
      codec::StepPartBytes(dimension, offset, part.type, 1, static_cast<uint32_t>(part.values.size()));
  record->parts.push_back(std::move(part));
}

}  // namespace

codec::ModelStepPart StepRecord::View(size_t i, uint32_t dimension) const {
  const Part& p = parts[i];
  codec::ModelStepPart view;
  view.version = version;
  view.offset = p.offset;
  view.length = codec::PartLength(dimension, p.offset);
  view.step_size = step_size;
  view.model_hash = model_hash;
  view.payload.type = p.type;
  view.payload.values = p.values;
  view.payload.indices = p.indices;
  view.payload.norm = 1.0f;
  view.payload.levels = p.levels;
  view.payload.packed_levels = p.packed_levels;
  view.payload.packed_signs = p.packed_signs;
  return view;
}

void BuildStep(std::span<const double> u, double s, uint32_t vote_levels, uint32_t version, StepRecord* record) {
  const uint32_t d = static_cast<uint32_t>(u.size());
  *record = StepRecord{.version = version, .step_size = s};
  const bool counts = vote_levels > 0 && CountsExactly(u, vote_levels);
  const size_t model_bytes = codec::RoundStartBytes(d, version);
  if (!counts && FloatStepBytes(u) >= model_bytes) {
    record->whole = true;  // not built only to be dropped
    return;
  }
  for (uint32_t offset = 0; offset < d; offset += codec::kRoundStartPartValues) {
    const std::span<const double> part = u.subspan(offset, codec::PartLength(d, offset));
    const bool last = offset + part.size() == d;
    if (counts) {
      AddCountsPart(part, offset, d, vote_levels, last, record);
    } else {
      AddFloatPart(part, offset, d, last, record);
    }
  }
  if (record->message_bytes >= model_bytes) {
    record->parts.clear();
    record->whole = true;
  }
}

void BuildEmptyStep(uint32_t dimension, uint32_t version, StepRecord* record) {
  *record = StepRecord{.version = version};
  const uint32_t last = (codec::ModelParts(dimension) - 1) * codec::kRoundStartPartValues;
  record->parts.push_back({.offset = last});
  record->message_bytes = codec::StepPartBytes(dimension, last, wire::Payload::SparseF32, 1, 0);
}

double TakeServerStep(const ExperimentConfig& config, ServerStep& step, const RoundAggregate& aggregate,
                      uint32_t vote_levels, std::span<float> model, StepRecord* record, std::vector<double>& scratch) {
  if (config.round.downlink == DownlinkForm::kModel) return step.Apply(aggregate, model);
  const double eta = step.Plan(aggregate);
  const uint32_t version = aggregate.round + 1;
  if (config.server.optimizer == ServerOptimizerKind::kSgd) {
    BuildStep(aggregate.direction, eta, vote_levels, version, record);
  } else {
    const std::span<const double> change = step.last_change();
    scratch.resize(change.size());
    for (size_t j = 0; j < change.size(); ++j) scratch[j] = -change[j];
    BuildStep(scratch, 1.0, 0, version, record);
  }
  if (record->whole) {
    step.Move(model);
    record->model_hash = codec::ReplicaHash(model);
    return eta;
  }
  ApplyStep(model, record);
  return eta;
}

void ApplyStep(std::span<float> model, StepRecord* record) {
  const uint32_t d = static_cast<uint32_t>(model.size());
  for (size_t i = 0; i < record->parts.size(); ++i) codec::ApplyModelStep(record->View(i, d), model);
  record->model_hash = codec::ReplicaHash(model);
}

}  // namespace edgefl
