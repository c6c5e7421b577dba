// The built-in boards' figures, and each node's profile, link and
// participation (experiment_config.h, DeviceProfile).
#include <algorithm>

#include "experiment/experiment_config.h"

namespace edgefl {
namespace {

constexpr codec::KindName<Board> kBoardNames[] = {
    {Board::kNone, "none"}, {Board::kPiZero2, "pi-zero-2"}, {Board::kPi3, "pi-3"},
    {Board::kPi4, "pi-4"},  {Board::kPi5, "pi-5"},
};

}  // namespace

std::span<const codec::KindName<Board>> BoardNames() { return kBoardNames; }

double BoardComputeFactor(Board board) {
  // Rough CPU-bound ratios against a Pi 5, from Raspberry Pi Ltd's own
  // comparisons: the Pi 5 is 2-3x a Pi 4, a Pi 4 about 2x a Pi 3B+, and the
  // Zero 2 W is the Pi 3's SoC at 1 GHz (docs/config.md, "Device profiles").
  switch (board) {
    case Board::kNone:
    case Board::kPi5:
      return 1.0;
    case Board::kPi4:
      return 2.5;
    case Board::kPi3:
      return 5.0;
    case Board::kPiZero2:
      return 6.5;
  }
  return 1.0;
}

uint64_t BoardMemoryBudgetBytes(Board board) {
  // A quarter of the board's smallest memory, at most 256 MiB: the node's
  // own default rule (node/memory_budget.h) applied to the board.
  switch (board) {
    case Board::kNone:
      return 0;
    case Board::kPiZero2:
      return 128ull << 20;  // 512 MB
    case Board::kPi3:
    case Board::kPi4:
    case Board::kPi5:
      return 256ull << 20;  // 1 GB and more
  }
  return 0;
}

const DeviceProfile* ExperimentConfig::ProfileOf(uint32_t node) const {
  uint32_t first = 0;
  for (const DeviceProfile& profile : profiles) {
    if (node < first + profile.nodes) return &profile;
    first += profile.nodes;
  }
  return nullptr;
}

LinkConfig ExperimentConfig::LinkOf(uint32_t node) const {
  const DeviceProfile* profile = ProfileOf(node);
  if (profile == nullptr) return link;
  LinkConfig own = link;  // the shaping mode is the run's
  if (profile->preset != LinkPreset::kNone || profile->uplink_bps > 0.0) {
    own.preset = profile->preset;
    own.uplink_bps = profile->uplink_bps;
    own.downlink_bps = profile->downlink_bps;
  }
  if (profile->latency_ms >= 0.0) own.latency_ms = profile->latency_ms;
  own.compute_ms = profile->compute_ms >= 0.0 ? profile->compute_ms : BoardComputeFactor(profile->board) * link.compute_ms;
  return own;
}

ExperimentConfig::Participation ExperimentConfig::ParticipationOf(uint32_t node) const {
  Participation p{.availability = round.availability, .dropout = round.dropout};
  if (const DeviceProfile* profile = ProfileOf(node)) {
    if (profile->availability >= 0.0) p.availability = profile->availability;
    if (profile->dropout >= 0.0) p.dropout = profile->dropout;
  }
  return p;
}

}  // namespace edgefl
