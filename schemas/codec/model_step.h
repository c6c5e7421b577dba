// The step form of RoundStart (protocol version 7, docs/protocol.md 9): the
// coordinator sends a node that already holds the last round's model only
// the step that moves it, and the node applies it to its replica. Both sides
// apply a step with ApplyModelStep, so the coordinator's model and every
// replica stay equal bit for bit; FNV-1a of the result travels with the step
// (`model_hash`) so that a replica that missed or lost something finds out
// and asks for the full model (ModelRequest).
//
// A step is cut into parts on the grid of full RoundStarts: part p covers
// coordinates [p n, min(d, (p + 1) n)), n = kRoundStartPartValues. Within a
// part, u_j (relative index j) is given by the payload:
//   DenseF32   u_j = values[j], one value a coordinate
//   SparseF32  u_{indices[k]} = values[k] (indices increasing, < the part's
//              length), 0 elsewhere
//   Quantized  u_j = ±level_j × (1 / levels), norm 1: a sign vote's counts
//              (sign-mean) or its signs (majority, levels 1), exactly
// and every coordinate becomes x_j = f32(x_j − step_size · u_j), computed in
// double. Nothing here allocates.
#pragma once

#include <cstdint>
#include <span>

#include "core/status.h"
#include "flatbuffers/flatbuffers.h"
#include "schemas/codec/wire.h"

namespace edgefl::codec {

struct ModelStepPart {
  uint32_t version = 0;      // the round whose model the replica holds once the whole step is applied
  uint32_t offset = 0;       // a multiple of kRoundStartPartValues
  uint32_t length = 0;       // min(kRoundStartPartValues, d - offset)
  double step_size = 0.0;
  uint64_t model_hash = 0;   // ReplicaHash of the model after the whole step
  PayloadView payload;       // DenseF32, SparseF32 or Quantized, as above
};

// The number of parts a model of dimension d is cut into, and the length of
// the part at `offset`.
constexpr uint32_t ModelParts(uint32_t dimension) {
  return (dimension + kRoundStartPartValues - 1) / kRoundStartPartValues;
}
constexpr uint32_t PartLength(uint32_t dimension, uint32_t offset) {
  return dimension - offset < kRoundStartPartValues ? dimension - offset : kRoundStartPartValues;
}

// The Step RoundStart of round `round` carrying `part`.
void EncodeRoundStartStep(flatbuffers::FlatBufferBuilder& fbb, uint32_t round, const ModelStepPart& part);

// Checks a Step RoundStart against a model of dimension d (offset on the
// grid, payload of one of the three forms with sizes, indices, levels and
// values as above, all finite, version >= 1) and views it in *part.
Status ReadRoundStartStep(const wire::RoundStart& start, uint32_t dimension, ModelStepPart* part);

// The bytes of the step part of round `round` (>= 1) at `offset`, as
// EncodeRoundStartStep writes it: Quantized with `levels`, SparseF32 with
// `kept` values, or DenseF32 (any values of that shape encode to the same
// size).
size_t StepPartBytes(uint32_t dimension, uint32_t offset, wire::Payload type, uint32_t levels, uint32_t kept = 0);

// Applies a checked part to `model` (the whole model).
void ApplyModelStep(const ModelStepPart& part, std::span<float> model);

// The model_hash of a step: FNV-1a over the model's 32-bit words in eight
// lanes (lane k takes words k, k + 8, ...: h = (h xor w) * prime, from the
// offset basis), then FNV-1a over the eight lanes' 64 bytes, little-endian.
// Eight independent chains make it about ten times as fast as ModelHash's
// byte-serial FNV-1a, which a node would pay over 4d bytes every round. It
// finds a replica that differs; it is no defence against a hostile
// coordinator (which could send any model anyway).
uint64_t ReplicaHash(std::span<const float> model);

}  // namespace edgefl::codec
