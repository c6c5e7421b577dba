#include "coordinator/cohort_sampler.h"

#include <algorithm>
#include <vector>

#include "core/rng.h"

namespace edgefl {
namespace {

// Purposes, above every node index so that no node's own stream
// (DeriveSeed(seed, node, ...)) is ever one of these.
constexpr uint64_t kAvailabilityDraw = 0xC0507'0000'0001ULL;
constexpr uint64_t kCohortDraw = 0xC0507'0000'0002ULL;
constexpr uint64_t kDropoutDraw = 0xC0507'0000'0003ULL;

}  // namespace

double CohortSampler::Uniform(uint64_t purpose, uint32_t round, uint32_t node) const {
  return static_cast<double>(DeriveSeed(config_.seed, purpose, round, node) >> 11) * 0x1.0p-53;
}

bool CohortSampler::Available(uint32_t round, uint32_t node) const {
  const ExperimentConfig::Participation p = config_.ParticipationOf(node);
  if (!p.schedule.Includes(round)) return false;
  return p.availability >= 1.0 || Uniform(kAvailabilityDraw, round, node) < p.availability;
}

bool CohortSampler::DropsOut(uint32_t round, uint32_t node) const {
  const double dropout = config_.ParticipationOf(node).dropout;
  return dropout > 0.0 && Uniform(kDropoutDraw, round, node) < dropout;
}

uint32_t CohortSampler::AvailableCount(uint32_t round) const {
  uint32_t available = 0;
  for (uint32_t node = 0; node < config_.nodes; ++node) available += Available(round, node) ? 1 : 0;
  return available;
}

uint32_t CohortSampler::KeepLowest(std::vector<std::pair<uint64_t, uint32_t>>& candidates) const {
  const uint32_t asked = std::min<uint32_t>(static_cast<uint32_t>(candidates.size()), config_.AskedPerRound());
  // Every candidate is asked (no cohort): their order does not matter.
  if (asked == candidates.size()) return asked;
  // The lowest priorities: a uniform sample without replacement, whatever
  // order the candidates are listed in (ties, at 2^-64, go to the lower id).
  std::partial_sort(candidates.begin(), candidates.begin() + asked, candidates.end());
  return asked;
}

void CohortSampler::DrawFromPopulation(uint32_t round, std::vector<uint32_t>* members) const {
  std::vector<std::pair<uint64_t, uint32_t>> candidates;
  candidates.reserve(config_.nodes);
  for (uint32_t node = 0; node < config_.nodes; ++node) {
    if (Available(round, node)) candidates.emplace_back(DeriveSeed(config_.seed, kCohortDraw, round, node), node);
  }
  const uint32_t asked = KeepLowest(candidates);
  members->clear();
  members->reserve(asked);
  for (uint32_t k = 0; k < asked; ++k) members->push_back(candidates[k].second);
  std::sort(members->begin(), members->end());
}

uint32_t CohortSampler::Select(uint32_t round, NodeTable& nodes) const {
  // Candidates: live nodes available this round, with their priorities.
  std::vector<std::pair<uint64_t, uint32_t>> candidates;
  for (uint32_t i = 0; i < nodes.size(); ++i) {
    NodeSlot& slot = nodes[i];
    slot.participant = false;
    if (!slot.joined || !slot.alive || !Available(round, i)) continue;
    candidates.emplace_back(DeriveSeed(config_.seed, kCohortDraw, round, i), i);
  }
  const uint32_t asked = KeepLowest(candidates);
  uint32_t nodes_asked = 0;  // a relay stands for its nodes (relay_topology.h)
  for (uint32_t k = 0; k < asked; ++k) {
    NodeSlot& slot = nodes[candidates[k].second];
    slot.participant = true;
    nodes_asked += slot.serves;
  }
  return nodes_asked;
}

}  // namespace edgefl
