// DownlinkStep: a round's step in the form a step-form RoundStart carries it
// (round.downlink = "step"; schemas/codec/model_step.h, docs/protocol.md 9),
// and the model moved by exactly that step, with the function every node
// applies it with: the coordinator's model and the nodes' replicas stay
// equal bit for bit by construction.
//
// The step is x_j <- f32(x_j - s u_j). With the sgd server optimiser u is
// the round's direction and s its step size eta; the other optimisers make
// their change from state a node does not have, so u is minus the change and
// s = 1. How u travels, part by part:
//   - a sign vote's direction (every u_j a count times 1/L, Aggregator::
//     vote_levels): its counts, ceil(log2(L + 1)) + 1 bits a coordinate, or
//     2 for majority; exact, so the model is the one round.downlink =
//     "model" gives, bit for bit;
//   - otherwise u rounded to f32, as a sparse part (the non-zero values and
//     their indices) when that is smaller, else a dense one. The model then
//     moves by f32(u) where "model" would move it by u: a relative
//     difference of at most 2^-24 a coordinate, the run's own arithmetic.
// Parts whose u is all zero are left out, except the last, which tells a
// node the step is complete. Not thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "experiment/experiment_config.h"
#include "schemas/codec/model_step.h"
#include "strategy/server_step.h"

namespace edgefl {

// One step, kept to be sent (to several nodes, and again to a node that
// catches up over several rounds).
struct StepRecord {
  struct Part {
    uint32_t offset = 0;
    wire::Payload type = wire::Payload::SparseF32;
    uint32_t levels = 1;                 // Quantized
    std::vector<float> values{};         // DenseF32, SparseF32
    std::vector<uint32_t> indices{};     // SparseF32, relative to offset
    std::vector<uint8_t> packed_levels{};  // Quantized
    std::vector<uint8_t> packed_signs{};
  };
  uint32_t version = 0;     // the round whose model the step makes
  double step_size = 0.0;   // s
  uint64_t model_hash = 0;  // codec::ReplicaHash of that model
  std::vector<Part> parts{};  // increasing offsets; the last part always
  size_t message_bytes = 0; // the parts' RoundStart bytes (in a round >= 1), once
  // The step would cost the model's bytes or more: it is not sent (nodes
  // get the model) and the model moved as round.downlink = "model" moves it.
  bool whole = false;

  // Part `i` as the codec encodes it; views into the record.
  codec::ModelStepPart View(size_t i, uint32_t dimension) const;
};

// Encodes u (dimension d) and s as the step that makes round `version`'s
// model; `vote_levels` as Aggregator::vote_levels (0: none). A step that
// would cost the model's bytes or more is left `whole`, with no parts (and
// a dense one is sized, not built). The record's model_hash is left to
// ApplyStep, or to the caller of a whole one.
void BuildStep(std::span<const double> u, double s, uint32_t vote_levels, uint32_t version, StepRecord* record);

// Moves `model` by the record's step, as a node does, and sets its hash.
void ApplyStep(std::span<float> model, StepRecord* record);

// A step with no change (a round without its quorum): only an empty last part.
void BuildEmptyStep(uint32_t dimension, uint32_t version, StepRecord* record);

// The round's step as the run takes it, in the round loop and in a replay
// alike: with round.downlink = "model", ServerStep::Apply; with "step",
// ServerStep::Plan, the step built into *record (version: the round after
// aggregate.round) and `model` moved by it, unless the step would cost as
// much as the model (dense values): then the record is `whole` and the
// model moves as with "model". `scratch` holds minus the change for
// optimisers other than sgd. Returns eta_k.
double TakeServerStep(const ExperimentConfig& config, ServerStep& step, const RoundAggregate& aggregate,
                      uint32_t vote_levels, std::span<float> model, StepRecord* record, std::vector<double>& scratch);

}  // namespace edgefl
