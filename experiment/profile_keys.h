// The one declaration of every key of a [[profile]] table (a DeviceProfile,
// experiment_config.h), as config_keys.h declares the run's: reading a
// profile, writing it back and docs/config.md's table follow from
// VisitProfileKeys, with config_keys.h's visitors.
#pragma once

#include <cstdint>

#include "experiment/config_keys.h"

namespace edgefl {

static_assert(sizeof(DeviceProfile) == 112, "a new profile field needs its key in VisitProfileKeys");

// Every key of a [[profile]] table; the visitor is config_keys.h's, with
// the section "profile".
template <typename Profile, typename Visitor>
void VisitProfileKeys(Profile& p, Visitor& v) {
  v.Section("profile");
  v.Text("name", p.name, {"What the profile is called in messages and the coordinator's log."});
  v.Integer("nodes", p.nodes, 1, 4096, {"How many of `run.nodes` the profile holds (ids in file order)."});
  v.Word("board", p.board, BoardNames(),
         {"A built-in board: its compute factor against a Pi 5 and its default memory budget (below)."});
  v.Word("preset", p.preset, LinkPresetNames(), {"The profile's link preset, as `link.preset`."});
  v.Number("uplink_bps", p.uplink_bps, {0.0, 1e12, false, false}, {"As `link.uplink_bps`; 0: the preset's."});
  v.Number("downlink_bps", p.downlink_bps, {0.0, 1e12, false, false}, {"As `link.downlink_bps`; 0: the uplink's."});
  v.Number("latency_ms", p.latency_ms, {-1.0, 3600000.0, false, false},
           {"One-way latency; −1 takes `link.latency_ms`.", "[−1, 3600000]"});
  v.Number("compute_ms", p.compute_ms, {-1.0, 3600000.0, false, false},
           {"A round's computation on this board; −1 takes the board's factor times `link.compute_ms`.",
            "[−1, 3600000]"});
  v.Integer("memory_budget", p.memory_budget_bytes, 0, INT64_MAX,
            {"Bytes a node of this profile may use (`edgefl-node --memory-budget`); 0 takes the board's.",
             "[0, 2^63 − 1]"});
  v.Number("availability", p.availability, {-1.0, 1.0, false, false},
           {"As `round.availability`; −1 takes it.", "−1, or (0, 1]"});
  v.Number("dropout", p.dropout, {-1.0, 1.0, false, true}, {"As `round.dropout`; −1 takes it.", "−1, or [0, 1)"});
  v.Integer("schedule_period", p.schedule.period, 0, 1000000,
            {"As `round.schedule_period`, for this profile's nodes; 0 takes [round]'s schedule (all three keys)."});
  v.Integer("schedule_on", p.schedule.on, 0, 1000000, {"As `round.schedule_on`.", "[1, `schedule_period`]"});
  v.Integer("schedule_start", p.schedule.start, 0, 1000000, {"As `round.schedule_start`.", "[0, `schedule_period`)"});
}

}  // namespace edgefl
