// The built-in boards' figures, and each node's profile, link and
// participation (experiment_config.h, DeviceProfile).
#include <algorithm>
#include <numeric>

#include "experiment/experiment_config.h"

namespace edgefl {
namespace {

Status Bad(const char* format, auto... args) { return Status::Error(StatusCode::kInvalidArgument, format, args...); }

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
  Participation p{.availability = round.availability, .dropout = round.dropout, .schedule = round.schedule};
  if (const DeviceProfile* profile = ProfileOf(node)) {
    if (profile->availability >= 0.0) p.availability = profile->availability;
    if (profile->dropout >= 0.0) p.dropout = profile->dropout;
    if (profile->schedule.period > 0) p.schedule = profile->schedule;
  }
  return p;
}

Status CheckProfiles(const ExperimentConfig& c) {
  uint64_t first = 0;
  EDGEFL_RETURN_IF_ERROR(CheckSchedule(c.round.schedule, "round"));
  for (const DeviceProfile& profile : c.profiles) {
    if (first + profile.nodes > c.nodes) {
      return Bad("profile \"%s\": its %u nodes take ids %llu..%llu, past run.nodes = %u", profile.name.c_str(),
                 profile.nodes, static_cast<unsigned long long>(first),
                 static_cast<unsigned long long>(first + profile.nodes - 1), c.nodes);
    }
    if (const Status s = codec::ValidateTaskSpec(c.TaskFor(static_cast<uint32_t>(first))); !s.ok()) {
      return Bad("profile \"%s\": %s", profile.name.c_str(), s.message());
    }
    const std::string where = "profile \"" + profile.name + "\"";
    EDGEFL_RETURN_IF_ERROR(CheckSchedule(profile.schedule, where.c_str()));
    first += profile.nodes;
  }

  // Every round needs a quorum of the population on schedule: a round
  // without one could never step, and the run would stop there. The counts
  // repeat with the periods' least common multiple, so at most that many
  // rounds (or the run's) are counted.
  struct Group {
    uint32_t nodes;
    AvailabilitySchedule schedule;
  };
  std::vector<Group> groups;
  uint64_t profiled = 0;
  for (const DeviceProfile& profile : c.profiles) {
    groups.push_back({profile.nodes, profile.schedule.period > 0 ? profile.schedule : c.round.schedule});
    profiled += profile.nodes;
  }
  groups.push_back({static_cast<uint32_t>(c.nodes - profiled), c.round.schedule});
  uint64_t cycle = 1;
  for (const Group& g : groups) {
    if (g.schedule.period > 0) cycle = std::min<uint64_t>(std::lcm(cycle, g.schedule.period), c.rounds);
  }
  const uint32_t quorum = c.QuorumCount();
  for (uint32_t round = 0; round < std::min<uint64_t>(cycle, c.rounds); ++round) {
    uint32_t on = 0;
    for (const Group& g : groups) on += g.schedule.Includes(round) ? g.nodes : 0;
    if (on < quorum) {
      return Bad("the availability schedules leave %u of run.nodes = %u nodes on schedule in round %u, fewer than "
                 "the quorum of %u (round.quorum x the cohort): such a round could never step",
                 on, c.nodes, round, quorum);
    }
  }
  return Status::Ok();
}

}  // namespace edgefl
